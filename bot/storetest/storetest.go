// Package storetest checks that a bot.Store keeps the promises the engine
// relies on: versions, transcripts, erasure, expiry and concurrent turns.
// Every store runs the same suite (see Run).
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
)

// Open returns two handles on one fresh, empty backing store: for Redis, two
// clients on one server; for memory, the same store twice.
type Open func(t *testing.T) (a, b bot.Store)

// Run runs the conformance suite.
func Run(t *testing.T, open Open) {
	t.Run("Absent", func(t *testing.T) { testAbsent(t, open) })
	t.Run("Versions", func(t *testing.T) { testVersions(t, open) })
	t.Run("Transcript", func(t *testing.T) { testTranscript(t, open) })
	t.Run("Tombstone", func(t *testing.T) { testTombstone(t, open) })
	t.Run("NoAliasing", func(t *testing.T) { testNoAliasing(t, open) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, open) })
	t.Run("ConcurrentTurns", func(t *testing.T) { testConcurrent(t, open) })
	t.Run("SeenIDs", func(t *testing.T) { testSeenIDs(t, open) })
	t.Run("SeenIDsOutliveErasure", func(t *testing.T) { testSeenOutliveErasure(t, open) })
	t.Run("SeenIDsBounded", func(t *testing.T) { testSeenBounded(t, open) })
	t.Run("SeenIDsRace", func(t *testing.T) { testSeenRace(t, open) })
	t.Run("Replays", func(t *testing.T) { runReplays(t, open) })
}

var ctx = context.Background()

// Fresh returns the store with a Load that reads what every process sees:
// a store that may answer from memory (bot.Forgetter) forgets the
// conversation first. Tests that check what another handle saved load
// through it.
func Fresh(s bot.Store) bot.Store { return fresh{s} }

type fresh struct{ bot.Store }

func (f fresh) Load(ctx context.Context, id bot.ConversationID) (*bot.Conversation, int64, error) {
	if m, ok := f.Store.(bot.Forgetter); ok {
		m.Forget(id)
	}
	return f.Store.Load(ctx, id)
}

func conv(state string) *bot.Conversation {
	return &bot.Conversation{
		Channel: bot.ChannelSMS, Address: "+447700900123", Lang: "en", State: state,
		Started: time.Unix(1700000000, 0).UTC(), Updated: time.Unix(1700000000, 0).UTC(),
	}
}

func line(step, text string) bot.Line {
	return bot.Line{At: time.Unix(1700000000, 0).UTC(), Step: step, Text: text}
}

func testAbsent(t *testing.T, open Open) {
	s, _ := open(t)
	c, v, err := s.Load(ctx, "nobody")
	require.NoError(t, err)
	assert.Nil(t, c)
	assert.Zero(t, v)
	lines, err := s.Transcript(ctx, "nobody")
	require.NoError(t, err)
	assert.Empty(t, lines)
}

func testVersions(t *testing.T, open Open) {
	s, other := open(t)
	const id = "versions"
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv("safe"), TTL: time.Hour}))
	assert.ErrorIs(t, other.Save(ctx, id, 0, bot.Commit{Conversation: conv("other"), TTL: time.Hour}),
		bot.ErrConflict, "a second first save must conflict")

	c, v, err := other.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(1), v)
	assert.Equal(t, conv("safe"), c)

	next := conv("area")
	next.Answers = map[string]string{"safe": "yes"}
	require.NoError(t, other.Save(ctx, id, v, bot.Commit{Conversation: next, TTL: time.Hour}))
	assert.ErrorIs(t, s.Save(ctx, id, v, bot.Commit{Conversation: conv("stale"), TTL: time.Hour}),
		bot.ErrConflict, "a save from a stale version must conflict")

	c, v, err = s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	assert.Equal(t, next, c)
}

func testTranscript(t *testing.T, open Open) {
	s, other := open(t)
	const id = "transcript"
	first := []bot.Line{line("safe", "is it safe"), line("", "yes")}
	second := []bot.Line{line("area", "which area")}
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv("safe"), Append: first, TTL: time.Hour}))
	require.NoError(t, other.Save(ctx, id, 1, bot.Commit{Conversation: conv("area"), Append: second, TTL: time.Hour}))
	require.NoError(t, s.Save(ctx, id, 2, bot.Commit{Conversation: conv("area"), TTL: time.Hour}))

	got, err := other.Transcript(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, append(first, second...), got)
}

func testTombstone(t *testing.T, open Open) {
	s, _ := open(t)
	const id = "tombstone"
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv("safe"), Append: []bot.Line{line("safe", "x")}, TTL: time.Hour}))
	tomb := &bot.Conversation{Erased: true, LastID: "m1"}
	require.NoError(t, s.Save(ctx, id, 1, bot.Commit{Conversation: tomb, Append: []bot.Line{line("", "exit")}, TTL: time.Hour}))

	lines, err := s.Transcript(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, lines, "an erased conversation keeps no transcript")
	c, v, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	assert.Equal(t, tomb, c)
}

func testNoAliasing(t *testing.T, open Open) {
	s, _ := open(t)
	const id = "aliasing"
	c := conv("safe")
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: c, TTL: time.Hour}))
	c.History = append(c.History, "changed after save")
	got, _, err := s.Load(ctx, id)
	require.NoError(t, err)
	got.History = append(got.History, "changed after load")
	again, _, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, again.History)
}

func testExpiry(t *testing.T, open Open) {
	s, _ := open(t)
	const id = "expiry"
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: conv("safe"), Append: []bot.Line{line("safe", "x")}, TTL: 50 * time.Millisecond}))
	// Only waits past the deadline, so a slow machine cannot make it fail.
	time.Sleep(200 * time.Millisecond)
	c, v, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Nil(t, c, "an expired conversation is gone")
	assert.Zero(t, v)
	lines, err := s.Transcript(ctx, id)
	require.NoError(t, err)
	assert.Empty(t, lines)
}

// testConcurrent runs many turns at once on one conversation through both
// handles, each a load-change-save loop that retries on conflict as the
// engine does. Every turn must land exactly once, and the state and the
// transcript must agree on one order.
func testConcurrent(t *testing.T, open Open) {
	a, b := open(t)
	const id = "concurrent"
	const turns = 50
	var wg sync.WaitGroup
	errs := make(chan error, turns)
	for i := range turns {
		store := a
		if i%2 == 1 {
			store = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- turn(store, id, strconv.Itoa(i))
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	c, v, err := Fresh(a).Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(turns), v)
	require.Len(t, c.History, turns, "a turn was lost")
	seen := map[string]bool{}
	for _, h := range c.History {
		assert.False(t, seen[h], "turn %s applied twice", h)
		seen[h] = true
	}
	lines, err := b.Transcript(ctx, id)
	require.NoError(t, err)
	require.Len(t, lines, turns)
	for i, l := range lines {
		assert.Equal(t, c.History[i], l.Text, "transcript and state disagree on order at %d", i)
	}
}

func turn(s bot.Store, id bot.ConversationID, name string) error {
	for range 1000 {
		c, v, err := s.Load(ctx, id)
		if err != nil {
			return err
		}
		if c == nil {
			c = conv("safe")
		}
		c.History = append(c.History, name)
		err = s.Save(ctx, id, v, bot.Commit{Conversation: c, Append: []bot.Line{line("", name)}, TTL: time.Hour})
		if !errors.Is(err, bot.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("turn %s: still conflicting after 1000 tries", name)
}
