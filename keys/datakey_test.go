package keys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/keys"
	"github.com/safecontact/safecontact/redisconn"
	"github.com/safecontact/safecontact/seal"
)

// The masters of the tests: the deployment's first, the one it changes
// to, and one that was never its key.
const (
	newMaster   = "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	wrongMaster = "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100"
	tenant      = "+447700900123"
)

// redisRig is a Redis under a test's own prefix, with a log of every
// Open, checked for key material at the end of the test.
type redisRig struct {
	t      *testing.T
	rdb    redis.UniversalClient
	prefix string
	logs   *syncBuffer
	errs   []string
	mu     sync.Mutex
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newRedisRig(t *testing.T) *redisRig {
	t.Helper()
	r := &redisRig{t: t, rdb: storetest.Redis(t), prefix: storetest.Prefix(t), logs: &syncBuffer{}}
	t.Cleanup(func() {
		// One key at a time: on a cluster a test's keys are in several
		// slots.
		for _, k := range storetest.Keys(t, r.rdb, r.prefix+"*") {
			r.rdb.Del(context.Background(), k)
		}
	})
	t.Cleanup(r.noKeyMaterial)
	return r
}

// open runs keys.Open as a process with these settings would.
func (r *redisRig) open(current, previous string) (keys.Keys, error) {
	k, err := keys.Open(context.Background(), r.rdb, keys.Masters{Current: current, Previous: previous}, r.prefix,
		slog.New(slog.NewJSONHandler(r.logs, nil)))
	if err != nil {
		r.mu.Lock()
		r.errs = append(r.errs, err.Error())
		r.mu.Unlock()
	}
	return k, err
}

func (r *redisRig) mustOpen(current, previous string) keys.Keys {
	r.t.Helper()
	k, err := r.open(current, previous)
	require.NoError(r.t, err)
	return k
}

// wraps is how many masters open the data key.
func (r *redisRig) wraps() int {
	r.t.Helper()
	fields, err := r.rdb.HKeys(context.Background(), r.prefix+keys.DataKey).Result()
	require.NoError(r.t, err)
	n := 0
	for _, f := range fields {
		if f != "newest" {
			n++
		}
	}
	return n
}

// seal stores a value sealed as the stores do, and unseal reads it back.
func (r *redisRig) seal(k keys.Keys, name, plain string) {
	r.t.Helper()
	s, err := seal.New(k.Seal)
	require.NoError(r.t, err)
	require.NoError(r.t, r.rdb.Set(context.Background(), r.prefix+name, s.Seal([]byte(plain), []byte(name)), 0).Err())
}

func (r *redisRig) unseal(k keys.Keys, name string) string {
	r.t.Helper()
	s, err := seal.New(k.Seal)
	require.NoError(r.t, err)
	stored, err := r.rdb.Get(context.Background(), r.prefix+name).Bytes()
	require.NoError(r.t, err)
	plain, err := s.Open(stored, []byte(name))
	require.NoError(r.t, err, "the stored value opens")
	return string(plain)
}

// legacy makes the Redis as the build before the data key left it: the
// key check sealed with the keys derived from the master itself, and a
// conversation sealed with them.
func (r *redisRig) legacy(m string) keys.Keys {
	r.t.Helper()
	k, err := keys.Derive(m, discard())
	require.NoError(r.t, err)
	s, err := seal.New(k.Seal)
	require.NoError(r.t, err)
	name := r.prefix + keys.CheckKey
	require.NoError(r.t, r.rdb.Set(context.Background(), name, s.Seal([]byte("safecontact key check v1"), []byte(name)), 0).Err())
	r.seal(k, "conversation", "what the tenant wrote")
	return k
}

// oldBuildOpens reports whether the build before the data key would
// start with master m on this Redis: its check opened the key check
// with the keys derived from m.
func (r *redisRig) oldBuildOpens(m string) bool {
	r.t.Helper()
	k, err := keys.Derive(m, discard())
	require.NoError(r.t, err)
	s, err := seal.New(k.Seal)
	require.NoError(r.t, err)
	name := r.prefix + keys.CheckKey
	stored, err := r.rdb.Get(context.Background(), name).Bytes()
	require.NoError(r.t, err)
	_, err = s.Open(stored, []byte(name))
	return err == nil
}

// noKeyMaterial fails the test if a master, a data key or a derived key
// appears in the logs or an error, in hex or base64.
func (r *redisRig) noKeyMaterial() {
	var secrets [][]byte
	for _, m := range []string{master, newMaster, wrongMaster} {
		b, _ := hex.DecodeString(m)
		secrets = append(secrets, b)
		k, _ := keys.Derive(m, discard())
		secrets = append(secrets, k.Seal, k.ID, k.WebChat)
	}
	wrapped, _ := r.rdb.HGetAll(context.Background(), r.prefix+keys.DataKey).Result()
	for _, w := range wrapped {
		secrets = append(secrets, []byte(w))
	}
	text := r.logs.String() + strings.Join(r.errs, "\n")
	for _, s := range secrets {
		for _, form := range []string{hex.EncodeToString(s), base64.StdEncoding.EncodeToString(s), base64.RawURLEncoding.EncodeToString(s)} {
			if strings.Contains(text, form[:16]) {
				r.t.Errorf("key material in the logs or errors: %s", text)
				return
			}
		}
	}
}

// A deployment made before the data key keeps its conversation ids and
// reads what it stored: its master is its data key.
func TestOpenUpgradesADeploymentFromBeforeTheDataKey(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	before := r.legacy(master)
	after := r.mustOpen(master, "")
	assert.Equal(t, before, after, "every derived key is the same")
	assert.Equal(t, bot.NewKeyer(before.ID).ID(bot.ChannelSMS, tenant), bot.NewKeyer(after.ID).ID(bot.ChannelSMS, tenant))
	assert.Equal(t, "what the tenant wrote", r.unseal(after, "conversation"))
	assert.Equal(t, 1, r.wraps(), "the data key is wrapped under the master")
	assert.True(t, r.oldBuildOpens(master), "a process of the older build still starts")
	assert.Contains(t, r.logs.String(), "SAFECONTACT_KEY is kept as its data key")

	assert.Equal(t, after, r.mustOpen(master, ""), "the next start reads the wrap")
}

// A new Redis gets a random data key, which an older build's process
// cannot mistake for its master.
func TestOpenMakesARandomDataKeyOnANewRedis(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	k := r.mustOpen(master, "")
	fromMaster, err := keys.Derive(master, discard())
	require.NoError(t, err)
	assert.NotEqual(t, fromMaster.Seal, k.Seal)
	assert.NotEqual(t, fromMaster.ID, k.ID)
	assert.Len(t, k.Seal, 32)
	assert.Equal(t, 1, r.wraps())
	assert.False(t, r.oldBuildOpens(master), "an older build refuses to start on it")
	assert.Equal(t, k, r.mustOpen(master, ""), "the next start has the same keys")

	other := newRedisRig(t)
	assert.NotEqual(t, k, other.mustOpen(master, ""), "each Redis its own data key")
}

// Changing the key: first every process gets the new key with the old as
// previous, then the new alone; ids and data stay; at the end the old key
// opens nothing.
func TestRotation(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(r *redisRig) keys.Keys
	}{
		{"from before the data key", func(r *redisRig) keys.Keys { return r.legacy(master) }},
		{"random data key", func(r *redisRig) keys.Keys {
			k := r.mustOpen(master, "")
			r.seal(k, "conversation", "what the tenant wrote")
			return k
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRedisRig(t)
			k := tc.start(r)
			id := bot.NewKeyer(k.ID).ID(bot.ChannelSMS, tenant)

			// Step 1: the new key, with the old as previous.
			require.Equal(t, k, r.mustOpen(newMaster, master))
			assert.Equal(t, 2, r.wraps(), "wrapped under both keys")
			assert.Equal(t, k, r.mustOpen(newMaster, master), "again")
			assert.Equal(t, k, r.mustOpen(master, ""), "a process still on the old key alone starts meanwhile")
			assert.Equal(t, 2, r.wraps(), "and does not remove the newer key's wrap")
			assert.Contains(t, r.logs.String(), "a change of key is under way, and this process has only the old key")
			assert.Contains(t, r.logs.String(), "SAFECONTACT_KEY_PREVIOUS is set")

			// Step 2: the new key alone retires the old.
			k2 := r.mustOpen(newMaster, "")
			assert.Equal(t, k, k2)
			assert.Equal(t, id, bot.NewKeyer(k2.ID).ID(bot.ChannelSMS, tenant), "the conversation keeps its id")
			assert.Equal(t, "what the tenant wrote", r.unseal(k2, "conversation"))
			assert.Equal(t, 1, r.wraps(), "the old key's wrap is gone")

			_, err := r.open(master, "")
			require.ErrorIs(t, err, keys.ErrWrongKey, "the old key alone opens nothing")
			assert.Equal(t, k, r.mustOpen(newMaster, master), "previous, left set, is harmless")
			assert.Equal(t, 1, r.wraps(), "and does not bring the old wrap back")
			assert.Equal(t, k, r.mustOpen(newMaster, ""))
		})
	}
}

