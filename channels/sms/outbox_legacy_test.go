package sms_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
)

// previousOutbox is the outbox's previous version on the rig's Redis,
// run through its own script (testdata/outbox_previous.lua).
type previousOutbox struct {
	t      *testing.T
	r      *outboxRig
	rdb    redis.UniversalClient
	script *redis.Script
}

func newPreviousOutbox(t *testing.T, r *outboxRig) *previousOutbox {
	if os.Getenv("REDIS_MODE") == "cluster" {
		t.Skip("the previous layout never ran on a cluster: every enqueue failed there")
	}
	src, err := os.ReadFile("testdata/outbox_previous.lua")
	require.NoError(t, err)
	return &previousOutbox{t: t, r: r, rdb: storetest.Redis(t), script: redis.NewScript(string(src))}
}

func previousID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

func (p *previousOutbox) enqueue(key string, conv bot.ConversationID, to, body string) {
	id := previousID(key)
	plain, err := json.Marshal(map[string]any{"to": to, "b": body, "q": p.r.clock()})
	require.NoError(p.t, err)
	pre := p.r.prefix
	err = p.script.Run(context.Background(), p.rdb, []string{pre + "msg:" + id, pre + "conv:{" + string(conv) + "}", pre + "ready"},
		"enqueue", string(conv), p.r.sealer.Seal(plain, []byte(id)), p.r.clock().UnixMilli(), (7 * 24 * time.Hour).Milliseconds(), id).Err()
	require.NoError(p.t, err)
}

// claim is a worker of the previous version taking the first due text
// for 30 seconds.
func (p *previousOutbox) claim() {
	err := p.script.Run(context.Background(), p.rdb, []string{p.r.prefix + "ready"},
		"claim", p.r.clock().UnixMilli(), 30_000, p.r.prefix).Err()
	require.NoError(p.t, err)
}

// runUntil runs a process's outbox until done says so, or 5 seconds.
func runUntil(t *testing.T, o *sms.Outbox, done func() bool) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	ended := make(chan error, 1)
	go func() { ended <- o.Run(ctx) }()
	deadline := time.Now().Add(5 * time.Second)
	for !done() && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	stop()
	require.NoError(t, <-ended)
}

// A rolling upgrade: texts the previous version queued are sent once, in
// order, by the new one; one its worker holds is left to it until its
// lease ends, then looked up before it is sent.
func TestOutboxMovesTextsThePreviousVersionLeftWaiting(t *testing.T) {
	r := newOutboxRig(t)
	prev := newPreviousOutbox(t, r)
	prev.enqueue("held", "conv-b", "+447700900999", "held by an old worker")
	prev.claim()
	prev.enqueue("a1", "conv-a", tenant, "first")
	prev.enqueue("a2", "conv-a", tenant, "second")

	ctx := context.Background()
	fast := func(opts *sms.OutboxOptions) { opts.Poll = 5 * time.Millisecond }
	o := r.process(5*time.Second, fast)
	runUntil(t, o, func() bool { return len(r.twilio.texts()) == 2 })
	assert.Equal(t, []string{"first", "second"}, bodies(r.twilio))
	prev.enqueue("a1", "conv-a", tenant, "first") // a redelivered Slack event, to an old process
	assert.Zero(t, prev.rdb.Exists(ctx, r.prefix+"conv:{conv-a}").Val(), "not queued again")
	state, _, err := o.Status(ctx, "held")
	require.NoError(t, err)
	assert.Empty(t, state, "left to the old worker")

	// The old worker stopped mid-send; it had reached Twilio. A process
	// started after its lease ends takes the text over.
	r.twilio.mu.Lock()
	r.twilio.sent = append(r.twilio.sent, sentText{SID: "SMold", To: "+447700900999", Body: "held by an old worker", Created: r.clock().UTC().Format(time.RFC1123Z)})
	r.twilio.mu.Unlock()
	r.advance(31 * time.Second)
	restarted := r.process(5*time.Second, fast)
	runUntil(t, restarted, func() bool {
		state, _, _ := restarted.Status(ctx, "held")
		return state == sms.StateSent
	})
	state, _, err = restarted.Status(ctx, "held")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)
	assert.Equal(t, 2, r.twilio.calls, "looked up, not sent again")
	assert.Empty(t, storetest.Keys(t, prev.rdb, r.prefix+"conv:{*"), "nothing left in the previous layout")
}

// A delivery status for a text the previous version sent still reaches
// the officer, once.
func TestOutboxStatusOfATextThePreviousVersionSent(t *testing.T) {
	r := newOutboxRig(t)
	prev := newPreviousOutbox(t, r)
	ctx := context.Background()
	id := previousID("k")
	require.NoError(t, prev.rdb.HSet(ctx, r.prefix+"msg:"+id, "c", "conv-a", "s", "sent", "sid", "SM1").Err())
	require.NoError(t, prev.rdb.Expire(ctx, r.prefix+"msg:"+id, time.Hour).Err())
	require.NoError(t, prev.rdb.Set(ctx, r.prefix+"sid:SM1", id, time.Hour).Err())
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.Undelivered = officer.undelivered })
	for _, st := range []string{"sent", "undelivered", "undelivered"} {
		require.NoError(t, o.RecordStatus(ctx, "SM1", st))
	}
	assert.Equal(t, []string{"conv-a opted out false: the phone network did not deliver it (Twilio status undelivered)"}, officer.all())
}
