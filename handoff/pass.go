package handoff

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// jobWindow is how many of the waiting jobs one pass reads, in order:
// the alerts and the cards come first (lua/helpers.lua, jobClass), so
// no backlog of thread lines keeps them out of it.
const jobWindow = 1000

// jobPass is how long one pass of the jobs takes new ones: a pass cut
// short goes on from the top at the next, so that an alert or a card
// queued meanwhile waits behind at most this and one call.
const jobPass = time.Second

// pass is one pass of the jobs.
type pass struct {
	now time.Time
	// blocked holds back a case's later ordered jobs after one that
	// cannot go now.
	blocked map[bot.ConversationID]bool
	// cases are read once a pass, however many of a case's jobs are
	// due; a card's place is noted when this pass posts it.
	cases map[bot.ConversationID]*Case
	// seen are the jobs this pass has looked at.
	seen map[string]bool
}

// jobs does the waiting jobs in order: alerts, then urgent cases' cards
// and updates, then other cards and updates, then urgent cases' thread
// lines, then other thread lines (see jobClass in lua/helpers.lua). A job that fails waits, with backoff, and
// holds back the later jobs of its case (their order matters: the card
// before its thread). A rate limit holds back its whole lane (a Slack
// channel) for the time asked, and counts against no job.
func (q *Queue) jobs(ctx context.Context, now time.Time) error {
	if err := q.rescore(ctx); err != nil {
		return err
	}
	ns, err := q.rdb.ZRange(ctx, q.keys.of("jobs"), 0, jobWindow-1).Result()
	if err != nil {
		return fmt.Errorf("queue: jobs: %w", err)
	}
	p := &pass{now: now, blocked: map[bot.ConversationID]bool{}, cases: map[bot.ConversationID]*Case{}, seen: map[string]bool{}}
	start := time.Now()
	for _, n := range ns {
		if ctx.Err() != nil || time.Since(start) > jobPass {
			return nil
		}
		if err := q.attempt(ctx, p, n); err != nil {
			return err
		}
	}
	return nil
}

// attempt does job n if it may go now.
func (q *Queue) attempt(ctx context.Context, p *pass, n string) error {
	if p.seen[n] {
		return nil
	}
	p.seen[n] = true
	j, err := q.job(ctx, n)
	if err != nil || j == nil {
		return err
	}
	// Alerts wait for nothing: on-call must hear of an urgent case even
	// while its card cannot be posted. Nor does the export, which goes
	// elsewhere. Nor does a redaction, which never touches the current
	// card (the update after it redraws that): a Slack message it cannot
	// reach must not hold back the tenant's next case.
	ordered := j.kind != JobAlert && j.kind != JobExport && j.kind != JobRedact
	if ordered && p.blocked[j.id] {
		return nil
	}
	if p.now.Before(j.at) {
		p.blocked[j.id] = p.blocked[j.id] || ordered
		return nil
	}
	// Renewed before each call, so that the lease cannot lapse while
	// this process works through a long list.
	if held, err := q.renew(ctx); !held || err != nil {
		return err
	}
	c, err := q.caseFor(ctx, p.cases, j.id)
	if errors.Is(err, ErrNoCase) && (j.kind == JobRedact || j.kind == JobExport) {
		// The case has expired, but Slack keeps the messages that held
		// the tenant's words, and the housing system its record: DELETE
		// erases them all the same.
		c, err = &Case{ID: j.id}, nil
	}
	if errors.Is(err, ErrNoCase) || errors.Is(err, errUnreadable) {
		q.opts.Log.Error("queue: job for a case that is gone or cannot be read; dropped", "case", ShortRef(j.id), "job", string(j.kind), "err", err)
		return q.done(ctx, j, Ref{})
	}
	if err != nil {
		return err
	}
	if c.Card.TS == "" && c.cardJob != "" && j.kind != JobCard {
		switch j.kind {
		case JobAlert:
			// An alert links to the case's card: the card goes first if it
			// can go now, out of its class's turn. If it cannot, the alert
			// goes without it.
			if err := q.attempt(ctx, p, c.cardJob); err != nil {
				return err
			}
		case JobUpdate:
			// The card is still to go up, and it draws the case as it is
			// then: the update has nothing to redraw.
			waiting, err := q.waiting(ctx, c.cardJob)
			if err != nil {
				return err
			}
			if waiting {
				return q.done(ctx, j, Ref{})
			}
		}
	}
	lane := "export"
	if j.kind != JobExport {
		lane = q.board.Lane(c, j.kind, j.alert)
	}
	if until, ok := q.paused[lane]; ok && p.now.Before(until) {
		p.blocked[j.id] = p.blocked[j.id] || ordered
		return nil
	}
	// Taken as it is now: lines may have joined it since it was read.
	if j, err = q.takeJob(ctx, n); err != nil || j == nil {
		return err
	}
	if err := q.unseal(j); err != nil {
		q.opts.Log.Error("queue: job that cannot be read; dropped", "case", ShortRef(j.id), "job", string(j.kind), "err", err)
		return q.done(ctx, j, Ref{})
	}
	// A post and its record are not cut short by shutdown: a post Slack
	// accepted but the queue did not record would be posted again by the
	// next lease holder. ctx is checked between jobs.
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), q.opts.JobTimeout)
	jctx = withJob(jctx, Job{Key: q.keys.of("job:" + j.n), Attempt: j.attempts})
	stop := q.hold(jctx, cancel)
	ref, err := q.do(jctx, c, j)
	stop()
	if err == nil {
		err = q.done(jctx, j, ref)
		cancel()
		if err != nil {
			return err
		}
		if j.kind == JobCard {
			c.Card = ref // for the jobs after it in this pass
		}
		if q.opts.Posted != nil {
			q.opts.Posted(j.kind, c, j.alert)
		}
		return nil
	}
	cancel()
	p.blocked[j.id] = p.blocked[j.id] || ordered
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		wait := max(ra.RetryAfter(), time.Second)
		q.paused[lane] = p.now.Add(wait)
		q.opts.Log.Warn("queue: rate limited; the lane waits", "lane", lane, "wait", wait)
		// Not an attempt: the job is released as it was.
		err := q.run(ctx, retryCall{Job: j.n, Tries: j.attempts, At: j.at, ID: j.id, Class: classRateLimited, Now: p.now}).Err()
		if err != nil {
			return fmt.Errorf("queue: job retry: %w", err)
		}
		return nil
	}
	return q.failed(ctx, c, j, p.now, err)
}

// rescore gives the jobs queued before there were job classes (scored
// by their number alone, below classSpan) their class, a batch a pass:
// during an upgrade, a process of the version before may still queue
// some.
func (q *Queue) rescore(ctx context.Context) error {
	ns, err := q.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: q.keys.of("jobs"), ByScore: true, Start: "-inf", Stop: "(" + strconv.FormatInt(int64(classSpan), 10), Count: rescoreBatch,
	}).Result()
	if err != nil {
		return fmt.Errorf("queue: jobs: %w", err)
	}
	for _, n := range ns {
		j, err := q.job(ctx, n)
		if err != nil {
			return err
		}
		if j == nil {
			continue
		}
		if err := q.run(ctx, rescoreCall{Job: n, ID: j.id}).Err(); err != nil {
			return fmt.Errorf("queue: jobs: %w", err)
		}
	}
	return nil
}

// waiting reports whether the job is still waiting to be done.
func (q *Queue) waiting(ctx context.Context, n string) (bool, error) {
	err := q.rdb.ZScore(ctx, q.keys.of("jobs"), n).Err()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("queue: jobs: %w", err)
	}
	return true, nil
}
