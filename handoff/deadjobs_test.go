package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// refused is a board error for good, with its class.
type refused string

func (r refused) Error() string   { return "refused: " + string(r) }
func (r refused) Class() string   { return "slack " + string(r) }
func (r refused) Permanent() bool { return true }

// deadOnes returns the dead jobs Jobs lists.
func deadOnes(t *testing.T, q *handoff.Queue) []handoff.BoardJob {
	t.Helper()
	jobs, err := q.Jobs(context.Background())
	require.NoError(t, err)
	var out []handoff.BoardJob
	for _, j := range jobs {
		if j.State == handoff.JobDead {
			out = append(out, j)
		}
	}
	return out
}

// A thread line that fails MaxAttempts times goes to the dead list, not
// away: listed without its words, counted, and posted once when a person
// retries it.
func TestAJobGivenUpIsDeadThenRetried(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(func(o *handoff.Options) { o.MaxAttempts = 3 })
	ctx := context.Background()
	id := bot.ConversationID("dead-0001")
	f.handoff(t, q, string(id), bot.Standard)
	f.stepAt(t, q, handedOff)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "he took my phone"}))
	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "thread") {
			return errors.New("slack server error: 500 Internal Server Error")
		}
		return nil
	})
	for s := range 20 {
		f.stepAt(t, q, handedOff.Add(time.Duration(s)*10*time.Second))
	}
	dead := deadOnes(t, q)
	require.Len(t, dead, 1)
	d := dead[0]
	assert.Equal(t, handoff.JobThread, d.Kind)
	assert.Equal(t, id, d.Conversation)
	assert.Equal(t, 3, d.Attempts)
	assert.Equal(t, "error", d.ErrClass)
	assert.Equal(t, 1, d.Lines)
	assert.False(t, d.GaveUp.IsZero())
	assert.False(t, d.Queued.IsZero())
	assert.NotContains(t, fmt.Sprintf("%+v", dead), "phone", "no words in the listing")
	n, err := q.DeadCount(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(1), n)
	assert.Empty(t, grep(f.board.Posts(), "thread"))

	f.board.setFail(nil)
	require.NoError(t, q.RetryDead(ctx, d.ID))
	assert.ErrorIs(t, q.RetryDead(ctx, d.ID), handoff.ErrNoJob, "it is no longer dead")
	f.stepAt(t, q, handedOff.Add(time.Hour))
	f.stepAt(t, q, handedOff.Add(2*time.Hour))
	assert.Equal(t, []string{"thread dead-000 [tenant] Tenant: he took my phone"}, grep(f.board.Posts(), "thread"), "posted once")
	n, err = q.DeadCount(ctx)
	require.NoError(t, err)
	assert.Zero(t, n)
	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	assert.Empty(t, jobs)
}

// A post the board refuses for good is given up at its first attempt; a
// card is never given up, whatever the board says.
func TestARefusalForGoodGivesUpALineAtOnce(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "gone-0001", bot.Standard)
	f.stepAt(t, q, handedOff)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "gone-0001", Text: "hello"}))
	f.handoff(t, q, "nocard-0001", bot.Standard)
	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "thread") || strings.HasPrefix(what, "card") {
			return refused("is_archived")
		}
		return nil
	})
	f.stepAt(t, q, handedOff.Add(time.Second))
	dead := deadOnes(t, q)
	require.Len(t, dead, 1)
	assert.Equal(t, "gone-0001", string(dead[0].Conversation))
	assert.Equal(t, 1, dead[0].Attempts)
	assert.Equal(t, "slack is_archived", dead[0].ErrClass)
	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	var card []handoff.BoardJob
	for _, j := range jobs {
		if j.Kind == handoff.JobCard {
			card = append(card, j)
		}
	}
	require.Len(t, card, 1, "the card still waits")
	assert.Equal(t, handoff.JobQueued, card[0].State)
	assert.Equal(t, "slack is_archived", card[0].ErrClass)
	assert.False(t, card[0].NextTry.IsZero(), "it is tried again later")
}

