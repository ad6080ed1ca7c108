package redisstore_test

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

var ctx = context.Background()

func sealer(t testing.TB) *seal.Sealer {
	t.Helper()
	k, err := seal.GenerateKey()
	require.NoError(t, err)
	s, err := seal.New(k)
	require.NoError(t, err)
	return s
}

// second returns another client on the same Redis as rdb.
func second(t testing.TB, _ redis.UniversalClient) redis.UniversalClient {
	return storetest.Redis(t)
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (bot.Store, bot.Store) {
		rdb := storetest.Redis(t)
		sl, opts := sealer(t), redisstore.Options{Prefix: storetest.Prefix(t)}
		return redisstore.New(rdb, sl, opts), redisstore.New(second(t, rdb), sl, opts)
	})
}

func TestTTLOnBothKeys(t *testing.T) {
	rdb := storetest.Redis(t)
	// Each line goes to the log at once.
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t), ChunkLines: 1})
	const id = "ttl"
	c := &bot.Conversation{State: "safe_to_talk"}
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: c, Append: []bot.Line{{Text: "hi"}}, TTL: time.Hour}))
	for _, key := range []string{s.StateKey(id), s.LogKey(id)} {
		ttl, err := rdb.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.InDelta(t, time.Hour.Seconds(), ttl.Seconds(), 60, "%s: TTL %v", key, ttl)
	}
	// A later turn with a longer TTL (a handed-off case) moves both on.
	require.NoError(t, s.Save(ctx, id, 1, bot.Commit{Conversation: c, TTL: 30 * 24 * time.Hour}))
	for _, key := range []string{s.StateKey(id), s.LogKey(id)} {
		ttl, err := rdb.PTTL(ctx, key).Result()
		require.NoError(t, err)
		assert.Greater(t, ttl, 29*24*time.Hour, key)
	}
}

// The seen ids are a sorted set of digests in the conversation's hash tag,
// trimmed to the window on every save, with the window as TTL; an erasure
// leaves them.
func TestSeenIDsKey(t *testing.T) {
	rdb := storetest.Redis(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t)})
	const id = "seenkey"
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	save := func(v int64, c *bot.Conversation, msg string, at time.Time) {
		t.Helper()
		require.NoError(t, s.Save(ctx, id, v, bot.Commit{Conversation: c, Append: []bot.Line{{Text: "x"}}, TTL: time.Hour,
			Seen: bot.SeenIDs{ID: bot.SeenDigest(msg), At: at, Window: 24 * time.Hour}}))
	}
	save(0, &bot.Conversation{State: "s"}, "SM0", at)
	save(1, &bot.Conversation{State: "s"}, "SM1", at.Add(time.Hour))
	key := s.SeenKey(id)
	assert.Equal(t, strings.Replace(s.StateKey(id), ":state", ":seen", 1), key, "same hash tag as the state")
	members, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []redis.Z{
		{Member: bot.SeenDigest("SM0"), Score: float64(at.Unix())},
		{Member: bot.SeenDigest("SM1"), Score: float64(at.Add(time.Hour).Unix())},
	}, members)
	ttl, err := rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.InDelta(t, (24 * time.Hour).Seconds(), ttl.Seconds(), 60, "the window is the TTL, not the state's")

	// A day after SM0, the next save trims it; SM1 stays.
	save(2, &bot.Conversation{State: "s"}, "SM2", at.Add(24*time.Hour))
	members2, err := rdb.ZRange(ctx, key, 0, -1).Result()
	require.NoError(t, err)
	assert.Equal(t, []string{bot.SeenDigest("SM1"), bot.SeenDigest("SM2")}, members2)

	// A tombstone deletes the transcript and keeps the seen ids.
	save(3, &bot.Conversation{Erased: true}, "SM3", at.Add(24*time.Hour+30*time.Minute))
	n, err := rdb.Exists(ctx, s.LogKey(id)).Result()
	require.NoError(t, err)
	assert.Zero(t, n)
	card, err := rdb.ZCard(ctx, key).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(3), card)
}

