package sms

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// The outbox's atomic steps, one Lua script each, every key it touches
// passed in KEYS (the scripts document their KEYS, ARGV and returns).
var (
	//go:embed outbox_enqueue.lua
	enqueueSource string
	//go:embed outbox_claim.lua
	claimSource string
	//go:embed outbox_retry.lua
	retrySource string
	//go:embed outbox_sent.lua
	sentSource string
	//go:embed outbox_fail.lua
	failSource string
	//go:embed outbox_cancel.lua
	cancelSource string
	//go:embed outbox_revive.lua
	reviveSource string
	//go:embed outbox_drop.lua
	dropSource string
	//go:embed outbox_status.lua
	statusSource string
	//go:embed outbox_renew.lua
	renewSource string

	enqueueScript = redis.NewScript(enqueueSource)
	claimScript   = redis.NewScript(claimSource)
	retryScript   = redis.NewScript(retrySource)
	sentScript    = redis.NewScript(sentSource)
	failScript    = redis.NewScript(failSource)
	cancelScript  = redis.NewScript(cancelSource)
	reviveScript  = redis.NewScript(reviveSource)
	dropScript    = redis.NewScript(dropSource)
	statusScript  = redis.NewScript(statusSource)
	renewScript   = redis.NewScript(renewSource)
)

// outboxStore runs the scripts on the outbox's keys.
type outboxStore struct {
	rdb  redis.UniversalClient
	keys outboxKeys
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// errLeaseLost: the worker's lease ran out and another took the text.
var errLeaseLost = errors.New("outbox: the lease ran out and another worker took the text")

// enqueueCall queues a message (outbox_enqueue.lua).
type enqueueCall struct {
	Conv   bot.ConversationID
	ID     string
	Sealed []byte
	Now    time.Time
	TTL    time.Duration
}

func (s outboxStore) enqueue(ctx context.Context, c enqueueCall) error {
	return enqueueScript.Run(ctx, s.rdb,
		[]string{s.keys.msg(c.ID), s.keys.conv(c.Conv), s.keys.ready()},
		string(c.Conv), c.ID, c.Sealed, ms(c.Now), c.TTL.Milliseconds()).Err()
}

// claimed is a text leased to this worker.
type claimed struct {
	Conv bot.ConversationID
	ID   string
	// State is the state before the claim: StateSending when an earlier
	// attempt ended without an answer.
	State    string
	Sealed   string
	Attempts int
	// Lease is when the lease ends, Unix ms: retry and fail pass it back.
	Lease int64
}

// claim leases the first due conversation's first text: a read of the
// schedule and the conversation's list, then outbox_claim.lua, which
// takes the lease only if what was read still holds. due is false when
// nothing is due; c is nil when something was but another worker took it
// first or a stale entry was cleared, and the caller should look again.
func (s outboxStore) claim(ctx context.Context, now time.Time, lease time.Duration) (c *claimed, due bool, err error) {
	convs, err := s.rdb.ZRangeByScore(ctx, s.keys.ready(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(ms(now), 10), Count: 1,
	}).Result()
	if err != nil || len(convs) == 0 {
		return nil, false, err
	}
	conv := bot.ConversationID(convs[0])
	id, err := s.rdb.LIndex(ctx, s.keys.conv(conv), 0).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, true, err
	}
	until := ms(now.Add(lease))
	res, err := claimScript.Run(ctx, s.rdb,
		[]string{s.keys.ready(), s.keys.conv(conv), s.keys.msg(id)},
		string(conv), id, ms(now), until).Result()
	if err != nil {
		return nil, true, err
	}
	v, ok := res.([]any)
	if !ok {
		return nil, true, nil
	}
	if len(v) != 3 {
		return nil, true, fmt.Errorf("outbox: claim answered %v", res)
	}
	state, _ := v[0].(string)
	sealed, _ := v[1].(string)
	n, _ := v[2].(int64)
	return &claimed{Conv: conv, ID: id, State: state, Sealed: sealed, Attempts: int(n), Lease: until}, true, nil
}

// retryCall schedules another attempt (outbox_retry.lua).
type retryCall struct {
	Claim *claimed
	At    time.Time
	// State is StateQueued when the text surely did not go, StateSending
	// when the attempt's outcome is unknown.
	State string
	Err   errClass
	// Late: the text was queued over LateAfter ago.
	Late bool
}

// retry reports whether this call marked the text late (the officer is
// told once). It returns errLeaseLost when the lease was no longer ours.
// renew moves the lease of a claimed text on to until, and records it in
// the claim; errLeaseLost when it is no longer the caller's.
func (s outboxStore) renew(ctx context.Context, c *claimed, until time.Time) error {
	n, err := renewScript.Run(ctx, s.rdb, []string{s.keys.msg(c.ID), s.keys.ready()},
		string(c.Conv), c.Lease, ms(until)).Int()
	switch {
	case err != nil:
		return err
	case n == 0:
		return errLeaseLost
	}
	c.Lease = ms(until)
	return nil
}

