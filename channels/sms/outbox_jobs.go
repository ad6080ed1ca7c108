package sms

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// OutboxJob is a text that has not gone, as a person sees it
// (safecontact jobs): given up, or waiting. It holds neither the number
// nor the words.
type OutboxJob struct {
	// ID names the job for RetryDead and Drop: the message id, a digest
	// of its idempotency key.
	ID string
	// Conversation is the tenant's conversation id, a keyed hash.
	Conversation bot.ConversationID
	// State is JobDead, JobQueued, JobSending or JobUnsure.
	State string
	// Attempts is how many attempts were made (counted afresh after a
	// retry).
	Attempts int
	// ErrClass and ErrCode are the last error: its class (network,
	// no-answer, twilio, refused, lookup, gate, unreadable, undelivered)
	// and Twilio's error code, 0 when it gave none.
	ErrClass string
	ErrCode  int
	// Unsure: the last attempt ended without an answer, so the text may
	// have gone. A retry looks it up in Twilio before sending it again.
	Unsure bool
	// Queued is when it was queued; LastTry when it was last attempted;
	// NextTry when it is tried next (zero: behind another text of the
	// conversation, or dead); GaveUp when it went on the dead list.
	Queued, LastTry, NextTry, GaveUp time.Time
}

// Job states, as Jobs reports them.
const (
	JobDead    = "dead"    // given up; RetryDead sends it again
	JobQueued  = "queued"  // waiting for its time or for the texts before it
	JobSending = "sending" // a worker is trying it now
	JobUnsure  = "unsure"  // its last attempt ended without an answer; it is looked up before anything is sent again
)

// Errors RetryDead and Drop return.
var (
	// ErrNoJob: no dead or waiting text has the id (sent, cancelled,
	// dropped or expired, or never queued).
	ErrNoJob = errors.New("outbox: no such job")
	// ErrJobBusy: a worker is trying the text now; try again in a moment.
	ErrJobBusy = errors.New("outbox: the text is being sent now")
)

// jobFields are the message hash's fields a listing reads.
var jobFields = []string{"c", "s", "n", "q", "a", "l", "u", "ec", "code", "d"}