// Drop removes a dead or waiting job for good; a waiting card or alert
// is kept, and a job the worker is doing is left alone.
func TestDrop(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(func(o *handoff.Options) { o.MaxAttempts = 1 })
	ctx := context.Background()
	id := bot.ConversationID("drop-0001")
	f.handoff(t, q, string(id), bot.Urgent)
	f.stepAt(t, q, handedOff)
	f.board.setFail(func(what string) error {
		if strings.Contains(what, "first") {
			return errors.New("slack server error: 500")
		}
		return nil
	})
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "first"}))
	f.stepAt(t, q, handedOff.Add(time.Second))
	dead := deadOnes(t, q)
	require.Len(t, dead, 1)
	wasDead, err := q.Drop(ctx, dead[0].ID)
	require.NoError(t, err)
	assert.True(t, wasDead)
	_, err = q.Drop(ctx, dead[0].ID)
	assert.ErrorIs(t, err, handoff.ErrNoJob)
	assert.ErrorIs(t, q.RetryDead(ctx, dead[0].ID), handoff.ErrNoJob)

	// A waiting line goes; a waiting card or alert stays.
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "second"}))
	f.handoff(t, q, "drop-0002", bot.Urgent)
	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 3)
	for _, j := range jobs {
		_, err := q.Drop(ctx, j.ID)
		switch j.Kind {
		case handoff.JobCard, handoff.JobAlert:
			assert.ErrorIs(t, err, handoff.ErrJobKept, "%s", j.Kind)
		default:
			assert.NoError(t, err, "%s", j.Kind)
		}
	}
	// A job being done is left alone.
	var busy error
	f.board.setFail(func(what string) error {
		if strings.Contains(what, "third") {
			jobs, err := q.Jobs(ctx)
			require.NoError(t, err)
			for _, j := range jobs {
				if j.Kind == handoff.JobThread {
					assert.Equal(t, handoff.JobPosting, j.State)
					_, busy = q.Drop(ctx, j.ID)
				}
			}
		}
		return nil
	})
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "third"}))
	f.stepAt(t, q, handedOff.Add(time.Minute))
	assert.ErrorIs(t, busy, handoff.ErrJobBusy)
	assert.Equal(t, []string{"thread drop-000 [tenant] Tenant: third"}, grep(f.board.Posts(), "thread"), "the dropped line never went")
}

// The dead list keeps a job DeadTTL, and holds DeadMax: a job given up
// when it is full stays waiting, tried at the longest backoff.
func TestTheDeadListIsBounded(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(func(o *handoff.Options) {
		o.MaxAttempts, o.DeadMax, o.DeadTTL, o.MaxBackoff = 1, 1, time.Hour, 10*time.Minute
	})
	ctx := context.Background()
	f.handoff(t, q, "full-0001", bot.Standard)
	f.handoff(t, q, "full-0002", bot.Standard)
	f.stepAt(t, q, handedOff)
	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "thread") {
			return errors.New("slack server error: 500")
		}
		return nil
	})
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "full-0001", Text: "one"}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "full-0002", Text: "two"}))
	f.stepAt(t, q, handedOff.Add(time.Second))
	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 2)
	assert.Equal(t, handoff.JobDead, jobs[0].State)
	assert.Equal(t, handoff.JobQueued, jobs[1].State, "the list is full: kept waiting")
	assert.WithinDuration(t, handedOff.Add(time.Second+10*time.Minute), jobs[1].NextTry, 0, "at the longest backoff")

	// An hour on, the dead job is gone; the other is given up in its
	// place when it fails again.
	f.stepAt(t, q, handedOff.Add(time.Hour+2*time.Second))
	jobs, err = q.Jobs(ctx)
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	assert.Equal(t, handoff.JobDead, jobs[0].State)
	assert.Equal(t, bot.ConversationID("full-0002"), jobs[0].Conversation)
	n, err := f.rdb.HLen(ctx, f.key("job")).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(1), n, "the expired job's words are gone too")
}
