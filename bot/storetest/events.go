package storetest

import (
	"context"
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
	Events(ctx context.Context, after string, n int64) ([]bot.LoggedEvent, error)
	TrimEvents(ctx context.Context, through string) error
}

// RunEventLog checks a store's event log: events are logged with the turn
// that carries them (and not with a turn that loses the race), read in
// order after an id, and trimmed once taken. open returns a fresh store
// with an empty log.
func RunEventLog(t *testing.T, open func(t *testing.T) EventLog) {
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

	evs, err := s.Events(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, evs, 2)
	assert.Equal(t, bot.EventHandoff, evs[0].Event.Kind)
	assert.Equal(t, "shropshire", evs[0].Event.Handoff.Area, "the log holds the event as it was saved")
	assert.Equal(t, "hello", evs[1].Event.Text)
	assert.NoError(t, evs[0].Err)

	after, err := s.Events(ctx, evs[0].ID, 10)
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.Equal(t, evs[1].ID, after[0].ID)
	first, err := s.Events(ctx, "", 1)
	require.NoError(t, err)
	require.Len(t, first, 1)
	assert.Equal(t, evs[0].ID, first[0].ID)

	require.NoError(t, s.TrimEvents(ctx, evs[0].ID))
	left, err := s.Events(ctx, "", 10)
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Equal(t, evs[1].ID, left[0].ID)

	// Ids keep growing after a trim: a reader's position stays valid.
	require.NoError(t, s.Save(ctx, id, 3, bot.Commit{Conversation: c, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventExited, Conversation: id}}}))
	next, err := s.Events(ctx, evs[1].ID, 10)
	require.NoError(t, err)
	require.Len(t, next, 1)
	assert.Equal(t, bot.EventExited, next[0].Event.Kind)
	require.NoError(t, s.TrimEvents(ctx, next[0].ID))
	left, err = s.Events(ctx, "", 10)
	require.NoError(t, err)
	assert.Empty(t, left)
}
