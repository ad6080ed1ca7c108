package handoff_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
)

// setFail sets what the board refuses, under its lock.
func (b *board) setFail(fail func(what string) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = fail
}

// An urgent case's card and its on-call alert go before every other
// case's waiting work, however much of it there is: here 1,500 jobs of
// 300 cases, more than one pass reads.
func TestAnUrgentCaseGoesBeforeAnyBacklog(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	for i := range 300 {
		id := fmt.Sprintf("backlog-%04d", i)
		f.handoff(t, q, id, bot.Standard)
		for k := range 4 {
			require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: bot.ConversationID(id), Text: fmt.Sprintf("line %d", k)}))
		}
	}
	f.handoff(t, q, "urgent-0001", bot.Urgent)
	n, err := f.rdb.ZCard(ctx, f.key("jobs")).Result()
	require.NoError(t, err)
	require.Equal(t, int64(1502), n, "300 cards, 1,200 lines, and the urgent case's card and alert")

	f.stepAt(t, q, handedOff)
	posts := f.board.Posts()
	require.GreaterOrEqual(t, len(posts), 2)
	assert.Equal(t, []string{"card urgent-0 urgent", "alert urgent-0 oncall"}, posts[:2],
		"the alert first, after the card it links to")
	assert.NotEmpty(t, grep(posts, "card backlog"), "the backlog's cards go too")
	thread := false
	for _, p := range posts {
		thread = thread || strings.HasPrefix(p, "thread")
		if thread && strings.HasPrefix(p, "card") {
			t.Fatalf("a card after a thread line: %q", p)
		}
	}
}

// A rate-limited channel holds back its own posts only: the on-call
// alert goes at once, and the urgent card is the first post in its
// channel once the wait is over, ahead of the flood's lines there.
func TestARateLimitedChannelHoldsBackOnlyItsOwnPosts(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "flood-0001", bot.Standard)
	f.stepAt(t, q, handedOff)
	for i := range 20 {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "flood-0001", Text: fmt.Sprintf("flood %04d", i)}))
	}
	limited := true
	f.board.setFail(func(what string) error {
		if limited && !strings.HasPrefix(what, "alert") {
			limited = false
			return retryAfter(5 * time.Second)
		}
		return nil
	})
	f.stepAt(t, q, handedOff.Add(time.Second)) // the channel is rate limited: it waits 5 s
	f.handoff(t, q, "urgent-0001", bot.Urgent)
	f.stepAt(t, q, handedOff.Add(2*time.Second))
	assert.Equal(t, "alert urgent-0 oncall", last(f.board.Posts()), "on-call's channel is not held back")
	f.stepAt(t, q, handedOff.Add(6*time.Second))
	posts := f.board.Posts()
	require.Greater(t, len(posts), 3)
	assert.Equal(t, []string{"card flood-00 standard", "alert urgent-0 oncall", "card urgent-0 urgent"}, posts[:3],
		"the urgent card first in its channel when the wait is over")
	assert.Equal(t, 20, strings.Count(strings.Join(posts[3:], "\n"), "Tenant: flood 00"), "then the flood's lines")
}

// A case raised to urgent while its card waits has the card moved up
// with the urgent cases': its card, then the alert about it, before the
// cards of other cases queued earlier.
func TestACaseRaisedToUrgentHasItsWaitingCardMovedUp(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "first-0001", bot.Standard)
	f.handoff(t, q, "raised-0001", bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventPriorityRaised, Conversation: "raised-0001", Priority: bot.Urgent}))

	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	var order []string
	for _, j := range jobs {
		order = append(order, string(j.Kind)+" "+string(j.Conversation))
	}
	assert.Equal(t, []string{"alert raised-0001", "card raised-0001", "update raised-0001", "card first-0001"}, order)

	f.stepAt(t, q, handedOff)
	assert.Equal(t, []string{"card raised-0 urgent", "alert raised-0 oncall", "update raised-0 queued  exited=false", "card first-00 standard"}, f.board.Posts())
}

// Jobs queued by the version before job classes (scored by number) are
// given their class: an old backlog of thread lines does not go before a
// new urgent case.
func TestJobsQueuedBeforeClassesAreGivenTheirs(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "old-0001", bot.Standard)
	f.stepAt(t, q, handedOff)
	require.NoError(t, q.Note(ctx, "old-0001", "A line queued before."))
	ns, err := f.rdb.ZRange(ctx, f.key("jobs"), 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, ns, 1)
	var n int64
	fmt.Sscan(ns[0], &n)
	require.NoError(t, f.rdb.ZAdd(ctx, f.key("jobs"), redis.Z{Score: float64(n), Member: ns[0]}).Err(), "scored as before")

	f.handoff(t, q, "urgent-0001", bot.Urgent)
	f.stepAt(t, q, handedOff.Add(time.Second))
	assert.Equal(t, []string{"card old-0001 standard", "card urgent-0 urgent", "alert urgent-0 oncall",
		"thread old-0001 A line queued before."}, f.board.Posts())
}

// On-call's alert goes without the card's link when the card cannot go:
// it waits for nothing.
func TestAnAlertDoesNotWaitForACardThatCannotGo(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "card") {
			return retryAfter(time.Minute)
		}
		return nil
	})
	f.handoff(t, q, "urgent-0001", bot.Urgent)
	f.stepAt(t, q, handedOff)
	assert.Equal(t, []string{"alert urgent-0 oncall"}, f.board.Posts())
}

// An urgent case's thread lines go before other cases'; a case raised to
// urgent takes the lines it has waiting with it, in their order.
func TestAnUrgentCasesLinesGoBeforeOtherCases(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "calm-0001", bot.Standard)
	f.handoff(t, q, "raised-0001", bot.Standard)
	f.stepAt(t, q, handedOff)
	for _, m := range []struct{ id, text string }{
		{"calm-0001", "calm 1"}, {"raised-0001", "raised 1"}, {"calm-0001", "calm 2"}, {"raised-0001", "raised 2"},
	} {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: bot.ConversationID(m.id), Text: m.text}))
	}
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventPriorityRaised, Conversation: "raised-0001", Priority: bot.Urgent}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "raised-0001", Text: "raised 3"}))
	f.stepAt(t, q, handedOff.Add(time.Second))
	assert.Equal(t, []string{
		"thread raised-0 [tenant] Tenant: raised 1",
		"thread raised-0 [tenant] Tenant: raised 2",
		"thread raised-0 [tenant] Tenant: raised 3",
		"thread calm-000 [tenant] Tenant: calm 1",
		"thread calm-000 [tenant] Tenant: calm 2",
	}, grep(f.board.Posts(), "thread"))
}
