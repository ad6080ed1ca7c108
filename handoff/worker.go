package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// Run checks the clocks and does the board's jobs every Tick until ctx
// ends, whenever this process holds the lease. Every process runs it; one
// at a time does the work, so posts keep their order.
func (q *Queue) Run(ctx context.Context) error {
	t := time.NewTicker(q.opts.Tick)
	defer t.Stop()
	for {
		if _, err := q.WorkOnce(ctx); err != nil && ctx.Err() == nil {
			q.opts.Log.Error("queue: step failed; will try again", "err", err)
		}
		select {
		case <-ctx.Done():
			q.release()
			return nil
		case <-t.C:
		}
	}
}

// release gives up the lease on the way out, so that another process
// takes over at its next tick rather than when the lease lapses.
func (q *Queue) release() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	q.run(ctx, releaseCall{Owner: q.owner})
}

// WorkOnce runs the clocks and the jobs once, if this process holds the lease
// (or takes it), and reports whether it did.
func (q *Queue) WorkOnce(ctx context.Context) (bool, error) {
	if q.board == nil {
		return false, errors.New("queue: no board to show cases on")
	}
	now := q.opts.Now()
	if held, err := q.renew(ctx); !held || err != nil {
		return false, err
	}
	var errs []error
	if !q.migrated && !now.Before(q.migrateNext) {
		// The queue works on whatever was moved: a case not moved yet
		// waits for the next try.
		if err := q.migrate(ctx); err != nil {
			q.migrateNext = now.Add(migrateRetry)
			errs = append(errs, err)
		} else {
			q.migrated = true
		}
	}
	// Each part runs whatever befell the one before: a Redis error in
	// taking events must not stop the clocks or the posts.
	errs = append(errs, q.sweep(ctx, now), q.takeEvents(ctx))
	n, err := q.fire(ctx, now)
	if n > 0 {
		q.opts.Log.Info("queue: escalations due", "count", n)
	}
	errs = append(errs, err)
	// Dead jobs past their time go before the jobs run, making room for
	// any given up now.
	if err := q.run(ctx, pruneDeadCall{Before: now.Add(-q.opts.DeadTTL), Max: pruneBatch}).Err(); err != nil {
		errs = append(errs, fmt.Errorf("queue: dead jobs: %w", err))
	}
	errs = append(errs, q.jobs(ctx, now))
	if err := q.run(ctx, pruneCall{Max: pruneBatch}).Err(); err != nil {
		errs = append(errs, fmt.Errorf("queue: ledger: %w", err))
	}
	return true, errors.Join(errs...)
}

// Batches of one pass.
const (
	// eventBatch is how many events are asked of the log at once.
	eventBatch = 100
	// fireBatch is how many due timers one pass fires at most.
	fireBatch = 100
	// pruneBatch is how many expired ledger entries, and how many dead
	// jobs past DeadTTL, one pass removes at most.
	pruneBatch = 100
	// rescoreBatch is how many jobs queued before job classes one pass
	// gives their class at most.
	rescoreBatch = 100
)

// fire turns the due timers into alerts, and says how many alerts were
// queued. It reads the due timers, then fires each with its case's keys
// (lua/fire.lua), in one atomic step a timer: a timer fired already, or
// moved later since it was read, is left alone, so a crash between two
// leaves the rest for the next pass and fires none twice.
func (q *Queue) fire(ctx context.Context, now time.Time) (int, error) {
	due, err := q.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: q.keys.of("timers"), ByScore: true, Start: "-inf", Stop: strconv.FormatInt(ms(now), 10), Count: fireBatch,
	}).Result()
	if err != nil {
		return 0, fmt.Errorf("queue: clocks: %w", err)
	}
	n := 0
	var errs []error
	for _, timer := range due {
		i := strings.LastIndexByte(timer, '|')
		if i < 0 {
			q.opts.Log.Error("queue: a timer that names no case is dropped", "timer", timer)
			if err := q.rdb.ZRem(ctx, q.keys.of("timers"), timer).Err(); err != nil {
				errs = append(errs, fmt.Errorf("queue: clocks: %w", err))
			}
			continue
		}
		fired, err := q.run(ctx, fireCall{Timer: timer, ID: bot.ConversationID(timer[i+1:]), Now: now}).Int()
		if err != nil {
			errs = append(errs, fmt.Errorf("queue: clocks: %w", err))
			continue
		}
		n += fired
	}
	return n, errors.Join(errs...)
}

