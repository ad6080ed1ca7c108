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

// ErrNotQueued wraps an Enqueue failure from before the text was written:
// it is surely not queued.
var ErrNotQueued = errors.New("outbox: not queued")

// ErrConversationEnded is Enqueue's refusal of a text to a conversation
// the Gate refuses. It is for the officer to read.
var ErrConversationEnded = errors.New("the tenant's conversation has ended (they left, or texted STOP or DELETE) or expired after a long silence: nothing can be texted to them until they text again")

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

// Message states, as Status reports them.
const (
	StateQueued    = "queued"
	StateSending   = "sending" // an attempt is under way, or ended without an answer
	StateSent      = "sent"    // Twilio accepted it; see the delivery status
	StateFailed    = "failed"  // refused for good, or out of attempts
	StateCancelled = "cancelled"
	StateDropped   = "dropped" // removed by a person (safecontact jobs drop)
)

// DefaultOutboxPrefix begins the outbox's keys unless OutboxOptions.Prefix
// says otherwise.
const DefaultOutboxPrefix = "sc:out:"

// OutboxOptions tune the outbox. The zero value is usable.
type OutboxOptions struct {
	// Prefix begins every key, before the outbox's hash tag; default
	// DefaultOutboxPrefix (keys "sc:out:{outbox}:…", see outboxKeys).
	Prefix string
	// Lease is how long a claimed message is a worker's unless renewed:
	// it is renewed every third of it while Twilio is asked, so a dead
	// worker's text goes to another within it; default 5s.
	Lease       time.Duration
	MaxAttempts int // default 12
	// BaseBackoff is the first retry's delay; the next are 5 and 30 times
	// it, then a minute's worth doubling, with jitter, up to MaxBackoff.
	// Defaults 1s and 5m: retries at about 1 s, 5 s, 30 s, 1 min, 2 min…
	BaseBackoff time.Duration
	MaxBackoff  time.Duration
	// LateAfter is how long a text may go unsent before the officer is
	// told it has not gone yet (Late); default 60s.
	LateAfter time.Duration
	TTL       time.Duration // how long a message and its status are kept; default 7 days
	// DeadTTL is how long a text given up stays on the dead list (and its
	// sealed message with it) for a person to retry or drop; default 7
	// days. DeadMax is how many the list keeps at most, the oldest going
	// first; default 1,000.
	DeadTTL time.Duration
	DeadMax int
	Poll    time.Duration // how often Run looks for due messages; default 250ms
	Now     func() time.Time
	Log     *slog.Logger
	// Undelivered is told when a message is given up: refused for good,
	// out of attempts, or to a tenant who opted out (optedOut, and then
	// every message queued for them is cancelled); and once when the
	// Gate refused a conversation whose messages were then cancelled.
	// The officer who wrote them needs to know.
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
// may run workers on one Redis, a single server or a cluster. It
// guarantees:
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
//     tenant exited): its queued messages are cancelled;
//   - seen: a message given up (refused for good, out of attempts) is
//     told to Undelivered and kept on a dead list, where a person can
//     send it again or drop it (Jobs, RetryDead, Drop).
//
// Numbers and bodies are sealed at rest; keys hold no number. All its
// keys share one hash tag (outboxKeys says why), and each step is one Lua
// script declaring every key it touches (outbox_*.lua).
type Outbox struct {
	store  outboxStore
	sealer *seal.Sealer
	sender Sender
	gate   Gate
	opts   OutboxOptions
}

// NewOutbox returns an outbox on rdb. Listing, retrying and dropping
// jobs need neither sender nor gate; sending (Run, SendNext) needs both.
func NewOutbox(rdb redis.UniversalClient, sealer *seal.Sealer, sender Sender, gate Gate, opts OutboxOptions) *Outbox {
	if opts.Prefix == "" {
		opts.Prefix = DefaultOutboxPrefix
	}
	if opts.Lease <= 0 {
		opts.Lease = 5 * time.Second
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
	if opts.DeadTTL <= 0 {
		opts.DeadTTL = 7 * 24 * time.Hour
	}
	if opts.DeadMax <= 0 {
		opts.DeadMax = 1000
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
	return &Outbox{store: outboxStore{rdb: rdb, keys: newOutboxKeys(opts.Prefix)}, sealer: sealer, sender: sender, gate: gate, opts: opts}
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

// Enqueue queues a message. A key queued before is not queued again.
func (o *Outbox) Enqueue(ctx context.Context, m OutMessage) error {
	if m.Key == "" || m.Conversation == "" || m.To == "" || m.Body == "" {
		return fmt.Errorf("%w: a message needs a key, a conversation, a number and a body", ErrNotQueued)
	}
	// A key queued already (an answer lost, the officer's same form
	// sent again) is not asked of the gate: it is queued, whatever came
	// of it since.
	state, _, err := o.Status(ctx, m.Key)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotQueued, err)
	}
	if state != "" {
		return nil
	}
	if o.gate != nil {
		ok, err := o.gate(ctx, m.Conversation)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrNotQueued, err)
		}
		if !ok {
			return ErrConversationEnded
		}
	}
	id := messageID(m.Key)
	now := o.opts.Now()
	plain, err := json.Marshal(payload{To: m.To, Body: m.Body, Queued: now})
	if err != nil {
		return fmt.Errorf("%w: %w", ErrNotQueued, err)
	}
	err = o.store.enqueue(ctx, enqueueCall{
		Conv: m.Conversation, ID: id, Sealed: o.sealer.Seal(plain, []byte(id)), Now: now, TTL: o.opts.TTL,
	})
	if err != nil {
		return fmt.Errorf("outbox: enqueue: %w", err)
	}
	return nil
}