// A rotation started on a deployment from before the data key, in one
// go: the old key alone still starts until the new one is alone.
func TestRotationOnUpgrade(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	k := r.legacy(master)
	assert.Equal(t, k, r.mustOpen(newMaster, master))
	assert.Equal(t, 2, r.wraps(), "under the new key, and the old for processes yet to change")
	assert.Contains(t, r.logs.String(), "SAFECONTACT_KEY_PREVIOUS is kept as its data key")
	assert.Equal(t, k, r.mustOpen(newMaster, ""))
	_, err := r.open(master, "")
	require.ErrorIs(t, err, keys.ErrWrongKey)
}

func TestOpenRefusesTheWrongKey(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start func(r *redisRig)
	}{
		{"from before the data key", func(r *redisRig) { r.legacy(master) }},
		{"data key", func(r *redisRig) { r.mustOpen(master, "") }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := newRedisRig(t)
			tc.start(r)
			before, err := r.rdb.HGetAll(context.Background(), r.prefix+keys.DataKey).Result()
			require.NoError(t, err)

			_, err = r.open(wrongMaster, "")
			require.ErrorIs(t, err, keys.ErrWrongKey)
			assert.Contains(t, err.Error(), "SAFECONTACT_KEY is not the key this Redis's data was written with, and SAFECONTACT_KEY_PREVIOUS is not set")
			assert.Contains(t, err.Error(), "refusing to start")

			_, err = r.open(wrongMaster, newMaster)
			require.ErrorIs(t, err, keys.ErrWrongKey)
			assert.Contains(t, err.Error(), "SAFECONTACT_KEY is not the key this Redis's data was written with, nor is SAFECONTACT_KEY_PREVIOUS")

			after, err := r.rdb.HGetAll(context.Background(), r.prefix+keys.DataKey).Result()
			require.NoError(t, err)
			assert.Equal(t, before, after, "a refused process writes nothing")
			r.mustOpen(master, "")
		})
	}
}