func TestTranscriptIsCapped(t *testing.T) {
	rdb := storetest.Redis(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t), MaxTranscript: 3})
	const id = "capped"
	for v := range int64(5) {
		c := &bot.Conversation{State: "s"}
		line := bot.Line{Text: fmt.Sprint(v)}
		require.NoError(t, s.Save(ctx, id, v, bot.Commit{Conversation: c, Append: []bot.Line{line}, TTL: time.Hour}))
	}
	lines, err := s.Transcript(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, []bot.Line{{Text: "2"}, {Text: "3"}, {Text: "4"}}, lines, "the newest lines are kept")
}

func TestWrongKeyDoesNotOpen(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix})
	require.NoError(t, s.Save(ctx, "k", 0, bot.Commit{Conversation: &bot.Conversation{State: "s"}, Append: []bot.Line{{Text: "x"}}, TTL: time.Hour}))

	other := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix})
	_, _, err := other.Load(ctx, "k")
	assert.ErrorIs(t, err, seal.ErrOpen)
	_, err = other.Transcript(ctx, "k")
	assert.ErrorIs(t, err, seal.ErrOpen)

	// A state copied under another conversation's key does not open either.
	state, err := rdb.Get(ctx, s.StateKey("k")).Result()
	require.NoError(t, err)
	require.NoError(t, rdb.Set(ctx, s.StateKey("moved"), state, 0).Err())
	_, _, err = s.Load(ctx, "moved")
	assert.ErrorIs(t, err, seal.ErrOpen)
}

// engine returns an engine on the default flows over a Redis store with its
// own client, sharing prefix and keys with the other engines of one test.
type rig struct {
	prefix string
	sealer *seal.Sealer
	bundle *flows.Bundle
	now    time.Time
	// opts are the stores' options; the prefix is the rig's.
	opts redisstore.Options
}

func newRig(t *testing.T) *rig {
	bundle, problems := flows.Load("", time.Now())
	require.Empty(t, problems.Errors())
	return &rig{
		prefix: storetest.Prefix(t), sealer: sealer(t), bundle: bundle,
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	}
}

func (r *rig) engine(t *testing.T, rdb redis.UniversalClient) (*bot.Engine, *redisstore.Store) {
	opts := r.opts
	opts.Prefix = r.prefix
	store := redisstore.New(rdb, r.sealer, opts)
	eng, err := bot.New(bot.Config{
		Flow: r.bundle.Flow, Store: store, Directory: r.bundle.Directory, Hours: r.bundle.Hours,
		Keyer: bot.NewKeyer([]byte("redisstore-test-key-0123456789ab")), Now: func() time.Time { return r.now },
	})
	require.NoError(t, err)
	return eng, store
}

const phone = "+447700900123"

func TestConversationLeavesNothingInClear(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	eng, store := r.engine(t, rdb)
	secrets := []string{
		"7700900123", "7700 900123", "Log 1234 with the police",
		"back door lock is broken", "after 6pm", "TF11 8AB", "TF118AB",
	}
	for i, text := range []string{
		"Hi", "Y", "no", "TF11 8AB", "1", "1", "yes", "yes", "Log 1234 with the police", "yeah",
		"The back door lock is broken", "no", "1", "yes", "Text only after 6pm, no voicemail", "1",
	} {
		_, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprintf("SM%d", i), Text: text})
		require.NoError(t, err)
	}
	id := eng.ID(bot.ChannelSMS, phone)
	c, err := eng.Conversation(ctx, id)
	require.NoError(t, err)
	require.False(t, c.HandedOff.IsZero(), "the intake should have reached the officer")
	lines, err := store.Transcript(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, lines)

	// Every key and every value on the server, not just this test's.
	keys := storetest.Keys(t, rdb, "*")
	mine := 0
	for _, key := range keys {
		if strings.HasPrefix(key, r.prefix) {
			mine++
			ttl, err := rdb.PTTL(ctx, key).Result()
			require.NoError(t, err)
			assert.Positive(t, ttl, "%s has no TTL", key)
		}
		dump := key + "\n" + valueOf(t, rdb, key)
		for _, s := range secrets {
			assert.NotContains(t, strings.ToLower(dump), strings.ToLower(s), "key %s", key)
		}
	}
	assert.Equal(t, 3, mine, "one state key, one transcript key and the seen ids")
}

