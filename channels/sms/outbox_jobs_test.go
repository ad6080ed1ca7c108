package sms_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
)

// told records what Undelivered was told.
type told struct {
	mu      sync.Mutex
	reasons []string
}

func (t *told) undelivered(_ context.Context, conv bot.ConversationID, optedOut bool, reason string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reasons = append(t.reasons, fmt.Sprintf("%s opted out %v: %s", conv, optedOut, reason))
}

func (t *told) all() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]string(nil), t.reasons...)
}

func jobs(t *testing.T, o *sms.Outbox) []sms.OutboxJob {
	t.Helper()
	js, err := o.Jobs(context.Background())
	require.NoError(t, err)
	return js
}

func deadCount(t *testing.T, o *sms.Outbox) int64 {
	t.Helper()
	n, err := o.DeadCount(context.Background())
	require.NoError(t, err)
	return n
}

func bodies(f *fakeTwilio) []string {
	var out []string
	for _, m := range f.texts() {
		out = append(out, m.Body)
	}
	return out
}

// A text Twilio refuses for good lands on the dead list once, the officer
// is told once; a retry sends it once; a drop removes another for good.
func TestOutboxDeadTextIsRetriedOnceOrDropped(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.Undelivered = officer.undelivered })

	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k1", Conversation: "conv-a", To: tenant, Body: "Your locksmith comes at 3"}))
	r.twilio.fail(twilioError(400, 21211))
	drain(t, o)
	r.advance(time.Hour)
	drain(t, o)
	assert.Empty(t, r.twilio.texts())
	assert.Equal(t, []string{"conv-a opted out false: Twilio refused it (error 21211)"}, officer.all(), "told once")

	js := jobs(t, o)
	require.Len(t, js, 1, "on the dead list once")
	dead := js[0]
	assert.Equal(t, sms.JobDead, dead.State)
	assert.Equal(t, bot.ConversationID("conv-a"), dead.Conversation)
	assert.Equal(t, 1, dead.Attempts)
	assert.Equal(t, "twilio", dead.ErrClass)
	assert.Equal(t, 21211, dead.ErrCode)
	assert.False(t, dead.Unsure)
	assert.True(t, r.clock().Add(-time.Hour).Equal(dead.Queued), "queued %s", dead.Queued)
	assert.True(t, r.clock().Add(-time.Hour).Equal(dead.GaveUp), "given up %s", dead.GaveUp)
	assert.EqualValues(t, 1, deadCount(t, o))
	state, _, err := o.Status(ctx, "k1")
	require.NoError(t, err)
	assert.Equal(t, sms.StateFailed, state)

	// A person puts it back; Twilio takes it now.
	require.NoError(t, o.RetryDead(ctx, dead.ID))
	js = jobs(t, o)
	require.Len(t, js, 1)
	assert.Equal(t, sms.JobQueued, js[0].State)
	assert.Zero(t, js[0].Attempts, "attempts counted afresh")
	assert.ErrorIs(t, o.RetryDead(ctx, dead.ID), sms.ErrNoJob, "retried once")
	drain(t, o)
	r.advance(time.Hour)
	drain(t, o)
	assert.Equal(t, []string{"Your locksmith comes at 3"}, bodies(r.twilio), "sent once")
	assert.Empty(t, jobs(t, o))
	assert.Zero(t, deadCount(t, o))
	state, _, err = o.Status(ctx, "k1")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)

	// Another dies, and is dropped: it never goes, even queued again.
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k2", Conversation: "conv-a", To: tenant, Body: "Call us back"}))
	r.twilio.fail(twilioError(400, 21211))
	drain(t, o)
	js = jobs(t, o)
	require.Len(t, js, 1)
	wasDead, err := o.Drop(ctx, js[0].ID)
	require.NoError(t, err)
	assert.True(t, wasDead)
	assert.Empty(t, jobs(t, o))
	assert.Zero(t, deadCount(t, o))
	assert.ErrorIs(t, o.RetryDead(ctx, js[0].ID), sms.ErrNoJob)
	_, err = o.Drop(ctx, js[0].ID)
	assert.ErrorIs(t, err, sms.ErrNoJob)
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k2", Conversation: "conv-a", To: tenant, Body: "Call us back"}))
	r.advance(time.Hour)
	drain(t, o)
	assert.Equal(t, []string{"Your locksmith comes at 3"}, bodies(r.twilio), "a dropped text is not sent")
	state, _, err = o.Status(ctx, "k2")
	require.NoError(t, err)
	assert.Equal(t, sms.StateDropped, state)
	assertNoWords(t, r, "Call us back")
}

