package main

import (
	"context"
	"flag"
	"log/slog"
	"net/url"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/keys"
	"github.com/safecontact/safecontact/redisconn"
)

// rotationDB is the Redis database of the key rotation test. serve's
// keys have fixed names (sc:datakey among them), shared by every other
// test here on database 0 with testKey: retiring testKey there would stop
// them, so this test has a database of its own, emptied before and after.
const rotationDB = "9"

// Changing SAFECONTACT_KEY as README's "Changing the key" says: a tenant's
// conversation begun under the old key goes on under the new, and once
// the new key is alone, the old no longer starts a process.
func TestKeyRotationKeepsConversations(t *testing.T) {
	storetest.Redis(t) // skips (or fails under CI) without REDIS_URL
	if m := os.Getenv("REDIS_MODE"); m != "" && m != redisconn.Single {
		t.Skipf("the test changes the key on a database of its own, which a %s does not have; the key's checks on every shape are package keys' tests", m)
	}
	u, err := url.Parse(os.Getenv("REDIS_URL"))
	require.NoError(t, err)
	u.Path = "/" + rotationDB
	opts, err := redis.ParseURL(u.String())
	require.NoError(t, err)
	db := redis.NewClient(opts)
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	require.NoError(t, db.FlushDB(ctx).Err())
	t.Cleanup(func() { db.FlushDB(context.Background()) })

	const newKey = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
	r := newOfficersRigWith(t, map[string]string{"REDIS_URL": u.String()})
	half := len(intake) / 2
	for _, line := range intake[:half] {
		r.text(line)
	}

	// Step 1: the new key, with the old as previous.
	r.env["SAFECONTACT_KEY"], r.env["SAFECONTACT_KEY_PREVIOUS"] = newKey, testKey
	r.base = r.another()
	for _, line := range intake[half:] {
		r.text(line)
	}
	card := r.card("C-SHROP", 1) // the intake went on where it was
	id := caseID(t, card)
	wraps, err := db.HLen(ctx, "sc:"+keys.DataKey).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 3, wraps, "two wraps and the newest's name")

	// Step 2: the new key alone.
	delete(r.env, "SAFECONTACT_KEY_PREVIOUS")
	r.base = r.another()
	r.slackBase = r.base
	r.claim("U-ALICE", "C-SHROP", card.TS, id)
	r.text("I can talk after 6")
	r.waitThread(card.TS, "I can talk after 6")
	wraps, err = db.HLen(ctx, "sc:"+keys.DataKey).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 2, wraps, "the old key's wrap is gone")

	// The old key alone opens nothing now.
	env := map[string]string{"REDIS_URL": u.String(), "SAFECONTACT_KEY": testKey, "SAFECONTACT_ADDR": "127.0.0.1:0"}
	cfg, err := loadConfig(func(k string) string { return env[k] }, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	require.NoError(t, err)
	_, err = NewMain(ctx, cfg, slog.New(slog.DiscardHandler))
	require.ErrorIs(t, err, keys.ErrWrongKey)
	assert.Contains(t, err.Error(), "SAFECONTACT_KEY_PREVIOUS is not set")
}

func TestKeyPreviousNeedsRedis(t *testing.T) {
	env := map[string]string{"SAFECONTACT_KEY_PREVIOUS": testKey}
	_, err := loadConfig(func(k string) string { return env[k] }, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SAFECONTACT_KEY_PREVIOUS is for changing the key of the data in Redis")
	assert.NotContains(t, err.Error(), testKey)
}