func (s outboxStore) retry(ctx context.Context, c retryCall) (marked bool, err error) {
	late := 0
	if c.Late {
		late = 1
	}
	n, err := retryScript.Run(ctx, s.rdb,
		[]string{s.keys.msg(c.Claim.ID), s.keys.ready()},
		string(c.Claim.Conv), c.Claim.Lease, ms(c.At), c.State, c.Err.Class, c.Err.Code, late).Int()
	switch {
	case err != nil:
		return false, err
	case n < 0:
		return false, errLeaseLost
	}
	return n == 1, nil
}

// sentCall records a text Twilio accepted (outbox_sent.lua).
type sentCall struct {
	Claim *claimed
	SID   string
	Now   time.Time
	TTL   time.Duration
}

func (s outboxStore) sent(ctx context.Context, c sentCall) error {
	return sentScript.Run(ctx, s.rdb,
		[]string{s.keys.msg(c.Claim.ID), s.keys.conv(c.Claim.Conv), s.keys.ready(), s.keys.sid(c.SID)},
		string(c.Claim.Conv), c.Claim.ID, c.SID, ms(c.Now), c.TTL.Milliseconds()).Err()
}

// failCall gives a text up (outbox_fail.lua).
type failCall struct {
	Claim *claimed
	Now   time.Time
	Err   errClass
	// Uncertain: the last attempt ended without an answer, so the text
	// may have gone.
	Uncertain bool
	// Dead puts it on the dead list; false when the tenant opted out.
	Dead    bool
	DeadTTL time.Duration
	DeadMax int
}

func (s outboxStore) fail(ctx context.Context, c failCall) error {
	n, err := failScript.Run(ctx, s.rdb,
		[]string{s.keys.msg(c.Claim.ID), s.keys.conv(c.Claim.Conv), s.keys.ready(), s.keys.dead()},
		string(c.Claim.Conv), c.Claim.ID, c.Claim.Lease, ms(c.Now), c.Err.Class, c.Err.Code,
		flag(c.Uncertain), flag(c.Dead), c.DeadTTL.Milliseconds(), c.DeadMax).Int()
	if err == nil && n < 0 {
		err = errLeaseLost
	}
	return err
}

func flag(b bool) int {
	if b {
		return 1
	}
	return 0
}

// cancel cancels the conversation's waiting texts (outbox_cancel.lua)
// and says how many.
func (s outboxStore) cancel(ctx context.Context, conv bot.ConversationID, now time.Time) (int, error) {
	ids, err := s.rdb.LRange(ctx, s.keys.conv(conv), 0, -1).Result()
	if err != nil {
		return 0, err
	}
	keys := []string{s.keys.conv(conv), s.keys.ready()}
	args := []any{string(conv), ms(now)}
	for _, id := range ids {
		keys = append(keys, s.keys.msg(id))
		args = append(args, id)
	}
	return cancelScript.Run(ctx, s.rdb, keys, args...).Int()
}

// jobCall names a dead or waiting text for revive and drop.
type jobCall struct {
	Conv bot.ConversationID
	ID   string
	Now  time.Time
	TTL  time.Duration // revive: how long it is kept from now
}

func (s outboxStore) jobKeys(c jobCall) []string {
	return []string{s.keys.msg(c.ID), s.keys.conv(c.Conv), s.keys.ready(), s.keys.dead()}
}

// revive puts a dead text back to be sent (outbox_revive.lua) and reports
// whether it was dead.
func (s outboxStore) revive(ctx context.Context, c jobCall) (bool, error) {
	n, err := reviveScript.Run(ctx, s.rdb, s.jobKeys(c), string(c.Conv), c.ID, ms(c.Now), c.TTL.Milliseconds()).Int()
	return n == 1, err
}

// drop removes a dead or waiting text (outbox_drop.lua) and says where it
// was: "dead", "waiting", "busy" (being tried now: nothing changed) or
// "none".
func (s outboxStore) drop(ctx context.Context, c jobCall) (string, error) {
	return dropScript.Run(ctx, s.rdb, s.jobKeys(c), string(c.Conv), c.ID, ms(c.Now)).Text()
}

// statusCall records a delivery status (outbox_status.lua).
type statusCall struct {
	SID, Status string
	Now         time.Time
	DeadTTL     time.Duration
	DeadMax     int
}

// status records a delivery status and returns the one before and the
// text's conversation; ok is false when the SID is unknown or its text
// has expired.
func (s outboxStore) status(ctx context.Context, c statusCall) (prev string, conv bot.ConversationID, ok bool, err error) {
	id, err := s.rdb.Get(ctx, s.keys.sid(c.SID)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	v, err := statusScript.Run(ctx, s.rdb, []string{s.keys.msg(id), s.keys.dead()},
		c.Status, id, c.SID, ms(c.Now), c.DeadTTL.Milliseconds(), c.DeadMax).StringSlice()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	if len(v) != 2 {
		return "", "", false, fmt.Errorf("status answered %d values", len(v))
	}
	return v[0], bot.ConversationID(v[1]), true, nil
}