// valueOf returns everything stored under key, whatever its type.
func valueOf(t *testing.T, rdb redis.UniversalClient, key string) string {
	typ, err := rdb.Type(ctx, key).Result()
	require.NoError(t, err)
	switch typ {
	case "string":
		v, _ := rdb.Get(ctx, key).Result()
		return v
	case "hash":
		v, _ := rdb.HGetAll(ctx, key).Result()
		return fmt.Sprint(v)
	case "list":
		v, _ := rdb.LRange(ctx, key, 0, -1).Result()
		return strings.Join(v, "\n")
	case "set":
		v, _ := rdb.SMembers(ctx, key).Result()
		return strings.Join(v, "\n")
	case "zset":
		v, _ := rdb.ZRange(ctx, key, 0, -1).Result()
		return strings.Join(v, "\n")
	case "stream":
		v, _ := rdb.XRange(ctx, key, "-", "+").Result()
		return fmt.Sprint(v)
	case "none":
		return "" // expired between SCAN and TYPE
	}
	t.Fatalf("%s: unexpected type %s", key, typ)
	return ""
}

func TestExitErasesTranscript(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	eng, store := r.engine(t, rdb)
	for i, text := range []string{"hi", "yes", "no", "1", "x"} {
		_, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("m", i), Text: text})
		require.NoError(t, err)
	}
	id := eng.ID(bot.ChannelSMS, phone)
	n, err := rdb.Exists(ctx, store.LogKey(id)).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the transcript key is deleted on exit")
	c, _, err := store.Load(ctx, id)
	require.NoError(t, err)
	assert.True(t, c.Erased)
	assert.Empty(t, c.Address)
	assert.Empty(t, c.Answers)
}

// Two processes (two engines, each with its own Redis client) receive
// texts from one tenant at once. Every text is applied once, and each
// sender's texts keep their order.
func TestTwoClientsOneConversation(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, store := r.engine(t, rdb)
	engB, _ := r.engine(t, second(t, rdb))

	// Start the conversation, then send free text the engine records.
	_, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "first", Text: "hi"})
	require.NoError(t, err)

	const each = 25
	var wg sync.WaitGroup
	for g, eng := range []*bot.Engine{engA, engB} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				_, err := eng.Handle(ctx, bot.Inbound{
					Channel: bot.ChannelSMS, Address: phone,
					MessageID: fmt.Sprintf("g%d-%d", g, i), Text: fmt.Sprintf("g%d-%02d", g, i),
				})
				assert.NoError(t, err)
			}
		}()
	}
	wg.Wait()

	lines, err := store.Transcript(ctx, engA.ID(bot.ChannelSMS, phone))
	require.NoError(t, err)
	var got [2][]string
	for _, l := range lines {
		if strings.HasPrefix(l.Text, "g") {
			g := l.Text[1] - '0'
			got[g] = append(got[g], l.Text)
		}
	}
	for g := range 2 {
		var want []string
		for i := range each {
			want = append(want, fmt.Sprintf("g%d-%02d", g, i))
		}
		assert.Equal(t, want, got[g], "sender %d: every text once, in order", g)
	}
}

// Twilio may deliver one message twice, even to two processes at once.
func TestRepeatedMessageAppliedOnce(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, store := r.engine(t, rdb)
	engB, _ := r.engine(t, second(t, rdb))
	_, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "SM0", Text: "hi"})
	require.NoError(t, err)

	in := bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "SM1", Text: "yes"}
	results := make([]bot.Result, 4)
	var wg sync.WaitGroup
	for i := range results {
		eng := engA
		if i%2 == 1 {
			eng = engB
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			results[i], err = eng.Handle(ctx, in)
			assert.NoError(t, err)
		}()
	}
	wg.Wait()

	applied := 0
	for _, res := range results {
		if !res.Duplicate {
			applied++
		}
		assert.Equal(t, results[0].Replies, res.Replies, "a redelivery gets the same replies")
	}
	assert.Equal(t, 1, applied)
	c, err := engA.Conversation(ctx, engA.ID(bot.ChannelSMS, phone))
	require.NoError(t, err)
	assert.Equal(t, "danger", c.State, "answered safe_to_talk once")
	lines, err := store.Transcript(ctx, engA.ID(bot.ChannelSMS, phone))
	require.NoError(t, err)
	yes := 0
	for _, l := range lines {
		if l.Text == "yes" {
			yes++
		}
	}
	assert.Equal(t, 1, yes, "the tenant's line is in the transcript once")
}