func msTime(s any) time.Time {
	v, _ := s.(string)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

func atoi(s any) int {
	v, _ := s.(string)
	n, _ := strconv.Atoi(v)
	return n
}

// job reads a message hash's fields (jobFields) into a job.
func job(id string, v []any) OutboxJob {
	conv, _ := v[0].(string)
	class, _ := v[7].(string)
	return OutboxJob{
		ID: id, Conversation: bot.ConversationID(conv), Attempts: atoi(v[2]),
		ErrClass: class, ErrCode: atoi(v[8]), Unsure: atoi(v[6]) == 1,
		Queued: msTime(v[3]), LastTry: msTime(v[4]), GaveUp: msTime(v[9]),
	}
}

// Jobs returns the dead texts, most recently given up first, then the
// waiting ones, by conversation in the order they are due. It reads and
// changes nothing.
func (o *Outbox) Jobs(ctx context.Context) ([]OutboxJob, error) {
	now := o.opts.Now()
	rdb, k := o.store.rdb, o.store.keys
	dead, err := rdb.ZRevRangeByScore(ctx, k.dead(), &redis.ZRangeBy{
		Min: strconv.FormatInt(ms(now.Add(-o.opts.DeadTTL)), 10), Max: "+inf",
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox: jobs: %w", err)
	}
	ready, err := rdb.ZRangeWithScores(ctx, k.ready(), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("outbox: jobs: %w", err)
	}
	lists := make([]*redis.StringSliceCmd, len(ready))
	if len(ready) > 0 {
		pipe := rdb.Pipeline()
		for i, z := range ready {
			conv, _ := z.Member.(string)
			lists[i] = pipe.LRange(ctx, k.conv(bot.ConversationID(conv)), 0, -1)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("outbox: jobs: %w", err)
		}
	}

	type row struct {
		id   string
		dead bool
		next time.Time // the head's due time; zero behind another
	}
	var rows []row
	for _, id := range dead {
		rows = append(rows, row{id: id, dead: true})
	}
	for i, z := range ready {
		for j, id := range lists[i].Val() {
			r := row{id: id}
			if j == 0 {
				r.next = time.UnixMilli(int64(z.Score))
			}
			rows = append(rows, r)
		}
	}
	if len(rows) == 0 {
		return nil, nil
	}
	pipe := rdb.Pipeline()
	fields := make([]*redis.SliceCmd, len(rows))
	for i, r := range rows {
		fields[i] = pipe.HMGet(ctx, k.msg(r.id), jobFields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("outbox: jobs: %w", err)
	}
	var jobs []OutboxJob
	for i, r := range rows {
		v := fields[i].Val()
		if v[0] == nil {
			continue // expired
		}
		j := job(r.id, v)
		state, _ := v[1].(string)
		lease := msTime(v[5])
		switch {
		case r.dead:
			j.State = JobDead
		case state != StateQueued && state != StateSending:
			continue // finished between the reads
		case lease.After(now):
			j.State = JobSending
		case state == StateSending:
			j.State, j.NextTry = JobUnsure, r.next
		default:
			j.State, j.NextTry = JobQueued, r.next
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// DeadCount returns how many texts are on the dead list.
func (o *Outbox) DeadCount(ctx context.Context) (int64, error) {
	since := ms(o.opts.Now().Add(-o.opts.DeadTTL))
	n, err := o.store.rdb.ZCount(ctx, o.store.keys.dead(), strconv.FormatInt(since, 10), "+inf").Result()
	if err != nil {
		return 0, fmt.Errorf("outbox: dead count: %w", err)
	}
	return n, nil
}

// jobCall reads the conversation of the job's message, to name its keys.
func (o *Outbox) jobCall(ctx context.Context, id string) (jobCall, error) {
	conv, err := o.store.rdb.HGet(ctx, o.store.keys.msg(id), "c").Result()
	if errors.Is(err, redis.Nil) {
		return jobCall{}, ErrNoJob
	}
	if err != nil {
		return jobCall{}, err
	}
	return jobCall{Conv: bot.ConversationID(conv), ID: id, Now: o.opts.Now(), TTL: o.opts.TTL}, nil
}

// RetryDead puts a dead text back to be sent, behind any text of its
// conversation queued since, with its attempts counted afresh; one whose
// last attempt ended without an answer is looked up in Twilio before it
// is sent. Sending still asks the Gate: a conversation the tenant has
// left gets nothing. It returns ErrNoJob when the id is not on the dead
// list.
func (o *Outbox) RetryDead(ctx context.Context, id string) error {
	c, err := o.jobCall(ctx, id)
	if err != nil {
		return fmt.Errorf("outbox: retry %s: %w", id, err)
	}
	ok, err := o.store.revive(ctx, c)
	if err != nil {
		return fmt.Errorf("outbox: retry %s: %w", id, err)
	}
	if !ok {
		return fmt.Errorf("outbox: retry %s: %w", id, ErrNoJob)
	}
	o.opts.Log.Info("outbox: a dead text was put back to be sent", "conversation", c.Conv, "message", id[:min(8, len(id))])
	return nil
}

// Drop removes a dead or waiting text for good: it will not be sent, and
// its sealed words are erased at once. It reports whether the text was
// dead (or else waiting). It returns ErrNoJob when the id is neither, and
// ErrJobBusy, changing nothing, while a worker is trying it.
func (o *Outbox) Drop(ctx context.Context, id string) (wasDead bool, err error) {
	c, err := o.jobCall(ctx, id)
	if err != nil {
		return false, fmt.Errorf("outbox: drop %s: %w", id, err)
	}
	where, err := o.store.drop(ctx, c)
	if err != nil {
		return false, fmt.Errorf("outbox: drop %s: %w", id, err)
	}
	switch where {
	case "dead", "waiting":
		o.opts.Log.Info("outbox: a text was dropped", "conversation", c.Conv, "message", id[:min(8, len(id))], "was", where)
		return where == "dead", nil
	case "busy":
		return false, fmt.Errorf("outbox: drop %s: %w", id, ErrJobBusy)
	}
	return false, fmt.Errorf("outbox: drop %s: %w", id, ErrNoJob)
}
