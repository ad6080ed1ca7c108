package sms

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/seal"
)

// OutMessage is a text that is not a reply to an inbound one: an
// officer's reply, sent later through the REST API.
type OutMessage struct {
	// Key identifies the message for idempotency (e.g. the Slack message
	// it relays): queueing a known key again does nothing.
	Key          string
	Conversation bot.ConversationID
	To, Body     string
}

// Gate says whether a conversation may still be texted: false once the
// tenant exited, opted out or erased it. It is asked before every attempt.
type Gate func(ctx context.Context, id bot.ConversationID) (bool, error)

// Sender sends a text and finds one sent before. Errors other than a
// *SendError are treated as retryable.
type Sender interface {
	Send(ctx context.Context, to, body string) (sid string, err error)
	// Find returns the SID of a text with this body sent to the number
	// since the time, or "" when there is none.
	Find(ctx context.Context, to, body string, since time.Time) (sid string, err error)
}

// SendError classifies a failed send.
type SendError struct {
	// Retry: the text was not accepted and may be tried again (network
	// failure before the request was written, 5xx, 429).
	Retry bool
	// After is how long the provider asked to wait (Retry-After).
	After time.Duration
	// Ambiguous: the request was written but no answer came, so the text
	// may or may not have been accepted. It is looked up (Find) before
	// any further attempt.
	Ambiguous bool
	// OptedOut: the number texted STOP to the carrier or to Twilio, and
	// no text reaches it until it texts START (Twilio error 21610).
	OptedOut bool
	// Code is Twilio's error code, when it gave one.
	Code int
	Err  error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Message states, as Status reports them.
const (
	StateQueued    = "queued"
	StateSending   = "sending" // an attempt is under way, or ended without an answer
	StateSent      = "sent"    // Twilio accepted it; see the delivery status
	StateFailed    = "failed"  // refused for good, or out of attempts
	StateCancelled = "cancelled"
)

// OutboxOptions tune the outbox. The zero value is usable.
type OutboxOptions struct {
	Prefix      string        // key prefix; default "sc:out:"
	Lease       time.Duration // how long a claimed message is a worker's; default 30s
	MaxAttempts int           // default 12
	// BaseBackoff is the first retry's delay; the next are 5 and 30 times
	// it, then a minute's worth doubling, with jitter, up to MaxBackoff.
	// Defaults 1s and 5m: retries at about 1 s, 5 s, 30 s, 1 min, 2 min…
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// LateAfter is how long a text may go unsent before the officer is
	// told it has not gone yet (Late); default 60s.
	LateAfter time.Duration
	TTL       time.Duration // how long a message and its status are kept; default 7 days
	Poll      time.Duration // how often Run looks for due messages; default 250ms
	Now       func() time.Time
	Log       *slog.Logger
	// Undelivered is told when a message is given up: refused for good,
	// out of attempts, or to a tenant who opted out (optedOut, and then
	// every message queued for them is cancelled). The officer who wrote
	// it needs to know.
	Undelivered func(ctx context.Context, conv bot.ConversationID, optedOut bool, reason string)
	// Delivered is told when Twilio reports a text delivered to the
	// tenant's phone: the officer's message reached them.
	Delivered func(ctx context.Context, conv bot.ConversationID)
	// Late is told, once per message, when a text is still not sent
	// LateAfter after it was queued, with why (no number, no words): the
	// officer should not wait on it unknowing. Retries go on.
	Late func(ctx context.Context, conv bot.ConversationID, reason string)
}

// Outbox is a durable queue of outbound texts in Redis. Several processes
// may run workers on one Redis. It guarantees:
//
//   - durable: a queued message survives restarts; one whose worker died
//     is taken up by another once the lease ends;
//   - once: a message is sent at most once. An attempt that ended without
//     an answer (timeout, crash) is looked up with Sender.Find before any
//     new attempt, and only sent again when Twilio has no such text;
//   - in order: a conversation's messages go one at a time, in the order
//     queued; a failing one holds back the ones after it until it is sent
//     or given up;
//   - gated: nothing is sent to a conversation the Gate refuses (the
//     tenant exited): its queued messages are cancelled.
//
// Numbers and bodies are sealed at rest; keys hold no number.
type Outbox struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	sender Sender
	gate   Gate
	opts   OutboxOptions
}