// A save that reaches Redis after its caller's deadline is not applied:
// the caller has already told the tenant to text again.
func TestLateSaveIsNotApplied(t *testing.T) {
	rdb := storetest.Redis(t)
	// go-redis without ContextTimeoutEnabled still sends the script and
	// waits for it, so the save reaches the script's own deadline check.
	slow, setDelay := storetest.SlowRedis(t, rdb, nil)
	s := redisstore.New(slow, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t)})
	const id = "late"
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: &bot.Conversation{State: "safe_to_talk"}, TTL: time.Hour}))

	setDelay(300 * time.Millisecond)
	late, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	err := s.Save(late, id, 1, bot.Commit{Conversation: &bot.Conversation{State: "danger"}, Append: []bot.Line{{Text: "y"}}, TTL: time.Hour})
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	setDelay(0)

	c, v, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v, "the late save must not have been applied")
	assert.Equal(t, "safe_to_talk", c.State)
	lines, err := s.Transcript(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, lines)
}

func TestEventLogConformance(t *testing.T) {
	storetest.RunEventLog(t, func(t *testing.T) storetest.EventLog {
		prefix := storetest.Prefix(t)
		return redisstore.New(storetest.Redis(t), sealer(t), redisstore.Options{Prefix: prefix, EventLog: prefix + "events"})
	})
}

func TestEventsAreSealed(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix, EventLog: prefix + "events"})
	id := bot.ConversationID("events-0001")
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off", Address: "+447700900123"}
	handoff := bot.Event{Kind: bot.EventHandoff, Conversation: id, Handoff: &bot.Handoff{Area: "shropshire", Address: "+447700900123"}}
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv, TTL: time.Hour, Events: []bot.Event{handoff}}))

	raw, err := rdb.XRange(ctx, s.EventKey(id), "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, raw, 1)
	for _, m := range raw {
		assert.NotContains(t, fmt.Sprint(m.Values), "7700900123", "events are sealed")
	}

	// An event copied into another conversation's stream does not open.
	other := bot.ConversationID("events-0002")
	require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: s.EventKey(other), Values: raw[0].Values}).Err())
	require.NoError(t, s.Save(ctx, other, 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventExited, Conversation: other}}}))
	evs, err := s.Events(ctx, 10)
	require.NoError(t, err)
	var moved []bot.LoggedEvent
	for _, le := range evs {
		if le.Conversation == other {
			moved = append(moved, le)
		}
	}
	require.Len(t, moved, 2)
	assert.Error(t, moved[0].Err, "the copied event")
	assert.NoError(t, moved[1].Err)
}

// A conversation's events live on its own cluster slot, the index of
// conversations with events waiting on another: the three steps of a
// turn with events (events.go) leave nothing behind when one is cut short.
func TestEventsSurviveAStepCutShort(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix, EventLog: prefix + "events"})
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}

	// A save refused (its deadline passed) after the mark: the mark
	// finds no events, and is forgotten once no save can still write.
	late, cancel := context.WithDeadline(ctx, time.Now().Add(-time.Second))
	defer cancel()
	err := s.Save(late, "cut-0001", 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventExited, Conversation: "cut-0001"}}})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	evs, err := s.Events(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, evs)

	// Events written and marked, but the reader's settle raced a save
	// that marked before the read and wrote after it: the second mark
	// makes it due again, and its events are taken at once.
	require.NoError(t, s.Save(ctx, "cut-0002", 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: "cut-0002", Text: "one"}}}))
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.NoError(t, s.Save(ctx, "cut-0002", 1, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: "cut-0002", Text: "two"}}}))
	require.NoError(t, s.Taken(ctx, evs))
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "two", evs[0].Event.Text)
	require.NoError(t, s.Taken(ctx, evs))
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, evs)
}

