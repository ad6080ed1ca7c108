package handoff_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/redisstore"
)

// lostTaken is the Redis store's event log with every Taken lost, so that
// the queue is handed the same events again and again.
type lostTaken struct{ *redisstore.Store }

func (lostTaken) Taken(context.Context, []bot.LoggedEvent) error { return errors.New("taken lost") }

// The queue on the real Redis store's event log (one server, Sentinel or a
// cluster, as the tests are run): every event is applied once, an entry
// that cannot be opened is passed over, and events handed again after a
// lost Taken are not applied twice.
func TestEventsFromTheRedisStoreAreTakenOnce(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	store := redisstore.New(f.rdb, f.sealer, redisstore.Options{Prefix: f.prefix + "conv:", EventLog: f.prefix + "events"})
	ctx := context.Background()
	id := bot.ConversationID("logged-0001")
	now := f.clock.Now()
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	commits := [][]bot.Event{
		{{Kind: bot.EventHandoff, Conversation: id, At: now, Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Area: "shropshire", Channel: bot.ChannelSMS, At: now, Deadline: f.hours.Deadline(now),
		}}},
		{{Kind: bot.EventTenantMessage, Conversation: id, At: now, Text: "one"}},
		{{Kind: bot.EventTenantMessage, Conversation: id, At: now, Text: "two"}},
	}
	for v, evs := range commits {
		require.NoError(t, store.Save(ctx, id, int64(v), bot.Commit{Conversation: conv, TTL: time.Hour, Events: evs}))
		if v == 0 {
			require.NoError(t, f.rdb.XAdd(ctx, &redis.XAddArgs{Stream: store.EventKey(id), Values: []any{"e", "damaged"}}).Err())
		}
	}

	const lease = 200 * time.Millisecond
	q := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: lostTaken{store}, Lease: lease})
	f.stepAt(t, q, now)
	f.stepAt(t, q, now.Add(time.Second))
	// Another process takes over once the first one's lease runs out.
	q2 := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: store, Lease: lease})
	f.clock.Set(now.Add(time.Minute))
	require.Eventually(t, func() bool {
		held, err := q2.WorkOnce(ctx)
		require.NoError(t, err)
		return held
	}, 5*time.Second, 50*time.Millisecond)
	assert.Equal(t, []string{"card logged-0 standard", "thread logged-0 [tenant] Tenant: one", "thread logged-0 [tenant] Tenant: two"}, f.board.Posts())

	left, err := store.Events(ctx, 10)
	require.NoError(t, err)
	assert.Empty(t, left, "the queue that could take them took them")
}

// A handoff whose mark in the store's index was lost (a cluster failover
// of the index's primary) is found by the queue's sweep on its first
// pass and every SweepEvery after, and becomes a case.
func TestQueueSweepsUpAHandoffWhoseMarkWasLost(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	eventLog := f.prefix + "events"
	store := redisstore.New(f.rdb, f.sealer, redisstore.Options{Prefix: f.prefix + "conv:", EventLog: eventLog})
	ctx := context.Background()
	now := f.clock.Now()
	conv := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off"}
	handOff := func(id bot.ConversationID) {
		require.NoError(t, store.Save(ctx, id, 0, bot.Commit{Conversation: conv, TTL: time.Hour, Events: []bot.Event{{
			Kind: bot.EventHandoff, Conversation: id, At: now, Handoff: &bot.Handoff{
				Reason: bot.ReasonComplete, Area: "shropshire", Channel: bot.ChannelSMS, At: now, Deadline: f.hours.Deadline(now),
			}}}}))
		tag := "{" + eventLog + "}"
		require.NoError(t, f.rdb.ZRem(ctx, tag+":due", string(id)).Err())
		require.NoError(t, f.rdb.HDel(ctx, tag+":marks", string(id)+":w", string(id)+":d").Err())
	}

	handOff("swept-0001")
	q := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: store})
	f.stepAt(t, q, now)
	assert.Equal(t, []string{"card swept-00 standard"}, f.board.Posts())

	handOff("swept-0002")
	f.stepAt(t, q, now.Add(handoff.SweepEvery-time.Second))
	assert.Len(t, f.board.Posts(), 1, "not swept again yet")
	f.stepAt(t, q, now.Add(handoff.SweepEvery))
	assert.Equal(t, []string{"card swept-00 standard", "card swept-00 standard"}, f.board.Posts())
}