// A data key that opens but not the data (another deployment's key check
// in this Redis) is refused too.
func TestOpenRefusesAKeyCheckFromAnotherKey(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	r.legacy(wrongMaster)
	other := newRedisRig(t)
	other.mustOpen(master, "")
	wrapped, err := other.rdb.HGetAll(context.Background(), other.prefix+keys.DataKey).Result()
	require.NoError(t, err)
	for f, v := range wrapped {
		require.NoError(t, r.rdb.HSet(context.Background(), r.prefix+keys.DataKey, f, v).Err())
	}
	_, err = r.open(master, "")
	require.ErrorIs(t, err, keys.ErrWrongKey)
	assert.Contains(t, err.Error(), "keycheck was sealed with another")
}

func TestOpenRefusesABadKey(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	_, err := r.open("not a key", "")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "SAFECONTACT_KEY: "), err.Error())
	_, err = r.open(master, "not a key either")
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "SAFECONTACT_KEY_PREVIOUS: "), err.Error())
	assert.NotContains(t, err.Error(), "not a key either")
	assert.False(t, errors.Is(err, keys.ErrWrongKey))
	assert.Zero(t, r.wraps(), "nothing written")
}

// Processes starting at once on a new Redis agree on one data key.
func TestOpenAtOnceAgrees(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	const n = 16
	got := make([]keys.Keys, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var err error
			got[i], err = r.open(master, "")
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	for i := range n {
		assert.Equal(t, got[0], got[i])
	}
	assert.Equal(t, 1, r.wraps())
	assert.Equal(t, 1, strings.Count(r.logs.String(), "new data key"), "one process made it")
}

// A deployment from before the key check (data, but no check) keeps its
// keys too: data written without a check was sealed with the master's own
// keys, and a random data key would make all of it unreadable.
func TestOpenUpgradesADeploymentFromBeforeTheKeyCheck(t *testing.T) {
	t.Parallel()
	r := newRedisRig(t)
	before, err := keys.Derive(master, discard())
	require.NoError(t, err)
	r.seal(before, "conversation", "what the tenant wrote")
	_, err = r.open(master, newMaster)
	require.Error(t, err, "with two keys it cannot tell which wrote the data")
	assert.Contains(t, err.Error(), "start once with SAFECONTACT_KEY alone")
	after := r.mustOpen(master, "")
	assert.Equal(t, before, after, "every derived key is the same")
	assert.Equal(t, "what the tenant wrote", r.unseal(after, "conversation"))
	r.noKeyMaterial()
}

// The data written before the key check is found on whichever primary
// holds it: on a cluster each primary holds only its own slots, and a
// scan of one would take a used Redis for a new one and give it a random
// data key.
func TestOpenFindsDataOnEveryPrimary(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var nodes []*redis.Client
	require.NoError(t, redisconn.ForEachPrimary(context.Background(), storetest.Redis(t), func(_ context.Context, node *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, node)
		return nil
	}))
	require.NotEmpty(t, nodes)
	for i, node := range nodes {
		r := newRedisRig(t)
		before, err := keys.Derive(master, discard())
		require.NoError(t, err)
		s, err := seal.New(before.Seal)
		require.NoError(t, err)
		// A name this primary serves: another answers MOVED.
		stored := ""
		for n := 0; n < 100000 && stored == ""; n++ {
			name := fmt.Sprintf("conversation%d", n)
			if node.Set(context.Background(), r.prefix+name, s.Seal([]byte("what the tenant wrote"), []byte(name)), 0).Err() == nil {
				stored = name
			}
		}
		require.NotEmpty(t, stored, "primary %d serves no name tried", i)
		_, err = r.open(master, newMaster)
		require.Error(t, err, "primary %d of %d: the data on it was not found", i+1, len(nodes))
		assert.Contains(t, err.Error(), "start once with SAFECONTACT_KEY alone")
		assert.Equal(t, before, r.mustOpen(master, ""), "primary %d: every derived key is the same", i+1)
		assert.Equal(t, "what the tenant wrote", r.unseal(before, stored))
	}
}