// attemptLimit bounds an attempt Run has begun when its ctx ends: under
// the 10 s serve waits for its workers before closing Redis, so that the
// attempt's record is written. An attempt cut short leaves its text as
// sending, looked up by whoever claims it next, as after a crash.
const attemptLimit = 9 * time.Second

// Run sends due messages until ctx ends. It also moves texts the
// previous version of the outbox left waiting (outbox_legacy.go).
//
// When ctx ends, Run claims nothing more, but an attempt under way is
// seen through to its record (within attemptLimit), its lease renewed
// meanwhile: Twilio cannot be told to stop a send it was asked for, and
// a text sent but recorded as still sending would miss its delivery
// statuses and be looked up, or sent again after an ambiguous lookup, by
// whoever claims it next.
func (o *Outbox) Run(ctx context.Context) error {
	t := time.NewTicker(o.opts.Poll)
	defer t.Stop()
	var adopted time.Time
	for {
		if time.Since(adopted) >= adoptEvery {
			if _, err := o.adoptPrevious(ctx); err != nil && ctx.Err() == nil {
				o.opts.Log.Error("outbox", "err", err)
			}
			adopted = time.Now()
		}
		for ctx.Err() == nil {
			actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), attemptLimit)
			did, err := o.SendNext(actx)
			cancel()
			if err != nil {
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

// attempt is one claimed text being tried.
type attempt struct {
	*claimed
	p   payload
	now time.Time
	log *slog.Logger
}

// holding runs ask, a call to Twilio, while renewing the claim's lease
// every third of it; the claim holds the lease's end when it returns. A
// lease found lost is logged and no longer renewed: what the worker then
// records is refused (errLeaseLost), and the text, marked as sending, is
// looked up in Twilio by whoever has it before it is sent again.
func (o *Outbox) holding(ctx context.Context, c *claimed, ask func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(o.opts.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := o.store.renew(ctx, c, o.opts.Now().Add(o.opts.Lease)); err != nil {
					o.opts.Log.Warn("outbox: lease not renewed while Twilio is asked", "conversation", c.Conv, "err", err)
					if errors.Is(err, errLeaseLost) {
						return
					}
				}
			}
		}
	}()
	ask()
	close(done)
	<-stopped
}