// sweep has the event log find events it would not return, when it can
// (Sweeper) and SweepEvery has passed since the last sweep: they are
// then taken with the rest.
func (q *Queue) sweep(ctx context.Context, now time.Time) error {
	sw, ok := q.opts.Events.(Sweeper)
	if !ok || now.Before(q.sweepNext) {
		return nil
	}
	q.sweepNext = now.Add(SweepEvery)
	n, err := sw.Sweep(ctx)
	if n > 0 {
		q.opts.Log.Warn("queue: conversations had events waiting that the event log had lost track of (a Redis failover?); taking them now", "count", n)
	}
	if err != nil {
		return fmt.Errorf("queue: sweep events: %w", err)
	}
	return nil
}

// takeEvents applies the events the store logged and not yet taken, then
// tells the log they were taken. Each is applied once: the script that
// applies one also records its id as its conversation's position, so an
// event the log returns again (Taken failed, or the process stopped
// between applying and Taken) is passed over.
func (q *Queue) takeEvents(ctx context.Context) error {
	if q.opts.Events == nil {
		return nil
	}
	for {
		evs, err := q.opts.Events.Events(ctx, eventBatch)
		if err != nil {
			return fmt.Errorf("queue: events: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		// A failure stops the pass there: a conversation's later events
		// must not be applied before the one that failed, which the log
		// returns again.
		done, failed := 0, error(nil)
		for _, le := range evs {
			if failed = q.take(ctx, le); failed != nil {
				break
			}
			done++
		}
		if done > 0 {
			if err := q.opts.Events.Taken(ctx, evs[:done]); err != nil {
				// They are applied, and passed over when returned again;
				// this pass stops rather than read them again at once.
				q.opts.Log.Warn("queue: events not marked taken; they will be passed over", "err", err)
				return failed
			}
		}
		if failed != nil || len(evs) < eventBatch {
			return failed
		}
	}
}

// take applies one logged event. One that cannot be read is passed over,
// once.
func (q *Queue) take(ctx context.Context, le bot.LoggedEvent) error {
	if le.Err == nil {
		return q.apply(ctx, le.Event, event{ID: le.ID})
	}
	q.opts.Log.Error("queue: an event could not be read and is passed over",
		"case", ShortRef(le.Conversation), "event", le.ID, "err", le.Err)
	if le.Conversation == "" {
		return nil // no position to record: Taken drops it
	}
	if err := q.run(ctx, skipCall{ID: le.Conversation, Event: event{ID: le.ID}}).Err(); err != nil {
		return fmt.Errorf("queue: skip event: %w", err)
	}
	return nil
}

// renew takes or renews the lease, and reports whether this process
// holds it.
func (q *Queue) renew(ctx context.Context) (bool, error) {
	held, err := q.run(ctx, leaseCall{Owner: q.owner, For: q.opts.Lease}).Int()
	if err != nil {
		return false, fmt.Errorf("queue: lease: %w", err)
	}
	return held == 1, nil
}

// hold renews the lease every third of it while a job runs, and cancels
// the job if the lease is lost: another process may have taken over. The
// returned func stops it.
func (q *Queue) hold(ctx context.Context, cancel context.CancelFunc) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(q.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-t.C:
				rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), q.opts.Lease/3)
				held, err := q.renew(rctx)
				rcancel()
				if err != nil || !held {
					q.opts.Log.Warn("queue: lease lost during a job; stopping it", "err", err)
					cancel()
					return
				}
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

// job is one piece of work for the board.
type job struct {
	n      string
	kind   JobKind
	id     bot.ConversationID
	line   Line // its Text is filled from sealed by unseal
	sealed sealedLines
	alert  Alert
	// extra is the duty an alert is about, or an export's
	// "event|version".
	extra    string
	attempts int
	at       time.Time // not before; zero for now
}

// job reads a job just before it is done, so that one dropped meanwhile
// (the tenant asked for their words to be erased) is not done; nil when
// it is gone.
func (q *Queue) job(ctx context.Context, n string) (*job, error) {
	raw, err := q.rdb.HGet(ctx, q.keys.of("job"), n).Result()
	if errors.Is(err, redis.Nil) {
		// Listed with no job: a job number is never used again, so the
		// listing can go.
		q.rdb.ZRem(ctx, q.keys.of("jobs"), n)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: job: %w", err)
	}
	return q.parseJob(ctx, n, raw)
}

// takeJob marks the job taken (lua/take.lua) and returns it as it is
// now; nil when it is no longer waiting.
func (q *Queue) takeJob(ctx context.Context, n string) (*job, error) {
	raw, err := q.run(ctx, takeCall{Job: n, For: q.opts.JobTimeout + q.opts.Lease}).Text()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("queue: take job: %w", err)
	}
	return q.parseJob(ctx, n, raw)
}

