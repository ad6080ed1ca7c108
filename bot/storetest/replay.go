package storetest

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
)

// runReplays drives two engines on the default flows over the store's two
// handles, as two serve processes on one store, and replays messages as
// Twilio's retries or a replayed webhook would: a message id seen within
// the replay window is never applied again.
func runReplays(t *testing.T, open Open) {
	bundle, problems := flows.Load("", seenAt)
	require.Empty(t, problems.Errors())
	rigs := func(t *testing.T) *rig { return newRig(t, open, bundle) }
	t.Run("OldAfterManyTexts", func(t *testing.T) { testReplayOld(t, rigs) })
	t.Run("LatestGetsItsReply", func(t *testing.T) { testReplayLatest(t, rigs) })
	t.Run("AfterExitAndDelete", func(t *testing.T) { testReplayAfterErasure(t, rigs) })
	t.Run("Window", func(t *testing.T) { testReplayWindow(t, rigs) })
	t.Run("TwoEnginesRace", func(t *testing.T) { testReplayRace(t, rigs) })
	t.Run("PreviousVersionState", func(t *testing.T) { testReplayLegacy(t, rigs) })
}

// Intake is a whole intake by text, first message to handoff.
var Intake = []string{
	"Hi", "Y", "no", "TF11 8AB", "1", "1", "yes", "yes", "Log 1234 with the police", "yeah",
	"The back door lock is broken", "no", "1", "yes", "Text only after 6pm, no voicemail", "1",
}

const tenant = "+447700900123"

type rig struct {
	a, b       bot.Store
	engA, engB *bot.Engine
	mu         sync.Mutex
	now        time.Time
}

// newRig returns two engines on the bundle's flows, one over each of a
// fresh store's handles, with one clock starting at seenAt.
func newRig(t *testing.T, open Open, bundle *flows.Bundle) *rig {
	t.Helper()
	r := &rig{now: seenAt}
	r.a, r.b = open(t)
	for _, p := range []struct {
		s   bot.Store
		eng **bot.Engine
	}{{r.a, &r.engA}, {r.b, &r.engB}} {
		eng, err := bot.New(bot.Config{
			Flow: bundle.Flow, Store: p.s, Directory: bundle.Directory, Hours: bundle.Hours,
			Keyer: bot.NewKeyer([]byte("storetest-conversation-key-01234")), Now: r.clock,
		})
		require.NoError(t, err)
		*p.eng = eng
	}
	return r
}

func (r *rig) clock() time.Time {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.now
}

func (r *rig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

func (r *rig) id() bot.ConversationID { return r.engA.ID(bot.ChannelSMS, tenant) }

func (r *rig) send(t *testing.T, eng *bot.Engine, sid, text string) bot.Result {
	t.Helper()
	res, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: tenant, MessageID: sid, Text: text})
	require.NoError(t, err)
	return res
}

// snapshot is everything the store holds for the conversation.
type snapshot struct {
	conv    *bot.Conversation
	version int64
	lines   []bot.Line
}

func (r *rig) snapshot(t *testing.T) snapshot {
	t.Helper()
	c, v, err := Fresh(r.a).Load(ctx, r.id())
	require.NoError(t, err)
	lines, err := r.a.Transcript(ctx, r.id())
	require.NoError(t, err)
	return snapshot{c, v, lines}
}

// ignored checks that a replay was answered as a duplicate with no reply
// and changed nothing.
func (r *rig) ignored(t *testing.T, eng *bot.Engine, sid, text string) {
	t.Helper()
	before := r.snapshot(t)
	res := r.send(t, eng, sid, text)
	assert.True(t, res.Duplicate, "%s: applied again", sid)
	assert.Empty(t, res.Replies, "%s: an older message gets no reply", sid)
	assert.Empty(t, res.Events, sid)
	assert.Equal(t, before, r.snapshot(t), "%s: the replay changed the conversation", sid)
}

func sid(i int) string { return fmt.Sprintf("SM%032d", i) }

func testReplayOld(t *testing.T, rigs func(*testing.T) *rig) {
	r := rigs(t)
	texts := append(append([]string(nil), Intake...), "ok", "thanks", "ok", "thank you", "ok")
	for i, text := range texts {
		r.send(t, r.engA, sid(i), text)
	}
	require.Equal(t, "handed_off", r.snapshot(t).conv.State)
	// "Y" (safe to talk) was followed by 20 texts; "Hi" by 21.
	r.ignored(t, r.engB, sid(1), "Y")
	r.ignored(t, r.engA, sid(0), "Hi")
	for i := 2; i < len(texts)-1; i++ {
		r.ignored(t, r.engB, sid(i), texts[i])
	}
}

func testReplayLatest(t *testing.T, rigs func(*testing.T) *rig) {
	r := rigs(t)
	r.send(t, r.engA, sid(0), "hi")
	first := r.send(t, r.engA, sid(1), "y")
	require.NotEmpty(t, first.Replies)
	before := r.snapshot(t)
	for _, eng := range []*bot.Engine{r.engA, r.engB} {
		again := r.send(t, eng, sid(1), "y")
		assert.True(t, again.Duplicate)
		assert.Equal(t, first.Replies, again.Replies, "the latest message gets its stored reply")
		assert.Empty(t, again.Events)
	}
	assert.Equal(t, before, r.snapshot(t))
	// Past the redelivery window, a repeat of even the latest message
	// fetches nothing: a replayed request cannot read what the tenant was
	// told.
	r.advance(bot.RedeliveryWindow + time.Minute)
	late := r.send(t, r.engB, sid(1), "y")
	assert.True(t, late.Duplicate)
	assert.Empty(t, late.Replies, "no replies past the redelivery window")
	assert.Equal(t, before, r.snapshot(t))
	// Once another message is applied, it is an older one.
	r.send(t, r.engA, sid(2), "no")
	r.ignored(t, r.engB, sid(1), "y")
}