// forgetMark makes a Redis seem not to know mark.lua (restarted or failed
// over, its script cache empty) to calls by digest in a pipeline, and
// fails any mark sent on its own: as if the process stopped right after a
// turn's pipeline, before it could mark again.
type forgetMark struct{ sha string }

func (f forgetMark) DialHook(next redis.DialHook) redis.DialHook { return next }

func (f forgetMark) isMark(cmd redis.Cmder) bool {
	args := cmd.Args()
	if len(args) < 2 {
		return false
	}
	body, _ := args[1].(string)
	return body == f.sha || strings.Contains(body, "Marks a conversation as having events waiting")
}

func (f forgetMark) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if f.isMark(cmd) {
			cmd.SetErr(errors.New("the process stopped"))
			return cmd.Err()
		}
		return next(ctx, cmd)
	}
}

func (f forgetMark) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			if cmd.Name() == "evalsha" && f.isMark(cmd) {
				cmd.Args()[1] = strings.Repeat("0", 40)
			}
		}
		return next(ctx, cmds)
	}
}

// A turn's events are marked before its save runs even on a Redis that
// lost its scripts: a save never runs unmarked, so a process stopping
// after it leaves no handoff where no reader looks.
func TestEventsAreMarkedOnARedisWithoutTheScript(t *testing.T) {
	rdb := storetest.Redis(t)
	if _, cluster := rdb.(*redis.ClusterClient); cluster {
		t.Skip("on a cluster the steps are sent one at a time, each run whole on NOSCRIPT")
	}
	src, err := os.ReadFile("mark.lua")
	require.NoError(t, err)
	rdb.AddHook(forgetMark{sha: fmt.Sprintf("%x", sha1.Sum(src))})
	prefix, sl := storetest.Prefix(t), sealer(t)
	opts := redisstore.Options{Prefix: prefix, EventLog: prefix + "events"}
	s := redisstore.New(rdb, sl, opts)
	id := bot.ConversationID("unmarked-0001")
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}

	// The turn is saved; only the mark after it is missing.
	_ = s.Save(ctx, id, 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventHandoff, Conversation: id, Handoff: &bot.Handoff{Area: "telford"}}}})
	other := redisstore.New(storetest.Redis(t), sl, opts)
	_, v, err := other.Load(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(1), v, "the turn was saved")

	evs, err := other.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the handoff is where the queue looks")
	assert.Equal(t, bot.EventHandoff, evs[0].Event.Kind)
}

// afterScript runs then once, right after the client's first call of the
// script with the given source.
type afterScript struct {
	sha, body string
	then      func()
	once      sync.Once
}

func (a *afterScript) DialHook(next redis.DialHook) redis.DialHook { return next }

func (a *afterScript) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if args := cmd.Args(); len(args) > 1 && (args[1] == a.sha || args[1] == a.body) && err == nil {
			a.once.Do(a.then)
		}
		return err
	}
}

func (a *afterScript) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// A mark's number is above the conversation's last even when that was
// counted by an earlier version (each conversation's marks from 1) or
// the count of all marks went back (a failover): a reader that saw the
// last must see the new one as new.
func TestAMarkIsAboveTheConversationsLast(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix, sl := storetest.Prefix(t), sealer(t)
	opts := redisstore.Options{Prefix: prefix, EventLog: prefix + "events"}
	s := redisstore.New(rdb, sl, opts)
	marks := "{" + opts.EventLog + "}:marks"
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	require.NoError(t, rdb.HSet(ctx, marks, "upgraded-0001:w", 7).Err())
	require.NoError(t, s.Save(ctx, "upgraded-0001", 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: "upgraded-0001", Text: "one"}}}))
	w, err := rdb.HGet(ctx, marks, "upgraded-0001:w").Int()
	require.NoError(t, err)
	assert.Greater(t, w, 7)
	all, err := rdb.HGet(ctx, marks, "#").Int()
	require.NoError(t, err)
	assert.Equal(t, w, all, "the count of all marks moves up with it")
}