// parseJob reads a stored job. One that cannot be read is dropped,
// rather than allowed to stop every other job; nil then.
func (q *Queue) parseJob(ctx context.Context, n, raw string) (*job, error) {
	var s storedJob
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		q.opts.Log.Error("queue: a job cannot be read; dropped", "job", n, "err", err)
		if err := q.rdb.HDel(ctx, q.keys.of("job"), n).Err(); err != nil {
			return nil, fmt.Errorf("queue: job: %w", err)
		}
		q.rdb.ZRem(ctx, q.keys.of("jobs"), n)
		return nil, nil
	}
	j := &job{n: n, kind: JobKind(s.Kind), id: bot.ConversationID(s.Case), alert: Alert(s.Alert),
		line: Line{Officer: s.Officer, Officer2: s.Officer2, Tenant: s.Tenant == "1"}, sealed: s.lines(), extra: s.Extra}
	j.attempts, _ = strconv.Atoi(s.Tries)
	j.at = fromMS(s.At)
	return j, nil
}

// caseFor reads a job's case, once a pass.
func (q *Queue) caseFor(ctx context.Context, cases map[bot.ConversationID]*Case, id bot.ConversationID) (*Case, error) {
	if c := cases[id]; c != nil {
		return c, nil
	}
	c, err := q.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	cases[id] = c
	return c, nil
}

func (q *Queue) do(ctx context.Context, c *Case, j *job) (Ref, error) {
	switch j.kind {
	case JobCard:
		return q.board.PostCase(ctx, c)
	case JobUpdate:
		return Ref{}, q.board.UpdateCase(ctx, c)
	case JobThread:
		return q.board.PostThread(ctx, c, j.line)
	case JobAlert:
		var d *Duty
		if j.extra != "" {
			if d = c.Duty(j.extra); d == nil {
				return Ref{}, nil // the duty went with a reopening
			}
		}
		return Ref{}, q.board.Alert(ctx, c, j.alert, d)
	case JobRedact:
		list, err := q.rdb.LRange(ctx, q.keys.refsKey(c.ID), 0, -1).Result()
		if err != nil {
			return Ref{}, err
		}
		refs := make([]Ref, 0, len(list))
		var tried []Ref
		for _, r := range list {
			if t, ok := strings.CutPrefix(r, "?"); ok {
				// A post tried before the erasure ('?channel|thread|job'):
				// looked for last, after the posts known, which it may be
				// one of (the attempt under way at the erasure).
				parts := strings.Split(t, "|")
				if len(parts) == 3 {
					tried = append(tried, Ref{Channel: parts[0], Thread: parts[1], Job: q.keys.of("job:" + parts[2])})
				}
				continue
			}
			ch, ts, ok := strings.Cut(r, "|")
			if !ok { // listed before refs carried their channel
				ch, ts = c.Card.Channel, r
			}
			if ch == "" || ts == "" || ts == c.Card.TS {
				continue // no channel to find it in; or the current card, redrawn by the update
			}
			refs = append(refs, Ref{Channel: ch, TS: ts})
		}
		return Ref{}, q.board.Redact(ctx, c, append(refs, tried...))
	case JobRepairs:
		return Ref{}, q.board.PostRepairs(ctx, c, j.line.Text)
	case JobExport:
		if q.opts.Exporter == nil {
			return Ref{}, nil
		}
		event, v, _ := strings.Cut(j.extra, "|")
		version, _ := strconv.Atoi(v)
		return Ref{}, q.opts.Exporter.Export(ctx, c, event, version)
	}
	q.opts.Log.Error("queue: unknown job dropped", "job", string(j.kind))
	return Ref{}, nil
}