func testReplayAfterErasure(t *testing.T, rigs func(*testing.T) *rig) {
	for _, tc := range []struct {
		label, word string
		erase       func(r *rig) // erases without a message when word is ""
	}{
		{label: "exit", word: "X"},
		{label: "stop", word: "STOP"},
		{label: "delete", word: "DELETE"},
		{label: "quick exit button", erase: func(r *rig) {
			_, err := r.engB.Erase(ctx, bot.ChannelSMS, tenant)
			require.NoError(t, err)
		}},
	} {
		t.Run(tc.label, func(t *testing.T) {
			r := rigs(t)
			texts := []string{"hi", "y", "no", "TF11 8AB"}
			for i, text := range texts {
				r.send(t, r.engA, sid(i), text)
			}
			var erased bot.Result
			if tc.erase != nil {
				tc.erase(r)
			} else {
				erased = r.send(t, r.engA, sid(len(texts)), tc.word)
			}
			require.True(t, r.snapshot(t).conv.Erased)
			for i, text := range texts {
				r.ignored(t, r.engB, sid(i), text)
			}
			if tc.erase == nil {
				// The erasing message itself is the latest: it gets the
				// same reply again (DELETE's; none after X and STOP).
				again := r.send(t, r.engB, sid(len(texts)), tc.word)
				assert.True(t, again.Duplicate)
				assert.Equal(t, erased.Replies, again.Replies)
				assert.Empty(t, again.Events)
			}
			r.advance(time.Hour)
			r.ignored(t, r.engA, sid(0), "hi")
			// A new message starts afresh.
			fresh := r.send(t, r.engA, sid(100), "hello")
			assert.False(t, fresh.Duplicate)
			assert.Equal(t, "safe_to_talk", r.snapshot(t).conv.State)
			r.ignored(t, r.engB, sid(1), "y")
		})
	}
}

func testReplayWindow(t *testing.T, rigs func(*testing.T) *rig) {
	r := rigs(t)
	r.send(t, r.engA, sid(0), "hi")
	r.send(t, r.engA, sid(1), "y")
	r.advance(window - time.Second)
	r.send(t, r.engA, sid(2), "no")
	r.ignored(t, r.engB, sid(0), "hi")

	// A day after it was seen, an id is forgotten: the next commit trims
	// it, and the same id is then a new message.
	r.advance(2 * time.Second)
	r.send(t, r.engA, sid(3), "TF11 8AB")
	res := r.send(t, r.engB, sid(0), "hi")
	assert.False(t, res.Duplicate, "an id seen over a day ago is not remembered")
	r.ignored(t, r.engB, sid(2), "no")
}

func testReplayRace(t *testing.T, rigs func(*testing.T) *rig) {
	r := rigs(t)
	r.send(t, r.engA, sid(0), "hi")
	results := make([]bot.Result, 8)
	var wg sync.WaitGroup
	for i := range results {
		eng := r.engA
		if i%2 == 1 {
			eng = r.engB
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			results[i], err = eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: tenant, MessageID: sid(1), Text: "y"})
			assert.NoError(t, err)
		}()
	}
	wg.Wait()
	applied := 0
	for _, res := range results {
		if !res.Duplicate {
			applied++
		}
		assert.Equal(t, results[0].Replies, res.Replies, "every delivery gets the same reply")
	}
	assert.Equal(t, 1, applied)
	snap := r.snapshot(t)
	assert.Equal(t, "danger", snap.conv.State, "answered safe_to_talk once")
	assert.Equal(t, int64(2), snap.version)
	var ys int
	for _, l := range snap.lines {
		if l.Text == "y" {
			ys++
		}
	}
	assert.Equal(t, 1, ys, "the tenant's line is in the transcript once")
}

// testReplayLegacy: a conversation saved by the previous version keeps its
// recent message ids in the state (Seen). They stay seen, and the next
// message moves them to the store.
func testReplayLegacy(t *testing.T, rigs func(*testing.T) *rig) {
	r := rigs(t)
	const other = "+447700900999"
	for i, text := range []string{"hi", "y"} {
		_, err := r.engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: other, MessageID: fmt.Sprint("other", i), Text: text})
		require.NoError(t, err)
	}
	old, _, err := r.a.Load(ctx, r.engA.ID(bot.ChannelSMS, other))
	require.NoError(t, err)
	require.NotEmpty(t, old.LastReplies)
	old.Address, old.LastID = tenant, ""
	old.Seen = []string{bot.SeenDigest(sid(0)), bot.SeenDigest(sid(1))}
	require.NoError(t, r.a.Save(ctx, r.id(), 0, bot.Commit{Conversation: old, TTL: time.Hour}))

	latest := r.send(t, r.engB, sid(1), "y")
	assert.True(t, latest.Duplicate)
	assert.Equal(t, old.LastReplies, latest.Replies, "the newest of Seen gets the stored reply")
	r.ignored(t, r.engB, sid(0), "hi")

	r.send(t, r.engA, sid(2), "no")
	snap := r.snapshot(t)
	assert.Empty(t, snap.conv.Seen, "the state no longer keeps the ids")
	assert.Equal(t, "area", snap.conv.State)
	r.ignored(t, r.engB, sid(0), "hi")
	r.ignored(t, r.engB, sid(1), "y")
}