// Two readers of the events overlap (as the queue's workers do while one
// takes over from another): one forgets a conversation, whose next turn
// marks it again between the other's trim and its settle. That reader
// saw an earlier mark; the new mark must not look like it, or the new
// events are set aside unread for up to 40 s.
func TestAMarkAfterAConversationIsForgottenIsNew(t *testing.T) {
	prefix, sl := storetest.Prefix(t), sealer(t)
	opts := redisstore.Options{Prefix: prefix, EventLog: prefix + "events"}
	writer := redisstore.New(storetest.Redis(t), sl, opts)
	other := redisstore.New(storetest.Redis(t), sl, opts)
	id := bot.ConversationID("forgot-0001")
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	turn := func(version int64, text string) {
		require.NoError(t, writer.Save(ctx, id, version, bot.Commit{Conversation: conv, TTL: time.Hour,
			Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: text}}}))
	}
	src, err := os.ReadFile("trim.lua")
	require.NoError(t, err)
	rdb := storetest.Redis(t)
	rdb.AddHook(&afterScript{sha: fmt.Sprintf("%x", sha1.Sum(src)), body: string(src), then: func() { turn(1, "two") }})
	reader := redisstore.New(rdb, sl, opts)
	// Redis knows the scripts (else the first save's pipeline is sent
	// twice, and marks twice as often).
	warm := opts
	warm.EventLog = prefix + "warm"
	require.NoError(t, redisstore.New(storetest.Redis(t), sl, warm).Save(ctx, "forgot-warm", 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: "forgot-warm", Text: "warm"}}}))

	turn(0, "one")
	first, err := reader.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, first, 1)
	// The other reader takes the same event and, no save being able to
	// write any more (its deadline made past), forgets the conversation.
	evs, err := other.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	marks := "{" + opts.EventLog + "}:marks"
	require.NoError(t, rdb.HSet(ctx, marks, string(id)+":d", 0).Err())
	require.NoError(t, other.Taken(ctx, evs))
	n, err := rdb.HExists(ctx, marks, string(id)+":w").Result()
	require.NoError(t, err)
	require.False(t, n, "forgotten")

	// The first reader trims, "two" is saved and marked, then it settles.
	require.NoError(t, reader.Taken(ctx, first))
	evs, err = other.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1, "the new event is due at once")
	assert.Equal(t, "two", evs[0].Event.Text)
}

// loseMark removes a conversation from the index of conversations with
// events waiting, as a failover of the index's cluster primary can.
func loseMark(t *testing.T, rdb redis.UniversalClient, eventLog string, id bot.ConversationID) {
	t.Helper()
	tag := "{" + eventLog + "}"
	require.NoError(t, rdb.ZRem(ctx, tag+":due", string(id)).Err())
	require.NoError(t, rdb.HDel(ctx, tag+":marks", string(id)+":w", string(id)+":d").Err())
}

// Sweep finds the conversations whose events wait with no mark, and only
// those: after it, their events are taken as any others.
func TestSweepFindsEventsWhoseMarkWasLost(t *testing.T) {
	rdb := storetest.Redis(t)
	// Glob's own characters in the prefix match only themselves.
	prefix := storetest.Prefix(t) + "[x]*:"
	opts := redisstore.Options{Prefix: prefix, EventLog: storetest.Prefix(t) + "events"}
	s := redisstore.New(rdb, sealer(t), opts)
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	save := func(id bot.ConversationID, text string) {
		require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv, TTL: time.Hour,
			Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: text}}}))
	}
	save("sweep-taken", "taken")
	evs, err := s.Events(ctx, 10)
	require.NoError(t, err)
	require.NoError(t, s.Taken(ctx, evs))
	save("sweep-marked", "marked")
	save("sweep-lost", "lost")
	loseMark(t, rdb, opts.EventLog, "sweep-lost")
	// The same names under a prefix the pattern must not reach.
	other := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t) + "x:", EventLog: storetest.Prefix(t) + "other"})
	require.NoError(t, other.Save(ctx, "sweep-lost", 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: "sweep-lost", Text: "elsewhere"}}}))

	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1, "only the marked conversation's event is found")

	n, err := s.Sweep(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	var texts []string
	for _, le := range evs {
		texts = append(texts, le.Event.Text)
	}
	assert.ElementsMatch(t, []string{"marked", "lost"}, texts)
	n, err = s.Sweep(ctx)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing lost any more")
}

