package memstore_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/bot/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (bot.Store, bot.Store) {
		s := memstore.New(nil)
		return s, s
	})
}

func TestSweep(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := memstore.New(func() time.Time { return now })
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, "short", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Minute}))
	require.NoError(t, s.Save(ctx, "long", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Hour}))

	now = now.Add(59 * time.Second)
	assert.Zero(t, s.Sweep())
	now = now.Add(time.Second)
	assert.Equal(t, 1, s.Sweep(), "the conversation whose TTL ended is dropped")
	assert.Equal(t, 1, s.Len())
	c, _, err := s.Load(ctx, "long")
	require.NoError(t, err)
	assert.NotNil(t, c)
}

// The seen ids are trimmed to the window on every save, expire on their
// own clock and outlive the state.
func TestSeenIDs(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := memstore.New(func() time.Time { return now })
	ctx := context.Background()
	save := func(v int64, msg string, at time.Time) {
		t.Helper()
		require.NoError(t, s.Save(ctx, "c", v, bot.Commit{Conversation: &bot.Conversation{State: "s"}, TTL: time.Hour,
			Seen: bot.SeenIDs{ID: msg, At: at, Window: 24 * time.Hour}}))
	}
	save(0, "a", now)
	save(1, "b", now.Add(time.Hour))
	assert.ElementsMatch(t, []string{"a", "b"}, s.Seen("c"))
	save(2, "c", now.Add(24*time.Hour))
	assert.ElementsMatch(t, []string{"b", "c"}, s.Seen("c"), "a, seen a day ago, is trimmed")

	now = now.Add(2 * time.Hour)
	c, _, err := s.Load(ctx, "c")
	require.NoError(t, err)
	assert.Nil(t, c, "the state expired after its hour")
	assert.ElementsMatch(t, []string{"b", "c"}, s.Seen("c"), "the seen ids did not")
	now = now.Add(24 * time.Hour)
	s.Sweep()
	assert.Empty(t, s.Seen("c"), "a day after the last save they expire too")
}

func TestEventLogConformance(t *testing.T) {
	storetest.RunEventLog(t, func(t *testing.T) storetest.EventLog { return memstore.New(nil) })
}

func TestEventLogWakesItsReader(t *testing.T) {
	s := memstore.New(nil)
	ctx := context.Background()
	woken := s.Logged()
	require.NoError(t, s.Save(ctx, "quiet", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Minute}))
	select {
	case <-woken:
		t.Fatal("a turn without events woke the reader")
	default:
	}
	require.NoError(t, s.Save(ctx, "quiet", 1, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Minute,
		Events: []bot.Event{{Kind: bot.EventExited, Conversation: "quiet"}}}))
	select {
	case <-woken:
	default:
		t.Fatal("a turn with events did not wake the reader")
	}
}

func TestEventLogIsBounded(t *testing.T) {
	s := memstore.New(nil)
	ctx := context.Background()
	events := make([]bot.Event, memstore.MaxEvents+5)
	for i := range events {
		events[i] = bot.Event{Kind: bot.EventTenantMessage, Conversation: "busy", Text: strconv.Itoa(i)}
	}
	require.NoError(t, s.Save(ctx, "busy", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Minute, Events: events}))
	first, err := s.Events(ctx, 1)
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, "5", first[0].Event.Text, "the oldest events past MaxEvents are dropped")
}