// assertNoWords fails if any of the outbox's keys still holds the words,
// sealed or not: a dropped or cancelled text's payload is erased.
func assertNoWords(t *testing.T, r *outboxRig, body string) {
	t.Helper()
	ctx := context.Background()
	rdb := storetest.Redis(t)
	for _, k := range storetest.Keys(t, rdb, r.prefix+"*") {
		if rdb.Type(ctx, k).Val() != "hash" {
			continue
		}
		p := rdb.HGet(ctx, k, "p").Val()
		if p == "" {
			continue
		}
		// Each payload still sealed opens with the rig's key and id.
		id := k[strings.LastIndex(k, ":")+1:]
		plain, err := r.sealer.Open([]byte(p), []byte(id))
		require.NoError(t, err)
		assert.NotContains(t, string(plain), body, k)
	}
}

// A text that runs out of attempts is given up onto the dead list with its
// last error; one still failing is listed as waiting, and a drop stops it.
func TestOutboxOutOfAttemptsGoesDeadAndAWaitingTextCanBeDropped(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.MaxAttempts = 3
		opts.Undelivered = officer.undelivered
	})
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a", Conversation: "conv-a", To: tenant, Body: "first"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "b", Conversation: "conv-b", To: "+447700900999", Body: "other"}))
	for range 4 {
		r.twilio.fail(status(503, ""))
	}
	drain(t, o) // one attempt at each
	js := jobs(t, o)
	require.Len(t, js, 2)
	for _, j := range js {
		// After a server error the text is looked up before it is
		// sent again.
		assert.Equal(t, sms.JobUnsure, j.State)
		assert.Equal(t, 1, j.Attempts)
		assert.Equal(t, "twilio", j.ErrClass)
		assert.Equal(t, 20500, j.ErrCode)
		assert.True(t, j.NextTry.After(r.clock()), "backing off")
	}
	// Stop conv-b's text while it waits.
	var b sms.OutboxJob
	for _, j := range js {
		if j.Conversation == "conv-b" {
			b = j
		}
	}
	wasDead, err := o.Drop(ctx, b.ID)
	require.NoError(t, err)
	assert.False(t, wasDead)

	for range 4 {
		r.advance(time.Minute)
		drain(t, o)
	}
	assert.Empty(t, r.twilio.texts(), "conv-a's text ran out of attempts; conv-b's was dropped")
	js = jobs(t, o)
	require.Len(t, js, 1)
	assert.Equal(t, bot.ConversationID("conv-a"), js[0].Conversation)
	assert.Equal(t, sms.JobDead, js[0].State)
	assert.Equal(t, 3, js[0].Attempts)
	assert.Equal(t, "conv-a opted out false: Twilio did not take it after 3 attempts", strings.Join(officer.all(), "|"))
}

// A text whose last attempt went unanswered may have gone: retried from
// the dead list, it is looked up first and not sent again.
func TestOutboxRetriedUnsureTextIsLookedUpFirst(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.MaxAttempts = 1 })
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Are you free at 3?"}))
	r.twilio.fail(acceptThenDrop())
	drain(t, o)
	js := jobs(t, o)
	require.Len(t, js, 1)
	assert.Equal(t, sms.JobDead, js[0].State)
	assert.True(t, js[0].Unsure)
	assert.Equal(t, "no-answer", js[0].ErrClass)

	require.NoError(t, o.RetryDead(ctx, js[0].ID))
	assert.Equal(t, sms.JobUnsure, jobs(t, o)[0].State)
	drain(t, o)
	assert.Len(t, r.twilio.texts(), 1)
	assert.Equal(t, 1, r.twilio.calls, "found, not sent again")
	state, _, err := o.Status(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)
}