// The officer queue passes over an event whose id is not after the last
// it applied of that conversation, so a conversation's next event must
// get a later id even when Redis's clock is behind the ids its stream
// already gave out (a failover to a replica whose clock lags, a clock
// step back, the same millisecond, by less than the ten minutes): a
// stream emptied by Taken is kept that long, not deleted.
func TestNextEventComesAfterTheLastTakenThoughTheClockIsBehind(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix, EventLog: prefix + "events"})
	id := bot.ConversationID("ahead-0001")
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	key := s.EventKey(id)

	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: "one"}}}))
	// The event as a Redis an hour ahead of this one would have written it.
	raw, err := rdb.XRange(ctx, key, "-", "+").Result()
	require.NoError(t, err)
	require.Len(t, raw, 1)
	ahead := fmt.Sprintf("%d-0", time.Now().Add(time.Hour).UnixMilli())
	require.NoError(t, rdb.Del(ctx, key).Err())
	require.NoError(t, rdb.XAdd(ctx, &redis.XAddArgs{Stream: key, ID: ahead, Values: raw[0].Values}).Err())

	evs, err := s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	require.Equal(t, ahead, evs[0].ID)
	require.NoError(t, s.Taken(ctx, evs))
	ttl, err := rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Duration(0), "the emptied stream is kept")
	assert.LessOrEqual(t, ttl, 10*time.Minute, "for ten minutes, not the conversation's hour")

	require.NoError(t, s.Save(ctx, id, 1, bot.Commit{Conversation: conv, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: "two"}}}))
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "two", evs[0].Event.Text)
	assert.True(t, laterID(evs[0].ID, ahead), "next id %s after the last taken %s", evs[0].ID, ahead)
	ttl, err = rdb.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 10*time.Minute, "a new event keeps the stream as long as the conversation")
}

// laterID reports whether stream id a comes after b.
func laterID(a, b string) bool {
	var ams, aseq, bms, bseq uint64
	fmt.Sscanf(a, "%d-%d", &ams, &aseq)
	fmt.Sscanf(b, "%d-%d", &bms, &bseq)
	return ams > bms || (ams == bms && aseq > bseq)
}

// An upgrade from the single event stream of earlier versions loses no
// event and takes none twice: what the earlier officer queue had taken
// (its position in LegacyTaken) is dropped, the rest is taken first.
func TestEventsLeftByAnEarlierVersionAreTaken(t *testing.T) {
	rdb := storetest.Redis(t)
	if _, cluster := rdb.(*redis.ClusterClient); cluster {
		t.Skip("earlier versions ran on one Redis server, not a cluster")
	}
	prefix := storetest.Prefix(t)
	sl := sealer(t)
	s := redisstore.New(rdb, sl, redisstore.Options{Prefix: prefix, EventLog: prefix + "events", LegacyTaken: prefix + "evpos"})
	legacy := func(text string) string {
		b, err := json.Marshal(bot.Event{Kind: bot.EventTenantMessage, Conversation: "old-0001", Text: text})
		require.NoError(t, err)
		id, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: prefix + "events", Values: []any{"e", sl.Seal(b, []byte("event"))}}).Result()
		require.NoError(t, err)
		return id
	}
	taken := legacy("taken before the upgrade")
	require.NoError(t, rdb.Set(ctx, prefix+"evpos", taken, 0).Err())
	legacy("waiting at the upgrade")

	evs, err := s.Events(ctx, 10)
	require.NoError(t, err)
	require.Len(t, evs, 1)
	assert.Equal(t, "waiting at the upgrade", evs[0].Event.Text)
	assert.Equal(t, bot.ConversationID("old-0001"), evs[0].Conversation)
	require.NoError(t, s.Taken(ctx, evs))
	evs, err = s.Events(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, evs)
}
