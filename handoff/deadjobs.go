package handoff

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// The dead list's bounds, unless Options say otherwise. A week is long
// enough for a post that failed on a Friday evening to be seen and
// retried on Monday; a thousand posts is more than a day of Slack down
// gives up for a busy landlord. A dead post holds at most MaxPostText
// bytes of sealed lines, so the list holds about 4.3 MiB at most.
const (
	DefaultDeadTTL = 7 * 24 * time.Hour
	DefaultDeadMax = 1000
)

// BoardJob is a job for the board that has not been done, as a person
// sees it (safecontact jobs): given up, or waiting. It holds no personal
// data: no words, no number, no name.
type BoardJob struct {
	// ID names the job for RetryDead and Drop: its number.
	ID   string
	Kind JobKind
	// Conversation is the tenant's conversation id, a keyed hash.
	Conversation bot.ConversationID
	// State is JobDead, JobQueued or JobPosting.
	State string
	// Attempts is how many attempts failed (counted afresh after a
	// retry, from one).
	Attempts int
	// ErrClass is the last error's class: rate-limited, timeout, error,
	// or the board's own (for Slack "slack <error code>", "http <status>",
	// "network", "no-card").
	ErrClass string
	// Lines is how many thread lines the post stands for: more than one
	// for a coalesced post, those left out counted; 0 for other jobs.
	Lines int
	// Queued is when it was queued; LastTry when it was last attempted;
	// NextTry when it may be tried next (zero: now, or as soon as the
	// jobs before it of its case and its lane allow); GaveUp when it went
	// on the dead list.
	Queued, LastTry, NextTry, GaveUp time.Time
}

// Job states, as Jobs reports them.
const (
	JobDead    = "dead"    // given up; RetryDead puts it back
	JobQueued  = "queued"  // waiting for its time, its lane or the jobs before it
	JobPosting = "posting" // the worker is doing it now
)

// Errors RetryDead and Drop return.
var (
	// ErrNoJob: no dead or waiting job has the number (done, dropped,
	// expired, or never queued).
	ErrNoJob = errors.New("queue: no such job")
	// ErrJobBusy: the worker is doing the job now; try again in a
	// moment.
	ErrJobBusy = errors.New("queue: the job is being done now")
	// ErrJobKept: a waiting card or alert is not dropped. Officers and
	// on-call act on it, and it is tried until it goes.
	ErrJobKept = errors.New("queue: a waiting card or alert is kept until it goes")
)

// listMax is how many dead jobs, and how many waiting ones, Jobs lists
// at most.
const listMax = 1000

// Jobs returns the dead jobs, most recently given up first, then the
// waiting ones in the order they are done. It reads and changes nothing.
func (q *Queue) Jobs(ctx context.Context) ([]BoardJob, error) {
	now := q.opts.Now()
	dead, err := q.rdb.ZRevRangeByScore(ctx, q.keys.of("dead"), &redis.ZRangeBy{
		Min: "(" + strconv.FormatInt(ms(now.Add(-q.opts.DeadTTL)), 10), Max: "+inf", Count: listMax,
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: jobs: %w", err)
	}
	waiting, err := q.rdb.ZRange(ctx, q.keys.of("jobs"), 0, listMax-1).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: jobs: %w", err)
	}
	ns := append(dead, waiting...)
	if len(ns) == 0 {
		return nil, nil
	}
	// Busy is on Redis's clock (lua/take.lua).
	clock, err := q.rdb.Time(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: jobs: %w", err)
	}
	raws, err := q.rdb.HMGet(ctx, q.keys.of("job"), ns...).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: jobs: %w", err)
	}
	out := make([]BoardJob, 0, len(ns))
	for i, raw := range raws {
		text, ok := raw.(string)
		if !ok {
			continue // done or dropped meanwhile
		}
		var s storedJob
		if err := json.Unmarshal([]byte(text), &s); err != nil {
			continue // damaged: the worker drops it
		}
		j := BoardJob{
			ID: ns[i], Kind: JobKind(s.Kind), Conversation: bot.ConversationID(s.Case), State: JobQueued,
			ErrClass: s.Err, Queued: fromMS(s.Queued), LastTry: fromMS(s.LastTry), NextTry: fromMS(s.At),
		}
		j.Attempts, _ = strconv.Atoi(s.Tries)
		if j.Kind == JobThread {
			j.Lines = s.lines().count()
		}
		switch {
		case i < len(dead):
			j.State, j.GaveUp, j.NextTry = JobDead, fromMS(s.Dead), time.Time{}
		case fromMS(s.Busy).After(clock):
			j.State = JobPosting
		}
		if j.NextTry.Before(now) {
			j.NextTry = time.Time{}
		}
		out = append(out, j)
	}
	return out, nil
}

// DeadCount counts the dead jobs, for a metric: posts given up that a
// person may want to retry.
func (q *Queue) DeadCount(ctx context.Context) (int64, error) {
	n, err := q.rdb.ZCount(ctx, q.keys.of("dead"),
		"("+strconv.FormatInt(ms(q.opts.Now().Add(-q.opts.DeadTTL)), 10), "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("queue: dead jobs: %w", err)
	}
	return n, nil
}

// RetryDead puts a dead job back to be done, in its place among its
// case's jobs, with its attempts counted afresh; the board first looks
// for a post an earlier attempt may have made. It returns ErrNoJob when
// the job is not dead.
func (q *Queue) RetryDead(ctx context.Context, id string) error {
	raw, err := q.rdb.HGet(ctx, q.keys.of("job"), id).Result()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("queue: retry %s: %w", id, ErrNoJob)
	}
	if err != nil {
		return fmt.Errorf("queue: retry %s: %w", id, err)
	}
	var s storedJob
	if err := json.Unmarshal([]byte(raw), &s); err != nil {
		return fmt.Errorf("queue: retry %s: %w: %w", id, errUnreadable, err)
	}
	n, err := q.run(ctx, retryDeadCall{Job: id, ID: bot.ConversationID(s.Case)}).Int()
	if err != nil {
		return fmt.Errorf("queue: retry %s: %w", id, err)
	}
	if n == 0 {
		return fmt.Errorf("queue: retry %s: %w", id, ErrNoJob)
	}
	return nil
}

// Drop removes a dead or waiting job for good, with the words it held,
// and reports whether it was dead. It returns ErrNoJob when the job is
// neither, ErrJobKept for a waiting card or alert, and ErrJobBusy while
// the worker is doing it; then nothing changes. Whoever the job was for
// is not told.
func (q *Queue) Drop(ctx context.Context, id string) (wasDead bool, err error) {
	res, err := q.run(ctx, dropCall{Job: id}).Text()
	if err != nil {
		return false, fmt.Errorf("queue: drop %s: %w", id, err)
	}
	switch res {
	case "dead":
		return true, nil
	case "waiting":
		return false, nil
	case "kept":
		return false, fmt.Errorf("queue: drop %s: %w", id, ErrJobKept)
	case "busy":
		return false, fmt.Errorf("queue: drop %s: %w", id, ErrJobBusy)
	}
	return false, fmt.Errorf("queue: drop %s: %w", id, ErrNoJob)
}