//go:embed outbox.lua
var outboxSource string

var outboxScript = redis.NewScript(outboxSource)

// NewOutbox returns an outbox on rdb.
func NewOutbox(rdb redis.UniversalClient, sealer *seal.Sealer, sender Sender, gate Gate, opts OutboxOptions) *Outbox {
	if opts.Prefix == "" {
		opts.Prefix = "sc:out:"
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 12
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = time.Second
	}
	if opts.LateAfter <= 0 {
		opts.LateAfter = time.Minute
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.TTL <= 0 {
		opts.TTL = 7 * 24 * time.Hour
	}
	if opts.Poll <= 0 {
		opts.Poll = 250 * time.Millisecond
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	return &Outbox{rdb: rdb, sealer: sealer, sender: sender, gate: gate, opts: opts}
}

type payload struct {
	To     string    `json:"to"`
	Body   string    `json:"b"`
	Queued time.Time `json:"q"`
}

func messageID(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

func (o *Outbox) msgKey(id string) string { return o.opts.Prefix + "msg:" + id }
func (o *Outbox) convKey(c bot.ConversationID) string {
	return o.opts.Prefix + "conv:{" + string(c) + "}"
}
func (o *Outbox) readyKey() string         { return o.opts.Prefix + "ready" }
func (o *Outbox) sidKey(sid string) string { return o.opts.Prefix + "sid:" + sid }
func (o *Outbox) ms(t time.Time) int64     { return t.UnixMilli() }
func (o *Outbox) run(ctx context.Context, keys []string, args ...any) *redis.Cmd {
	return outboxScript.Run(ctx, o.rdb, keys, args...)
}

// Enqueue queues a message. A key queued before is not queued again.
func (o *Outbox) Enqueue(ctx context.Context, m OutMessage) error {
	if m.Key == "" || m.Conversation == "" || m.To == "" || m.Body == "" {
		return errors.New("outbox: a message needs a key, a conversation, a number and a body")
	}
	id := messageID(m.Key)
	plain, err := json.Marshal(payload{To: m.To, Body: m.Body, Queued: o.opts.Now()})
	if err != nil {
		return err
	}
	sealed := o.sealer.Seal(plain, []byte(id))
	err = o.run(ctx, []string{o.msgKey(id), o.convKey(m.Conversation), o.readyKey()},
		"enqueue", string(m.Conversation), sealed, o.ms(o.opts.Now()), o.opts.TTL.Milliseconds(), id).Err()
	if err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

// Run sends due messages until ctx ends.
func (o *Outbox) Run(ctx context.Context) error {
	t := time.NewTicker(o.opts.Poll)
	defer t.Stop()
	for {
		for {
			did, err := o.SendNext(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				o.opts.Log.Error("outbox", "err", err)
			}
			if !did || err != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// SendNext makes one attempt at the first due message, if any, and reports
// whether there was one.
func (o *Outbox) SendNext(ctx context.Context) (bool, error) {
	now := o.opts.Now()
	res, err := o.run(ctx, []string{o.readyKey()}, "claim", o.ms(now), o.opts.Lease.Milliseconds(), o.opts.Prefix).Slice()
	if errors.Is(err, redis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("outbox: claim: %w", err)
	}
	conv := bot.ConversationID(res[0].(string))
	id, state, sealed := res[1].(string), res[2].(string), res[3].(string)
	attempts := int(res[4].(int64))
	log := o.opts.Log.With("conversation", conv, "message", id[:8])

	ok, err := o.gate(ctx, conv)
	if err != nil {
		return true, o.retry(ctx, conv, id, state, now.Add(o.opts.BaseBackoff), fmt.Errorf("outbox: gate: %w", err))
	}
	if !ok {
		n, err := o.cancel(ctx, conv)
		log.Info("outbox: conversation ended; queued messages cancelled", "cancelled", n)
		return true, err
	}
	plain, err := o.sealer.Open([]byte(sealed), []byte(id))
	if err != nil {
		return true, o.finish(ctx, conv, id, StateFailed, "", now)
	}
	var p payload
	if err := json.Unmarshal(plain, &p); err != nil {
		return true, o.finish(ctx, conv, id, StateFailed, "", now)
	}

	if state == StateSending {
		// The last attempt ended without an answer: it may have gone.
		sid, err := o.sender.Find(ctx, p.To, p.Body, p.Queued.Add(-time.Minute))
		if err != nil {
			o.late(ctx, conv, id, p, now, "Twilio could not be asked whether it went")
			return true, o.retry(ctx, conv, id, StateSending, now.Add(o.backoff(attempts)), fmt.Errorf("outbox: lookup: %w", err))
		}
		if sid != "" {
			log.Info("outbox: an earlier attempt had been sent; not sending again")
			return true, o.sent(ctx, conv, id, sid, now)
		}
	}
	sid, err := o.sender.Send(ctx, p.To, p.Body)
	if err == nil {
		return true, o.sent(ctx, conv, id, sid, now)
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Retry: true, Err: err}
	}
	switch {
	case se.OptedOut:
		log.Warn("outbox: the tenant has opted out of texts; their queued messages are cancelled")
		_, cerr := o.cancel(ctx, conv)
		err := errors.Join(o.finish(ctx, conv, id, StateFailed, "", now), cerr)
		o.undelivered(ctx, conv, true, "the tenant has opted out of texts (they texted STOP); nothing reaches them until they text START")
		return true, err
	case attempts >= o.opts.MaxAttempts:
		log.Error("outbox: giving up", "attempts", attempts, "err", err)
		o.undelivered(ctx, conv, false, fmt.Sprintf("Twilio did not take it after %d attempts", attempts))
		return true, o.finish(ctx, conv, id, StateFailed, "", now)
	case se.Ambiguous:
		log.Warn("outbox: no answer to a send; will look it up before trying again", "err", err)
		o.late(ctx, conv, id, p, now, "Twilio did not answer")
		return true, o.retry(ctx, conv, id, StateSending, now.Add(max(se.After, o.backoff(attempts))), nil)
	case se.Retry:
		log.Warn("outbox: send failed; will retry", "attempt", attempts, "err", err)
		o.late(ctx, conv, id, p, now, retryReason(se))
		return true, o.retry(ctx, conv, id, StateQueued, now.Add(max(se.After, o.backoff(attempts))), nil)
	default:
		log.Error("outbox: refused", "err", err)
		// Twilio's message may quote the number: only its code is passed on.
		o.undelivered(ctx, conv, false, fmt.Sprintf("Twilio refused it (error %d)", se.Code))
		return true, o.finish(ctx, conv, id, StateFailed, "", now)
	}
}

// cancel drops every message queued for the conversation and says how
// many.
func (o *Outbox) cancel(ctx context.Context, conv bot.ConversationID) (int, error) {
	return o.run(ctx, []string{o.convKey(conv), o.readyKey()}, "cancel", string(conv), o.opts.Prefix).Int()
}

func (o *Outbox) undelivered(ctx context.Context, conv bot.ConversationID, optedOut bool, reason string) {
	if o.opts.Undelivered != nil {
		o.opts.Undelivered(ctx, conv, optedOut, reason)
	}
}

// retrySteps are the first retries' delays, in BaseBackoffs: a text that
// failed once is tried again at once, then soon, then within the minute.
var retrySteps = []time.Duration{1, 5, 30}

// backoff is the delay before attempt n+1: retrySteps, then from 60
// BaseBackoffs doubling, capped at MaxBackoff, with up to 20% jitter so
// that workers do not retry in step.
func (o *Outbox) backoff(n int) time.Duration {
	var d time.Duration
	if n >= 1 && n <= len(retrySteps) {
		d = retrySteps[n-1] * o.opts.BaseBackoff
	} else {
		d = 60 * o.opts.BaseBackoff
		for i := len(retrySteps) + 1; i < n && d < o.opts.MaxBackoff; i++ {
			d *= 2
		}
	}
	d = min(d, o.opts.MaxBackoff)
	return d + time.Duration(rand.Int64N(int64(d)/5+1))
}

// late tells Late, once per message, that a text queued LateAfter ago
// has still not gone.
func (o *Outbox) late(ctx context.Context, conv bot.ConversationID, id string, p payload, now time.Time, reason string) {
	if o.opts.Late == nil || now.Sub(p.Queued) < o.opts.LateAfter {
		return
	}
	first, err := o.rdb.HSetNX(ctx, o.msgKey(id), "late", 1).Result()
	if err != nil || !first {
		return
	}
	o.opts.Late(ctx, conv, reason)
}

// retryReason says why a send is being retried, for the officer: Twilio's
// error code, never its message (which may quote the number).
func retryReason(se *SendError) string {
	if se.Code != 0 {
		return fmt.Sprintf("Twilio error %d", se.Code)
	}
	return "Twilio could not be reached"
}

func (o *Outbox) sent(ctx context.Context, conv bot.ConversationID, id, sid string, now time.Time) error {
	if err := o.rdb.Set(ctx, o.sidKey(sid), id, o.opts.TTL).Err(); err != nil {
		return err
	}
	return o.finish(ctx, conv, id, StateSent, sid, now)
}

func (o *Outbox) finish(ctx context.Context, conv bot.ConversationID, id, state, sid string, now time.Time) error {
	return o.run(ctx, []string{o.msgKey(id), o.convKey(conv), o.readyKey()},
		"finish", string(conv), id, state, sid, o.ms(now)).Err()
}

func (o *Outbox) retry(ctx context.Context, conv bot.ConversationID, id, state string, at time.Time, cause error) error {
	err := o.run(ctx, []string{o.msgKey(id), o.readyKey()}, "retry", string(conv), o.ms(at), state).Err()
	return errors.Join(cause, err)
}

// RecordStatus records a delivery status from Twilio's status callback.
// An unknown SID is ignored: the message may have expired. A text Twilio
// accepted but could not deliver (undelivered, failed) is reported to
// Undelivered: the officer saw it go. A delivered one is reported to
// Delivered, once.
func (o *Outbox) RecordStatus(ctx context.Context, sid, status string) error {
	id, err := o.rdb.Get(ctx, o.sidKey(sid)).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return err
	}
	// The previous status tells a repeated callback from a new one, so the
	// officer is told once.
	v, err := o.rdb.HMGet(ctx, o.msgKey(id), "st", "c").Result()
	if err != nil {
		return err
	}
	prev, _ := v[0].(string)
	conv, _ := v[1].(string)
	if err := o.rdb.HSet(ctx, o.msgKey(id), "st", status).Err(); err != nil {
		return err
	}
	if (status == "undelivered" || status == "failed") && prev != status {
		o.undelivered(ctx, bot.ConversationID(conv), false, "the phone network did not deliver it (Twilio status "+status+")")
	}
	if status == "delivered" && prev != status && o.opts.Delivered != nil {
		o.opts.Delivered(ctx, bot.ConversationID(conv))
	}
	return nil
}

// Status returns a message's state and its last delivery status.
func (o *Outbox) Status(ctx context.Context, key string) (state, delivery string, err error) {
	v, err := o.rdb.HMGet(ctx, o.msgKey(messageID(key)), "s", "st").Result()
	if err != nil {
		return "", "", err
	}
	state, _ = v[0].(string)
	delivery, _ = v[1].(string)
	return state, delivery, nil
}