func (q *Queue) done(ctx context.Context, j *job, ref Ref) error {
	err := q.run(ctx, doneCall{
		Job: j.n, ID: j.id, Posted: ref, CardTTL: q.opts.TTL, Kind: j.kind, RefsTTL: max(q.opts.TTL, q.opts.LedgerTTL),
		Tenant: j.line.Tenant,
	}).Err()
	if err != nil {
		return fmt.Errorf("queue: job done: %w", err)
	}
	return nil
}

// failed records a failed attempt. A card, an alert, a repairs request,
// an export or a redaction is never given up: it is what officers,
// on-call, the repairs team and the housing system act on, or what the
// tenant asked for, and it is tried again, at the longest backoff, until
// the channel or receiver is fixed; when a card has failed MaxAttempts
// times the managers are told, once. Other jobs (card updates, thread
// lines) are given up after MaxAttempts, or at once when the board
// refuses them for good (Permanent): they go to the dead list, where a
// person can retry or drop them (Jobs). When the dead list is full, the
// job stays and is tried at the longest backoff.
func (q *Queue) failed(ctx context.Context, c *Case, j *job, now time.Time, cause error) error {
	n := j.attempts + 1
	class := errClass(cause)
	log := q.opts.Log.With("case", c.Short(), "job", string(j.kind), "attempts", n, "err", cause)
	keep := j.kind == JobCard || j.kind == JobAlert || j.kind == JobExport || j.kind == JobRepairs || j.kind == JobRedact
	wait := q.backoff(j.attempts)
	if !keep && (n >= q.opts.MaxAttempts || permanent(cause)) {
		moved, err := q.run(ctx, deadCall{Job: j.n, Tries: n, Class: class, Now: now, Max: q.opts.DeadMax}).Int()
		if err != nil {
			return fmt.Errorf("queue: dead job: %w", err)
		}
		switch moved {
		case 1:
			log.Error("queue: giving up a job; it is on the dead list", "class", class)
			return nil
		case -1:
			return nil // dropped meanwhile
		}
		log.Error("queue: giving up a job, but the dead list is full; it is kept and tried again", "class", class)
		wait = q.opts.MaxBackoff
	}
	alert := Alert("")
	if j.kind == JobCard && n == q.opts.MaxAttempts {
		// Officers cannot see the case where they look.
		alert = AlertNoCard
		log.Error("queue: a card cannot be posted; the managers are told, and it is still tried")
	} else {
		log.Warn("queue: job failed; will retry", "wait", wait)
	}
	// One script: the attempt is counted and the alert queued together.
	err := q.run(ctx, retryCall{Job: j.n, Tries: n, At: now.Add(wait), ID: j.id, Alert: alert, Class: class, Now: now}).Err()
	if err != nil {
		return fmt.Errorf("queue: job retry: %w", err)
	}
	return nil
}

// backoff is the wait after the n-th failed attempt: doubling, capped.
func (q *Queue) backoff(n int) time.Duration {
	d := q.opts.BaseBackoff
	for i := 0; i < n && d < q.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, q.opts.MaxBackoff)
}