// SendNext makes one attempt at the first due message, if any, and reports
// whether there was one.
func (o *Outbox) SendNext(ctx context.Context) (bool, error) {
	now := o.opts.Now()
	c, due, err := o.store.claim(ctx, now, o.opts.Lease)
	if err != nil {
		return due, fmt.Errorf("outbox: claim: %w", err)
	}
	if c == nil {
		return due, nil
	}
	a := &attempt{claimed: c, now: now, log: o.opts.Log.With("conversation", c.Conv, "message", c.ID[:8])}

	ok, err := o.gate(ctx, c.Conv)
	if err != nil {
		_, rerr := o.store.retry(ctx, retryCall{Claim: c, At: now.Add(o.opts.BaseBackoff), State: c.State, Err: errClass{Class: classGate}})
		return true, errors.Join(fmt.Errorf("outbox: gate: %w", err), rerr)
	}
	if !ok {
		return true, o.ended(ctx, a)
	}
	if err := o.open(a); err != nil {
		a.log.Error("outbox: a queued text cannot be read back; giving up", "err", err)
		return true, o.giveUp(ctx, a, errClass{Class: classUnreadable}, c.State == StateSending,
			"safecontact could not read it back (has SAFECONTACT_KEY changed?)")
	}

	if c.State == StateSending {
		// The last attempt ended without an answer: it may have gone.
		sid, err := o.lookUp(ctx, a)
		if err != nil {
			ec := errClass{Class: classLookup}
			var se *SendError
			if errors.As(err, &se) {
				ec.Code = se.Code
			}
			if c.Attempts >= o.opts.MaxAttempts {
				a.log.Error("outbox: giving up; Twilio could not be asked whether an earlier attempt went", "attempts", c.Attempts, "err", err)
				return true, o.giveUp(ctx, a, ec, true,
					fmt.Sprintf("Twilio could not be asked whether it went, after %d attempts; it may have gone", c.Attempts))
			}
			rerr := o.retry(ctx, a, retryCall{At: now.Add(o.backoff(c.Attempts)), State: StateSending, Err: ec},
				"Twilio could not be asked whether it went")
			return true, errors.Join(fmt.Errorf("outbox: lookup: %w", err), rerr)
		}
		if sid != "" {
			a.log.Info("outbox: an earlier attempt had been sent; not sending again")
			return true, o.store.sent(ctx, sentCall{Claim: c, SID: sid, Now: now, TTL: o.opts.TTL})
		}
	}
	var sid string
	o.holding(ctx, c, func() { sid, err = o.sender.Send(ctx, a.p.To, a.p.Body) })
	if err == nil {
		return true, o.store.sent(ctx, sentCall{Claim: c, SID: sid, Now: now, TTL: o.opts.TTL})
	}
	var se *SendError
	if !errors.As(err, &se) {
		se = &SendError{Retry: true, Err: err}
	}
	ec := classOf(se)
	switch {
	case se.OptedOut:
		a.log.Warn("outbox: the tenant has opted out of texts; their queued messages are cancelled")
		// Not on the dead list: nothing may be sent to them until they
		// text START, and a person must not be offered to try.
		err := o.store.fail(ctx, failCall{Claim: c, Now: now, Err: ec, DeadTTL: o.opts.DeadTTL, DeadMax: o.opts.DeadMax})
		if err != nil {
			return true, err
		}
		_, err = o.store.cancel(ctx, c.Conv, now)
		o.undelivered(ctx, c.Conv, true, "the tenant has opted out of texts (they texted STOP); nothing reaches them until they text START")
		return true, err
	case c.Attempts >= o.opts.MaxAttempts:
		a.log.Error("outbox: giving up", "attempts", c.Attempts, "err", err)
		return true, o.giveUp(ctx, a, ec, se.Ambiguous, fmt.Sprintf("Twilio did not take it after %d attempts", c.Attempts))
	case se.Ambiguous:
		a.log.Warn("outbox: no clear answer to a send; will look it up before trying again", "err", err)
		reason := "Twilio did not answer"
		if se.Code != 0 {
			reason = retryReason(se)
		}
		return true, o.retry(ctx, a, retryCall{At: now.Add(max(se.After, o.backoff(c.Attempts))), State: StateSending, Err: ec}, reason)
	case se.Retry:
		a.log.Warn("outbox: send failed; will retry", "attempt", c.Attempts, "err", err)
		return true, o.retry(ctx, a, retryCall{At: now.Add(max(se.After, o.backoff(c.Attempts))), State: StateQueued, Err: ec},
			retryReason(se))
	default:
		a.log.Error("outbox: refused", "err", err)
		// Twilio's message may quote the number: only its code is passed on.
		return true, o.giveUp(ctx, a, ec, false, fmt.Sprintf("Twilio refused it (error %d)", se.Code))
	}
}

