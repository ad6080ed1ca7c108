package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
)

// EventLog is a store's log of every turn's events, as the officer queue
// reads it.
type EventLog interface {
	bot.Store
	Events(ctx context.Context, n int) ([]bot.LoggedEvent, error)
	Taken(ctx context.Context, evs []bot.LoggedEvent) error
}

// RunEventLog checks a store's event log: events are logged with the turn
// that carries them (and not with a turn that loses the race), come back
// each conversation's in order and each with its conversation, and are
// gone once taken. open returns a fresh store with an empty log.
func RunEventLog(t *testing.T, open func(t *testing.T) EventLog) {
	t.Run("WithTheTurn", func(t *testing.T) {
		s := open(t)
		id := bot.ConversationID("events-0001")
		c := conv("handed_off")
		handoff := bot.Event{Kind: bot.EventHandoff, Conversation: id, Handoff: &bot.Handoff{Area: "shropshire", Address: "+447700900123"}}
		require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: c, TTL: time.Hour, Events: []bot.Event{handoff}}))
		handoff.Handoff.Area = "changed after the save"

		// A turn that loses the race writes no event, nor does a duplicate.
		err := s.Save(ctx, id, 0, bot.Commit{Conversation: c, TTL: time.Hour, Events: []bot.Event{{Kind: bot.EventEmergency, Conversation: id}}})
		require.ErrorIs(t, err, bot.ErrConflict)
		require.NoError(t, s.Save(ctx, id, 1, bot.Commit{Conversation: c, TTL: time.Hour,
			Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: "hello"}}}))
		// A turn without events logs none.
		require.NoError(t, s.Save(ctx, id, 2, bot.Commit{Conversation: c, TTL: time.Hour}))

		evs, err := s.Events(ctx, 10)
		require.NoError(t, err)
		require.Len(t, evs, 2)
		assert.Equal(t, bot.EventHandoff, evs[0].Event.Kind)
		assert.Equal(t, "shropshire", evs[0].Event.Handoff.Area, "the log holds the event as it was saved")
		assert.Equal(t, "hello", evs[1].Event.Text)
		assert.Equal(t, id, evs[0].Conversation)
		assert.Equal(t, id, evs[1].Conversation)
		assert.NoError(t, evs[0].Err)

		again, err := s.Events(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, ids(evs), ids(again), "events not taken are read again")

		require.NoError(t, s.Taken(ctx, evs[:1]))
		left, err := s.Events(ctx, 10)
		require.NoError(t, err)
		require.Len(t, left, 1)
		assert.Equal(t, evs[1].ID, left[0].ID)

		require.NoError(t, s.Save(ctx, id, 3, bot.Commit{Conversation: c, TTL: time.Hour,
			Events: []bot.Event{{Kind: bot.EventExited, Conversation: id}}}))
		next, err := s.Events(ctx, 10)
		require.NoError(t, err)
		require.Len(t, next, 2)
		assert.Equal(t, evs[1].ID, next[0].ID)
		assert.Equal(t, bot.EventExited, next[1].Event.Kind)
		assert.Less(t, idOrder(next[0].ID), idOrder(next[1].ID), "ids order a conversation's events")
		require.NoError(t, s.Taken(ctx, next))
		left, err = s.Events(ctx, 10)
		require.NoError(t, err)
		assert.Empty(t, left)

		// A conversation whose events were all taken is logged to again.
		require.NoError(t, s.Save(ctx, id, 4, bot.Commit{Conversation: c, TTL: time.Hour,
			Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: "still here"}}}))
		last, err := s.Events(ctx, 10)
		require.NoError(t, err)
		require.Len(t, last, 1)
		assert.Equal(t, "still here", last[0].Event.Text)
	})

	// Many conversations saving at once while a reader takes: every event
	// is taken exactly once, each conversation's in order.
	t.Run("ConcurrentWritersAndReader", func(t *testing.T) {
		s := open(t)
		const convs, turns = 20, 15
		var wg sync.WaitGroup
		for i := range convs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				id := bot.ConversationID(fmt.Sprintf("busy-%02d", i))
				for v := range turns {
					assert.NoError(t, s.Save(ctx, id, int64(v), bot.Commit{Conversation: conv("handed_off"), TTL: time.Hour,
						Events: []bot.Event{{Kind: bot.EventTenantMessage, Conversation: id, Text: fmt.Sprint(v)}}}))
				}
			}()
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()

		got := make(map[bot.ConversationID][]string)
		take := func() int {
			evs, err := s.Events(ctx, 7)
			require.NoError(t, err)
			for _, le := range evs {
				require.NoError(t, le.Err)
				got[le.Conversation] = append(got[le.Conversation], le.Event.Text)
			}
			require.NoError(t, s.Taken(ctx, evs))
			return len(evs)
		}
		for {
			select {
			case <-done:
				for take() > 0 {
				}
				for i := range convs {
					id := bot.ConversationID(fmt.Sprintf("busy-%02d", i))
					want := make([]string, turns)
					for v := range turns {
						want[v] = fmt.Sprint(v)
					}
					assert.Equal(t, want, got[id], "%s: every event once, in order", id)
				}
				return
			default:
				take()
			}
		}
	})
}

func ids(evs []bot.LoggedEvent) []string {
	out := make([]string, len(evs))
	for i, le := range evs {
		out[i] = le.ID
	}
	return out
}

// idOrder makes an id comparable as the stores write them: a decimal
// number (memstore) or a Redis stream id, "ms-seq".
func idOrder(id string) string {
	var ms, seq uint64
	if n, _ := fmt.Sscanf(id, "%d-%d", &ms, &seq); n == 0 {
		return id
	}
	return fmt.Sprintf("%020d-%020d", ms, seq)
}