// A text being tried cannot be dropped under the worker.
func TestOutboxDropWaitsForAnAttemptUnderWay(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	alive := r.process(5 * time.Second)
	gate := func(context.Context, bot.ConversationID) (bool, error) { return true, nil }
	hung := sms.NewOutbox(storetest.Redis(t), r.sealer, hangingSender{}, gate, sms.OutboxOptions{Prefix: r.prefix, Now: r.clock})
	require.NoError(t, alive.Enqueue(ctx, sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Reply when safe."}))

	sending, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		hung.SendNext(sending)
	}()
	var js []sms.OutboxJob
	for { // wait until the worker holds it
		if js = jobs(t, alive); len(js) == 1 && js[0].State == sms.JobSending {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	_, err := alive.Drop(ctx, js[0].ID)
	assert.ErrorIs(t, err, sms.ErrJobBusy)
	stop()
	<-done

	// The worker died mid-send; once its lease is over the text can go.
	r.advance(31 * time.Second)
	js = jobs(t, alive)
	require.Len(t, js, 1)
	assert.Equal(t, sms.JobUnsure, js[0].State)
	_, err = alive.Drop(ctx, js[0].ID)
	require.NoError(t, err)
	drain(t, alive)
	assert.Empty(t, r.twilio.texts())
}

// The dead list keeps the newest DeadMax texts, for DeadTTL.
func TestOutboxDeadListIsBounded(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.DeadMax = 2
		opts.DeadTTL = 24 * time.Hour
	})
	for i := range 3 {
		require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: fmt.Sprint("k", i), Conversation: "conv-a", To: tenant, Body: fmt.Sprint("text ", i)}))
		r.twilio.fail(twilioError(400, 21211))
		drain(t, o)
		r.advance(time.Minute)
	}
	js := jobs(t, o)
	require.Len(t, js, 2, "the oldest went")
	assert.True(t, js[0].GaveUp.After(js[1].GaveUp), "newest first")
	assert.EqualValues(t, 2, deadCount(t, o))

	rdb := storetest.Redis(t)
	for _, k := range storetest.Keys(t, rdb, r.prefix+"*dead") {
		ttl := rdb.PTTL(ctx, k).Val()
		assert.Positive(t, ttl, k)
		assert.LessOrEqual(t, ttl, 24*time.Hour, k)
	}
	r.advance(25 * time.Hour)
	assert.Empty(t, jobs(t, o), "past DeadTTL")
	assert.Zero(t, deadCount(t, o))
}

// Twilio took a text the phone network did not deliver: the officer is
// told once, and a person can send it again, once.
func TestOutboxUndeliveredTextCanBeSentAgain(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.Undelivered = officer.undelivered })
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "We can visit Tuesday"}))
	drain(t, o)
	first := r.twilio.texts()
	require.Len(t, first, 1)
	for _, st := range []string{"sent", "undelivered", "undelivered"} {
		require.NoError(t, o.RecordStatus(ctx, first[0].SID, st))
	}
	js := jobs(t, o)
	require.Len(t, js, 1)
	assert.Equal(t, sms.JobDead, js[0].State)
	assert.Equal(t, "undelivered", js[0].ErrClass)
	assert.Len(t, officer.all(), 1)

	require.NoError(t, o.RetryDead(ctx, js[0].ID))
	drain(t, o)
	texts := r.twilio.texts()
	require.Len(t, texts, 2, "sent again, once")
	// A late status for the first sending changes nothing.
	require.NoError(t, o.RecordStatus(ctx, first[0].SID, "failed"))
	assert.Empty(t, jobs(t, o))
	require.NoError(t, o.RecordStatus(ctx, texts[1].SID, "delivered"))
	_, delivery, err := o.Status(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, "delivered", delivery)
}

// Every outbox key carries the one hash tag, so that each script's keys
// share a cluster slot.
func TestOutboxKeysShareOneHashTag(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	o := r.process(5 * time.Second)
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a", Conversation: "conv-a", To: tenant, Body: "one"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "b", Conversation: "conv-b", To: tenant, Body: "two"}))
	r.twilio.fail(twilioError(400, 21211))
	drain(t, o)
	keys := storetest.Keys(t, storetest.Redis(t), r.prefix+"*")
	require.NotEmpty(t, keys)
	for _, k := range keys {
		rest := strings.TrimPrefix(k, r.prefix)
		assert.True(t, strings.HasPrefix(rest, "{outbox}:"), k)
	}
}