// ended cancels the texts of a conversation the gate refused, and tells
// the officer, who saw them go, that they did not. The claimed text, if
// an earlier attempt had no clear answer, may have gone: it is looked up
// first, and recorded as sent if Twilio has it.
func (o *Outbox) ended(ctx context.Context, a *attempt) error {
	unsure := false
	if a.State == StateSending {
		err := o.open(a)
		var sid string
		if err == nil {
			sid, err = o.lookUp(ctx, a)
		}
		switch {
		case err != nil:
			a.log.Warn("outbox: conversation ended; an earlier attempt could not be looked up", "err", err)
			unsure = true
		case sid != "":
			if err := o.store.sent(ctx, sentCall{Claim: a.claimed, SID: sid, Now: a.now, TTL: o.opts.TTL}); err != nil {
				return err
			}
		}
	}
	n, err := o.store.cancel(ctx, a.Conv, a.now)
	a.log.Info("outbox: conversation ended; queued messages cancelled", "cancelled", n)
	switch {
	case unsure:
		o.undelivered(ctx, a.Conv, false, "the tenant's conversation ended (they left, or texted STOP or DELETE) or expired; one text's earlier attempt got no clear answer from Twilio and may have gone, and any others were not sent")
	case n > 0:
		o.undelivered(ctx, a.Conv, false, "the tenant's conversation ended (they left, or texted STOP or DELETE) or expired before it could be sent, so it was not sent")
	}
	return err
}

// open reads the claimed text back into a.p.
func (o *Outbox) open(a *attempt) error {
	plain, err := o.sealer.Open([]byte(a.Sealed), []byte(a.ID))
	if err != nil {
		return err
	}
	return json.Unmarshal(plain, &a.p)
}

// lookUp asks Twilio for an earlier attempt at the opened text, holding
// the claim meanwhile: its SID, or "" when there is none.
func (o *Outbox) lookUp(ctx context.Context, a *attempt) (sid string, err error) {
	o.holding(ctx, a.claimed, func() { sid, err = o.sender.Find(ctx, a.p.To, a.p.Body, a.p.Queued.Add(-time.Minute)) })
	return sid, err
}

// giveUp puts the attempt's text on the dead list and tells Undelivered
// why, once the list has it.
func (o *Outbox) giveUp(ctx context.Context, a *attempt, ec errClass, uncertain bool, reason string) error {
	err := o.store.fail(ctx, failCall{
		Claim: a.claimed, Now: a.now, Err: ec, Uncertain: uncertain, Dead: true, DeadTTL: o.opts.DeadTTL, DeadMax: o.opts.DeadMax,
	})
	if err != nil {
		return fmt.Errorf("outbox: give up: %w", err)
	}
	o.undelivered(ctx, a.Conv, false, reason)
	return nil
}

// retry schedules the attempt's text again, and tells Late, once per
// message, when it was queued LateAfter ago or more.
func (o *Outbox) retry(ctx context.Context, a *attempt, rc retryCall, lateReason string) error {
	rc.Claim = a.claimed
	rc.Late = o.opts.Late != nil && a.now.Sub(a.p.Queued) >= o.opts.LateAfter
	marked, err := o.store.retry(ctx, rc)
	if err != nil {
		return fmt.Errorf("outbox: retry: %w", err)
	}
	if marked {
		o.opts.Late(ctx, a.Conv, lateReason)
	}
	return nil
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

// RecordStatus records a delivery status from Twilio's status callback.
// An unknown SID is ignored: the message may have expired. A text Twilio
// accepted but could not deliver (undelivered, failed) is reported to
// Undelivered, once: the officer saw it go. A delivered one is reported
// to Delivered, once.
func (o *Outbox) RecordStatus(ctx context.Context, sid, status string) error {
	prev, conv, ok, err := o.store.status(ctx, statusCall{
		SID: sid, Status: status, Now: o.opts.Now(), DeadTTL: o.opts.DeadTTL, DeadMax: o.opts.DeadMax,
	})
	if err == nil && !ok {
		prev, conv, ok, err = o.previousStatus(ctx, sid, status)
	}
	if err != nil {
		return fmt.Errorf("outbox: status: %w", err)
	}
	if !ok || prev == status {
		return nil
	}
	switch status {
	case "undelivered", "failed":
		o.undelivered(ctx, conv, false, "the phone network did not deliver it (Twilio status "+status+")")
	case "delivered":
		if o.opts.Delivered != nil {
			o.opts.Delivered(ctx, conv)
		}
	}
	return nil
}

// Status returns a message's state and its last delivery status.
func (o *Outbox) Status(ctx context.Context, key string) (state, delivery string, err error) {
	v, err := o.store.rdb.HMGet(ctx, o.store.keys.msg(messageID(key)), "s", "st").Result()
	if err != nil {
		return "", "", err
	}
	state, _ = v[0].(string)
	delivery, _ = v[1].(string)
	return state, delivery, nil
}
