package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
)

// seenAt is the clock the seen-id tests start from.
var seenAt = time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)

const window = 24 * time.Hour

func seenCommit(state, msg string, at time.Time) bot.Commit {
	return bot.Commit{Conversation: conv(state), TTL: time.Hour, Seen: bot.SeenIDs{ID: msg, At: at, Window: window}}
}

// testSeenIDs: a message id recorded with a commit refuses any later
// commit with the same id for the window, whatever its version, and is
// forgotten after it.
func testSeenIDs(t *testing.T, open Open) {
	s, other := open(t)
	const id = "seen"
	require.NoError(t, s.Save(ctx, id, 0, seenCommit("safe", "a", seenAt)))
	assert.ErrorIs(t, other.Save(ctx, id, 1, seenCommit("again", "a", seenAt.Add(time.Minute))), bot.ErrDuplicate,
		"a seen id is refused even from the current version")
	assert.ErrorIs(t, other.Save(ctx, id, 0, seenCommit("again", "a", seenAt)), bot.ErrDuplicate,
		"the id is checked before the version")
	require.NoError(t, other.Save(ctx, id, 1, seenCommit("b", "b", seenAt.Add(time.Minute))))
	assert.ErrorIs(t, s.Save(ctx, id, 2, seenCommit("again", "a", seenAt.Add(window-time.Second))), bot.ErrDuplicate,
		"still seen just inside the window, with another id after it")
	c, v, err := s.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v, "a refused commit is not applied")
	assert.Equal(t, "b", c.State)

	require.NoError(t, s.Save(ctx, id, 2, seenCommit("a again", "a", seenAt.Add(window))),
		"an id seen a whole window ago is forgotten")

	// Without a window nothing is checked or recorded.
	require.NoError(t, s.Save(ctx, id, 3, bot.Commit{Conversation: conv("nowindow"), TTL: time.Hour, Seen: bot.SeenIDs{ID: "a", At: seenAt.Add(window)}}))
	// Commits without a message id are never refused.
	for v := int64(4); v < 6; v++ {
		require.NoError(t, s.Save(ctx, id, v, bot.Commit{Conversation: conv("noid"), TTL: time.Hour, Seen: bot.SeenIDs{At: seenAt.Add(window), Window: window}}))
	}

	// Earlier ids (a previous version's state) are recorded unchecked.
	later := seenCommit("migrated", "c", seenAt.Add(window))
	later.Seen.Earlier = []string{"old1", "old2", "a"}
	require.NoError(t, s.Save(ctx, id, 6, later))
	for _, old := range []string{"old1", "old2", "c", "a"} {
		assert.ErrorIs(t, other.Save(ctx, id, 7, seenCommit("x", old, seenAt.Add(window+time.Hour))), bot.ErrDuplicate, old)
	}
}

// testSeenOutliveErasure: a tombstone drops the transcript, not the seen
// ids.
func testSeenOutliveErasure(t *testing.T, open Open) {
	s, other := open(t)
	const id = "seen-erased"
	first := seenCommit("safe", "hi", seenAt)
	first.Append = []bot.Line{line("safe", "hi")}
	require.NoError(t, s.Save(ctx, id, 0, first))
	tomb := bot.Commit{Conversation: &bot.Conversation{Erased: true, LastID: "x"}, TTL: time.Hour,
		Seen: bot.SeenIDs{ID: "x", At: seenAt.Add(time.Minute), Window: window}}
	require.NoError(t, s.Save(ctx, id, 1, tomb))
	for _, msg := range []string{"hi", "x"} {
		assert.ErrorIs(t, other.Save(ctx, id, 2, seenCommit("safe", msg, seenAt.Add(time.Hour))), bot.ErrDuplicate, msg)
	}
	c, v, err := other.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
	assert.True(t, c.Erased)
}

// testSeenBounded: a conversation keeps at most bot.MaxSeen ids, the
// oldest going first.
func testSeenBounded(t *testing.T, open Open) {
	s, _ := open(t)
	const id = "seen-bounded"
	const extra = 3
	at := func(i int) time.Time { return seenAt.Add(time.Duration(i) * time.Second) }
	for i := range bot.MaxSeen + extra {
		require.NoError(t, s.Save(ctx, id, int64(i), seenCommit("s", fmt.Sprint("id-", i), at(i))))
	}
	v := int64(bot.MaxSeen + extra)
	assert.ErrorIs(t, s.Save(ctx, id, v, seenCommit("s", fmt.Sprint("id-", extra), at(int(v)))), bot.ErrDuplicate,
		"the oldest id kept is still seen")
	for i := range extra {
		require.NoError(t, s.Save(ctx, id, v, seenCommit("s", fmt.Sprint("id-", i), at(int(v)))), "id-%d was past the bound", i)
		v++
	}
}

// testSeenRace: one new message delivered to several processes at once
// is applied once; every other delivery is refused as seen.
func testSeenRace(t *testing.T, open Open) {
	a, b := open(t)
	const id = "seen-race"
	require.NoError(t, a.Save(ctx, id, 0, seenCommit("safe", "first", seenAt)))
	const deliveries = 8
	results := make([]error, deliveries)
	var wg sync.WaitGroup
	for i := range deliveries {
		store := a
		if i%2 == 1 {
			store = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = saveOnce(store, id, "same")
		}()
	}
	wg.Wait()
	applied := 0
	for _, err := range results {
		if err == nil {
			applied++
			continue
		}
		assert.ErrorIs(t, err, bot.ErrDuplicate)
	}
	assert.Equal(t, 1, applied)
	_, v, err := a.Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(2), v)
}

// saveOnce applies message msg as the engine does: load, save, retry on a
// conflict; it returns ErrDuplicate when the store says msg was applied.
func saveOnce(s bot.Store, id bot.ConversationID, msg string) error {
	for range 1000 {
		c, v, err := s.Load(ctx, id)
		if err != nil {
			return err
		}
		c.History = append(c.History, msg)
		err = s.Save(ctx, id, v, bot.Commit{Conversation: c, TTL: time.Hour, Seen: bot.SeenIDs{ID: msg, At: seenAt, Window: window}})
		if !errors.Is(err, bot.ErrConflict) {
			return err
		}
	}
	return fmt.Errorf("message %s: still conflicting after 1000 tries", msg)
}
