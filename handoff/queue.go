package handoff

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/seal"
)

// Hours is the office's working time, as the queue's clocks count it.
type Hours interface {
	// Open reports whether t falls within office hours.
	Open(t time.Time) bool
	// Add returns t plus d of open time.
	Add(t time.Time, d time.Duration) time.Time
	// DayLength is one working day's open time: the deadline's length.
	DayLength() time.Duration
	// Location is the time zone times are quoted in.
	Location() *time.Location
}

// Board is where officers see cases: Slack, or the console. The queue
// calls it from one worker at a time, retrying what fails; an error that
// has a RetryAfter() time.Duration method holds back the lane for that
// long; one with a Permanent() bool method that reports true is not
// tried again, and a card update or thread line it failed goes to the
// dead list at once; a Class() string method names the error's class in
// the job listing (Jobs), which must hold no personal data.
type Board interface {
	// PostCase posts a new case's card and says where it is.
	PostCase(ctx context.Context, c *Case) (Ref, error)
	// UpdateCase redraws the card after a claim, a close, a raised
	// priority or a quick exit.
	UpdateCase(ctx context.Context, c *Case) error
	// PostThread adds a line under the case's card: the tenant's words,
	// or what happened. It says where the line is, so that a line of the
	// tenant's words can be redacted later.
	PostThread(ctx context.Context, c *Case, l Line) (Ref, error)
	// Alert tells on-call, the managers, or the officer holding the case
	// (Alert.ToClaimer) about the case; d is the duty a duty's alert is
	// about, or nil.
	Alert(ctx context.Context, c *Case, a Alert, d *Duty) error
	// Redact replaces the messages (cards and thread lines) that held the
	// tenant's words, once the tenant asked for them to be erased. The
	// case may be a bare one (ID only) when it has expired.
	Redact(ctx context.Context, c *Case, refs []Ref) error
	// PostRepairs sends a request for security work to the repairs team:
	// what needs doing and who to ask, and nothing else about the case.
	PostRepairs(ctx context.Context, c *Case, text string) error
	// Lane names the queue a post waits in: a Slack channel. A lane that
	// is rate limited holds back only its own posts.
	Lane(c *Case, kind JobKind, a Alert) string
}

// Line is a line in a case's thread.
type Line struct {
	Text string
	// Officer and Officer2 are the officers the line names, written
	// {officer} and {officer2} in Text.
	Officer, Officer2 string
	// Tenant marks the tenant's own words: shown as written, never read
	// as markup.
	Tenant bool
}

// Render writes the line with the officers named as officer(id).
func (l Line) Render(officer func(id string) string) string {
	return strings.NewReplacer("{officer}", officer(l.Officer), "{officer2}", officer(l.Officer2)).Replace(l.Text)
}

// JobKind is a kind of work for the board.
type JobKind string

// Job kinds.
const (
	JobCard   JobKind = "card"
	JobUpdate JobKind = "update"
	JobThread JobKind = "thread"
	JobAlert  JobKind = "alert"
	// JobRedact redacts the thread lines of the tenant's words.
	JobRedact JobKind = "redact"
	// JobRepairs sends a repairs request to the repairs team.
	JobRepairs JobKind = "repairs"
	// JobExport delivers the case's record to the housing system.
	JobExport JobKind = "export"
)

// Exporter delivers a case's record to the landlord's housing system:
// on handoff, on close, on reopening and when the tenant asks for their
// words to be erased. version increases with each delivery of the case.
// Deliveries are retried until they succeed, like cards.
type Exporter interface {
	Export(ctx context.Context, c *Case, event string, version int) error
}

// Options tune a Queue. The zero value is usable.
type Options struct {
	// Prefix begins every key of the queue, before its hash tag:
	// "<Prefix>{queue}:…"; default "sc:case:".
	Prefix string
	// Tick is how often Run checks clocks and jobs; default 1s.
	Tick time.Duration
	// Lease is how long one process holds the clocks after it last
	// renewed them (each tick, before each job, and every third of it
	// while a job runs); another takes over when it lapses. Default 4s:
	// a crashed process's work is picked up within 5 s.
	Lease time.Duration
	// JobTimeout bounds one call to the board; default 10s. The lease is
	// renewed while the call runs, and the call is cut short if it is
	// lost, so a process that lost its lease is not still posting when
	// another takes over.
	JobTimeout time.Duration
	// TTL is how long a case is kept after its last change; default 90
	// days. A closed case is kept for ClosedTTL, default 30 days.
	TTL, ClosedTTL time.Duration
	// LedgerTTL is how long a case's anonymous ledger entry is kept, for
	// the monthly and quarterly figures; default two years.
	LedgerTTL time.Duration
	// Managers are the officers (Slack user ids) who may unclaim,
	// reassign, close or tick the duties of a case someone else holds.
	Managers []string
	// Policy gives each case its duties; nil gives none.
	Policy Policy
	// Exporter, when set, receives each case's record.
	Exporter Exporter
	// MaxAttempts is how often a card update or thread line is tried
	// before it is given up, to the dead list; default 30. Cards and
	// alerts are never given up: at MaxAttempts failures of a card the
	// managers are told.
	MaxAttempts int
	// DeadTTL is how long a job given up stays on the dead list, for a
	// person to retry or drop (Jobs); default DefaultDeadTTL. DeadMax is
	// the most the list holds, default DefaultDeadMax: when it is full, a
	// job given up stays waiting and is tried at the longest backoff.
	DeadTTL time.Duration
	DeadMax int
	// BaseBackoff is the first wait after a failure, doubled each time up
	// to MaxBackoff; defaults 1s and 2m.
	BaseBackoff, MaxBackoff time.Duration
	Now                     func() time.Time
	Log                     *slog.Logger
	// Posted, when set, is called after each job the board (or the
	// exporter) took: a card posted, an alert raised. The metrics count
	// them.
	Posted func(kind JobKind, c *Case, a Alert)
	// Events is the store's event log. When set, the queue takes every
	// turn's events from it, each exactly once: a handoff written with
	// its turn cannot be lost.
	Events EventLog
}

// EventLog is where the store writes each turn's events with the turn.
// The queue applies each event once however often Events returns it: it
// records, per conversation, the id of the last event applied, in the
// same step as the change.
type EventLog interface {
	// Events returns up to n events not yet taken; each conversation's
	// come in the order they were logged.
	Events(ctx context.Context, n int) ([]bot.LoggedEvent, error)
	// Taken drops events the caller has applied (all from Events).
	Taken(ctx context.Context, evs []bot.LoggedEvent) error
}

// Sweeper is an EventLog that can find events it holds but would not
// return (the Redis store's, whose index a cluster failover can lose
// part of): Sweep makes them due again and says how many it found. The
// queue sweeps every SweepEvery.
type Sweeper interface {
	Sweep(ctx context.Context) (int, error)
}

// SweepEvery is how often the queue sweeps an event log that can be
// swept: events whose mark was lost wait at most this long.
const SweepEvery = 5 * time.Minute

// Queue is the officer queue in Redis. It takes every turn's events from
// the store's event log (Options.Events): every handoff becomes a case,
// and what the tenant does afterwards reaches the case.
// Several processes share one queue; one at a time, holding a short lease,
// runs the clocks (escalations) and the board's jobs, in order.
type Queue struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	hours  Hours
	board  Board
	opts   Options
	keys   keys
	owner  string
	// paused holds back a rate-limited lane until then.
	paused map[string]time.Time
	// migrated is set once the old layout has been looked for and moved
	// (migrate); after a failure the next try is not before migrateNext.
	// Only WorkOnce uses them.
	migrated    bool
	migrateNext time.Time
	// sweepNext is when the event log is next swept (Sweeper).
	sweepNext time.Time
}

// New returns the queue on rdb. Summaries, addresses and the tenant's
// words are sealed at rest with sealer.
func New(rdb redis.UniversalClient, sealer *seal.Sealer, hours Hours, board Board, opts Options) *Queue {
	if opts.Prefix == "" {
		opts.Prefix = "sc:case:"
	}
	if opts.Tick <= 0 {
		opts.Tick = time.Second
	}
	if opts.Lease <= 0 {
		opts.Lease = 4 * time.Second
	}
	if opts.JobTimeout <= 0 {
		opts.JobTimeout = 10 * time.Second
	}
	if opts.TTL <= 0 {
		opts.TTL = 90 * 24 * time.Hour
	}
	if opts.ClosedTTL <= 0 {
		opts.ClosedTTL = 30 * 24 * time.Hour
	}
	if opts.LedgerTTL <= 0 {
		opts.LedgerTTL = DefaultLedgerTTL
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 30
	}
	if opts.DeadTTL <= 0 {
		opts.DeadTTL = DefaultDeadTTL
	}
	if opts.DeadMax <= 0 {
		opts.DeadMax = DefaultDeadMax
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 2 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	rand.Read(b[:])
	return &Queue{
		rdb: rdb, sealer: sealer, hours: hours, board: board, opts: opts, keys: newKeys(opts.Prefix),
		owner: hex.EncodeToString(b[:]), paused: map[string]time.Time{},
	}
}

// DefaultLedgerTTL is how long ledger entries are kept unless set: two
// years, enough for a year's figures against the year before.
const DefaultLedgerTTL = 2 * 365 * 24 * time.Hour

// SetBoard sets where officers see cases, before Run: the Slack board is
// built on the queue, so it comes second.
func (q *Queue) SetBoard(b Board) { q.board = b }

// Hours is the working time the queue's deadlines are counted in.
func (q *Queue) Hours() Hours { return q.hours }

// Now is the queue's clock.
func (q *Queue) Now() time.Time { return q.opts.Now() }

// Offered returns the duties an officer may add to a case by judgement.
func (q *Queue) Offered() []DutyRule {
	if q.opts.Policy == nil {
		return nil
	}
	return q.opts.Policy.Offered()
}

func ms(t time.Time) int64 { return t.UnixMilli() }

// score orders the open cases: priority first, then age.
func score(p bot.Priority, opened time.Time) int64 {
	return int64(bot.Urgent-p)*1e13 + ms(opened)
}

// secret is what a case keeps sealed.
type secret struct {
	Summary []bot.SummaryLine `json:"s,omitempty"`
	Address string            `json:"a,omitempty"`
}

func (q *Queue) seal(v any, id bot.ConversationID) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	return string(q.sealer.Seal(b, []byte(id))), nil
}

// sealText seals a thread line's text for a job: base64, since a job is
// kept as JSON.
func (q *Queue) sealText(text string, id bot.ConversationID) string {
	return base64.StdEncoding.EncodeToString(q.sealer.Seal([]byte(text), []byte(id)))
}

// Deliver takes a turn's event: a handoff opens (or reopens) a case; the
// tenant's words, a quick exit and a raised priority reach the open case.
// The queue takes logged events itself (Options.Events); Deliver is for
// events that come from elsewhere, such as an opt-out Twilio reports.
func (q *Queue) Deliver(ctx context.Context, ev bot.Event) error {
	return q.apply(ctx, ev, event{})
}

// apply applies an event: from the store's log (e.ID set), or delivered
// directly.
func (q *Queue) apply(ctx context.Context, ev bot.Event, e event) error {
	now := ev.At
	if now.IsZero() {
		now = q.opts.Now()
	}
	id := ev.Conversation
	var err error
	switch ev.Kind {
	case bot.EventHandoff:
		return q.open(ctx, id, ev.Handoff, now, e)
	case bot.EventTenantMessage:
		dl := q.hours.Add(now, q.hours.DayLength())
		err = q.run(ctx, tenantCall{
			ID: id, Event: e, Text: q.sealText("Tenant: "+ev.Text, id), TTL: q.opts.TTL,
			Score: score(ev.Priority, now), Warn: q.warnAt(now), Deadline: dl, Now: now,
			Reopened: q.sealText("The tenant wrote again after the case was closed: it is open again, due by "+q.when(dl)+".", id),
			OnCall:   q.onCall(ev.Priority, now),
		}).Err()
	case bot.EventExited:
		err = q.run(ctx, exitedCall{ID: id, Event: e, Note: q.sealText("Tenant ended the chat — do not text unless they write again.", id)}).Err()
	case bot.EventErased:
		err = q.erase(ctx, id, e)
	case bot.EventOptedOut:
		err = q.run(ctx, exitedCall{ID: id, Event: e, Note: q.sealText("Tenant texted STOP: texts to them are blocked until they text START. Do not text unless they write again.", id)}).Err()
	case bot.EventEmergency, bot.EventPriorityRaised:
		note, danger := "", ev.Kind == bot.EventEmergency
		if danger {
			note = q.sealText("Tenant wrote words of danger and was told to call 999.", id)
		}
		err = q.run(ctx, raiseCall{
			ID: id, Event: e, Priority: ev.Priority, Score: score(ev.Priority, now), OnCall: q.onCall(ev.Priority, now),
			Note: note, Now: now, Danger: danger, Realert: DangerRealert,
		}).Err()
	case bot.EventCaseUpdated:
		var sealed string
		if sealed, err = q.seal(secret{Summary: ev.Handoff.Summary, Address: ev.Handoff.Address}, id); err != nil {
			return err
		}
		err = q.run(ctx, summaryCall{ID: id, Event: e, Sealed: sealed, Area: ev.Handoff.Area, Duties: q.duties(ev.Handoff.Summary, now)}).Err()
	}
	if err != nil {
		return fmt.Errorf("queue: %s event: %w", ev.Kind, err)
	}
	return nil
}

func (q *Queue) open(ctx context.Context, id bot.ConversationID, h *bot.Handoff, now time.Time, e event) error {
	sealed, err := q.seal(secret{Summary: h.Summary, Address: h.Address}, id)
	if err != nil {
		return err
	}
	var again strings.Builder
	if h.Reason != bot.ReasonDanger && h.Opened.Before(h.At) {
		// The case opened part way, on words of danger: these are the
		// rest of the answers.
		again.WriteString("The tenant finished the questions:")
	} else {
		again.WriteString("The tenant answered the questions again:")
	}
	for _, l := range h.Summary {
		if !l.Private {
			fmt.Fprintf(&again, "\n• %s: %s", l.Label, l.Value)
		}
	}
	res, err := q.run(ctx, openCall{
		ID: id, Event: e, TTL: q.opts.TTL, Priority: h.Priority, Score: score(h.Priority, h.At),
		Warn: q.warnAt(h.At), Deadline: h.Deadline, OnCall: q.onCall(h.Priority, now), Sealed: sealed,
		Area: h.Area, Channel: string(h.Channel), Lang: h.Lang, Reason: h.Reason, Opened: time.UnixMilli(opened(h)),
		Again: q.sealText(again.String(), id), Now: now, Duties: q.duties(h.Summary, now),
		LedgerID: newLedgerID(), LedgerTTL: q.opts.LedgerTTL, Ledger: q.ledgerEntry(h), Export: q.opts.Exporter != nil,
	}).Text()
	if err != nil {
		return fmt.Errorf("queue: open case: %w", err)
	}
	q.opts.Log.Info("queue: case "+res, "case", ShortRef(id), "priority", h.Priority.String(), "area", h.Area)
	return nil
}

// duties is the duties the answers trigger at now, for the script.
func (q *Queue) duties(summary []bot.SummaryLine, now time.Time) string {
	if q.opts.Policy == nil {
		return "[]"
	}
	return dutiesJSON(q.opts.Policy.DutiesFor(summary), now)
}

// newLedgerID is a random id for a ledger entry: it is not the
// conversation's, so the figures cannot be tied back to a tenant.
func newLedgerID() string {
	var b [10]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ledgerEntry is what the ledger records when a case opens: the hour, not
// the minute; the area, channel and language; the priority and what
// raised it; whether it was out of hours; and the time it was promised.
func (q *Queue) ledgerEntry(h *bot.Handoff) string {
	op := time.UnixMilli(opened(h))
	// What raised the priority: the tenant's words of danger (which open
	// the case early), or their answers and risk words.
	why := ""
	switch {
	case h.Reason == bot.ReasonDanger:
		why = "danger"
	case h.Priority > bot.Standard:
		why = "answers"
	}
	e := map[string]string{
		"hr": strconv.FormatInt(ms(op.Truncate(time.Hour)), 10), "ar": h.Area, "ch": string(h.Channel), "lg": h.Lang,
		"pr": strconv.Itoa(int(h.Priority)), "why": why, "rs": h.Reason, "ooh": flag(!q.hours.Open(op)),
		"dlm": strconv.FormatInt(int64(h.Deadline.Sub(op)/time.Minute), 10),
	}
	b, _ := json.Marshal(e)
	return string(b)
}

// opened is when the case opened, in ms: before the handoff when words of
// danger opened it.
func opened(h *bot.Handoff) int64 {
	if !h.Opened.IsZero() && h.Opened.Before(h.At) {
		return ms(h.Opened)
	}
	return ms(h.At)
}

// warnAt is when an unclaimed case opened at t is escalated the first
// time: three quarters of its working day on.
func (q *Queue) warnAt(t time.Time) time.Time {
	return q.hours.Add(t, q.hours.DayLength()*3/4)
}

// onCall says whether a case of priority p at t alerts on-call: urgent
// always, high out of hours.
func (q *Queue) onCall(p bot.Priority, t time.Time) bool {
	return p == bot.Urgent || (p == bot.High && !q.hours.Open(t))
}

func (q *Queue) when(t time.Time) string {
	return t.In(q.hours.Location()).Format("Mon 2 Jan 15:04")
}

func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Refusals of the officers' actions.
var (
	ErrNoCase     = errors.New("no such case")
	ErrClaimed    = errors.New("case already claimed")
	ErrNotClaimer = errors.New("only the officer holding the case, or a manager, can do that")
	ErrClosed     = errors.New("case closed")
	ErrNotQueued  = errors.New("case is not waiting to be claimed")
	ErrNotClaimed = errors.New("nobody holds the case: claim it first")
	ErrNoDuty     = errors.New("the case has no such duty")
	ErrDutyDone   = errors.New("that duty is done already")
)

// errUnreadable: a case or job that cannot be opened (sealed with another
// key, or damaged). It is dropped, with an error logged, rather than
// allowed to stop every other case's work.
var errUnreadable = errors.New("unreadable")

// refusal turns a script's {0, state, claimer} into an error.
func refusal(res []any, claimed error) (string, error) {
	if len(res) > 0 && res[0].(int64) >= 1 {
		return "", nil
	}
	state, by := res[1].(string), res[2].(string)
	switch state {
	case string(StateClaimed):
		return by, claimed
	case string(StateClosed):
		return by, ErrClosed
	case "missing":
		return "", ErrNoCase
	case "noduty":
		return "", ErrNoDuty
	case "done":
		return by, ErrDutyDone
	}
	return by, ErrNotQueued
}

// IsManager reports whether the officer is one of the managers.
func (q *Queue) IsManager(officer string) bool { return slices.Contains(q.opts.Managers, officer) }

// acted runs an officer's action on a claimed case, turning the script's
// refusal into an error: ErrNotClaimer for someone else's case,
// ErrNotClaimed for a case nobody holds.
func (q *Queue) acted(ctx context.Context, c call) error {
	res, err := q.run(ctx, c).Slice()
	if err != nil {
		s, _, _ := c.exec()
		return fmt.Errorf("queue: %s: %w", s.name, err)
	}
	if _, err := refusal(res, ErrNotClaimer); errors.Is(err, ErrNotQueued) {
		return ErrNotClaimed
	} else if err != nil {
		return err
	}
	return nil
}

// Unclaim puts the case back to wait for a claim: by the officer holding
// it, or a manager. Its contact clocks run on.
func (q *Queue) Unclaim(ctx context.Context, id bot.ConversationID, officer string) error {
	note := q.sealText("{officer} unclaimed the case, held by {officer2}: it is waiting to be claimed again.", id)
	return q.acted(ctx, unclaimCall{ID: id, Officer: officer, Manager: q.IsManager(officer), Now: q.opts.Now(), Note: note})
}

// Reassign gives the case to another officer: the officer holding it
// passes it on, or a manager gives any open case to anyone on the list.
func (q *Queue) Reassign(ctx context.Context, id bot.ConversationID, officer, to string) error {
	note := q.sealText("{officer} gave the case to {officer2}.", id)
	return q.acted(ctx, reassignCall{ID: id, Officer: officer, Manager: q.IsManager(officer), To: to, Now: q.opts.Now(), Note: note})
}

// Contacted records that the officer holding the case (or a manager)
// reached the tenant, and how: by phone, in person. It stops the contact
// clocks. Only the first contact is recorded.
func (q *Queue) Contacted(ctx context.Context, id bot.ConversationID, officer, how string) error {
	note := q.sealText("{officer} made contact with the tenant ("+how+"). The contact deadline is met.", id)
	return q.acted(ctx, contactedCall{ID: id, Officer: officer, Manager: q.IsManager(officer), How: how, Now: q.opts.Now(), Note: note})
}

// Delivered records that an officer's message reached the tenant (Twilio
// reported it delivered, or the open web chat showed it): the first one
// is the first contact, and stops the contact clocks.
func (q *Queue) Delivered(ctx context.Context, id bot.ConversationID, how string) error {
	note := q.sealText("First message delivered to the tenant ("+how+"). The contact deadline is met.", id)
	res, err := q.run(ctx, contactedCall{ID: id, How: how, Now: q.opts.Now(), Note: note}).Slice()
	if err != nil {
		return fmt.Errorf("queue: delivered: %w", err)
	}
	_, err = refusal(res, nil)
	return err
}

// Closure is how a case ends: its outcome, and whether the closure was
// discussed with the tenant (seed 003): "yes", "no".
type Closure struct {
	Outcome, Discussed string
}

// Close ends the claimed case with an outcome: by the officer holding it,
// or a manager.
func (q *Queue) Close(ctx context.Context, id bot.ConversationID, officer, outcome string) error {
	return q.CloseWith(ctx, id, officer, Closure{Outcome: outcome})
}

// CloseWith ends the claimed case as the closure says.
func (q *Queue) CloseWith(ctx context.Context, id bot.ConversationID, officer string, cl Closure) error {
	text := "Closed by {officer}: " + cl.Outcome
	switch cl.Discussed {
	case "yes":
		text += ". The closure was discussed with the tenant."
	case "no":
		text += ". The closure was not discussed with the tenant."
	}
	return q.acted(ctx, closeCall{
		ID: id, Officer: officer, Manager: q.IsManager(officer), Outcome: cl.Outcome, Discussed: cl.Discussed,
		Now: q.opts.Now(), TTL: q.opts.ClosedTTL, Note: q.sealText(text, id),
	})
}

// DutyRecord is what an officer records when doing a duty: a DASH score
// and professional judgement, or a repairs request's text.
type DutyRecord struct {
	Score     int
	Judgement bool
	// Repairs is the request for the repairs team: what needs securing,
	// and nothing else about the case.
	Repairs string
}

// DoDuty ticks the case's duty as done by the officer (the holder, or a
// manager). A DASH score of 14 or more, or professional judgement, adds
// the MARAC referral with its own deadline; a repairs duty done with a
// request sends it to the repairs team.
func (q *Queue) DoDuty(ctx context.Context, id bot.ConversationID, officer, duty string, rec DutyRecord) error {
	c, err := q.Get(ctx, id)
	if err != nil {
		return err
	}
	d := c.Duty(duty)
	if d == nil {
		return ErrNoDuty
	}
	now := q.opts.Now()
	value, text := "", "{officer} did: "+d.Title+"."
	follow := "[]"
	if d.Records == "score" {
		value = fmt.Sprintf("score %d", rec.Score)
		if rec.Judgement {
			value += ", professional judgement: high risk"
		}
		text = fmt.Sprintf("{officer} did: %s (%s).", d.Title, value)
		if q.opts.Policy != nil {
			rules := q.opts.Policy.FollowUps(duty, rec.Score, rec.Judgement)
			for _, r := range rules {
				text += " Now due: " + r.Title + "."
			}
			follow = dutiesJSON(rules, now)
		}
	}
	repairs := ""
	if d.Repairs && rec.Repairs != "" {
		repairs = q.sealText(rec.Repairs, id)
		text = "{officer} sent the repairs request: " + d.Title + "."
	}
	return q.acted(ctx, dutyCall{
		ID: id, Officer: officer, Manager: q.IsManager(officer), Duty: duty, Value: value, Now: now,
		Note: q.sealText(text, id), FollowUps: follow, Repairs: repairs,
	})
}

// AddDuty adds one of the duties the policy leaves to an officer's
// judgement (Policy.Offered), with its deadline from now.
func (q *Queue) AddDuty(ctx context.Context, id bot.ConversationID, officer, duty string) error {
	if q.opts.Policy == nil {
		return ErrNoDuty
	}
	for _, r := range q.opts.Policy.Offered() {
		if r.ID == duty {
			now := q.opts.Now()
			note := q.sealText("{officer} added a duty: "+r.Title+".", id)
			return q.acted(ctx, addDutyCall{ID: id, Officer: officer, Manager: q.IsManager(officer), Duties: dutiesJSON([]DutyRule{r}, now), Now: now, Note: note})
		}
	}
	return ErrNoDuty
}

// erase removes the tenant's words from the case when they ask: the
// answers (the questions stay, so officers know what was asked), the
// address, the thread lines that held their words and the lines not yet
// posted.
func (q *Queue) erase(ctx context.Context, id bot.ConversationID, e event) error {
	var s secret
	if c, err := q.Get(ctx, id); err == nil {
		for _, l := range c.Summary {
			s.Summary = append(s.Summary, bot.SummaryLine{Step: l.Step, Label: l.Label, Value: Removed, Private: l.Private})
		}
	} else if !errors.Is(err, ErrNoCase) && !errors.Is(err, errUnreadable) {
		return err
	}
	sealed, err := q.seal(s, id)
	if err != nil {
		return err
	}
	note := q.sealText("The tenant asked for their words to be erased: their answers and messages are removed, and their contact details are gone. Do not try to contact them unless they write again.", id)
	return q.run(ctx, eraseCall{ID: id, Event: e, Summary: sealed, Note: note, Export: q.opts.Exporter != nil, Now: q.opts.Now()}).Err()
}

// Removed stands in for the tenant's words once they asked for them to be
// erased.
const Removed = "[removed at the tenant's request]"

// Claim gives the case to the officer if nobody has it. Two officers
// claiming at once: one wins; the other gets ErrClaimed and the winner.
func (q *Queue) Claim(ctx context.Context, id bot.ConversationID, officer string) (claimer string, err error) {
	res, err := q.run(ctx, claimCall{ID: id, Officer: officer, Now: q.opts.Now()}).Slice()
	if err != nil {
		return "", fmt.Errorf("queue: claim: %w", err)
	}
	by, err := refusal(res, ErrClaimed)
	if err != nil {
		return by, err
	}
	return officer, nil
}

// ShowContact returns the tenant's address to the officer who claimed the
// case, and records that they saw it.
func (q *Queue) ShowContact(ctx context.Context, id bot.ConversationID, officer string) (*Case, error) {
	note := q.sealText("{officer} looked up the tenant's contact details.", id)
	res, err := q.run(ctx, shownCall{ID: id, Officer: officer, Now: q.opts.Now(), Note: note}).Slice()
	if err != nil {
		return nil, fmt.Errorf("queue: show contact: %w", err)
	}
	if _, err := refusal(res, ErrNotClaimer); err != nil {
		return nil, err
	}
	q.opts.Log.Info("queue: contact shown", "case", ShortRef(id), "officer", officer)
	return q.Get(ctx, id)
}

// Note adds a line to the case's thread, such as a text that did not
// reach the tenant. A conversation with no case is ignored.
func (q *Queue) Note(ctx context.Context, id bot.ConversationID, text string) error {
	if err := q.run(ctx, noteCall{ID: id, Text: q.sealText(text, id)}).Err(); err != nil {
		return fmt.Errorf("queue: note: %w", err)
	}
	return nil
}

// Stats is the queue at a glance, for monitoring: no personal data.
type Stats struct {
	// Open counts the open cases by state (queued, claimed) and priority.
	Open map[State]map[bot.Priority]int
	// OldestQueued is when the longest-waiting unclaimed case was opened;
	// zero when none waits.
	OldestQueued time.Time
	// Jobs is how many posts for the board are waiting.
	Jobs int64
	// EarliestDue is the earliest contact deadline of the open cases not
	// yet contacted, claimed or not; zero when there are none.
	EarliestDue time.Time
}

// Stats counts the open cases and the waiting jobs. It reads, and
// changes nothing but the open cases' index, from which it takes a case
// that expired while open: the counts are a moment's, not one atomic
// snapshot, which monitoring does not need.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	pipe := q.rdb.Pipeline()
	jobs := pipe.ZCard(ctx, q.keys.of("jobs"))
	open := pipe.ZRange(ctx, q.keys.of("open"), 0, -1)
	if _, err := pipe.Exec(ctx); err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	ids := open.Val()
	pipe = q.rdb.Pipeline()
	cases := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cases[i] = pipe.HMGet(ctx, q.keys.caseKey(bot.ConversationID(id)), "st", "pr", "op", "dl", "cot")
	}
	if len(ids) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return Stats{}, fmt.Errorf("queue: stats: %w", err)
		}
	}
	st := Stats{Open: map[State]map[bot.Priority]int{StateQueued: {}, StateClaimed: {}}, Jobs: jobs.Val()}
	str := func(v any) string { s, _ := v.(string); return s }
	for i, cmd := range cases {
		f := cmd.Val()
		state, ok := f[0].(string)
		if !ok {
			// The case expired while open: it leaves the queue too.
			if err := q.run(ctx, unlistCall{ID: bot.ConversationID(ids[i])}).Err(); err != nil {
				return Stats{}, fmt.Errorf("queue: stats: %w", err)
			}
			continue
		}
		pr, _ := strconv.Atoi(str(f[1]))
		if st.Open[State(state)] == nil {
			st.Open[State(state)] = map[bot.Priority]int{}
		}
		st.Open[State(state)][bot.Priority(pr)]++
		if State(state) == StateQueued {
			if t := fromMS(str(f[2])); !t.IsZero() && (st.OldestQueued.IsZero() || t.Before(st.OldestQueued)) {
				st.OldestQueued = t
			}
		}
		if f[4] != nil {
			continue // contacted
		}
		if t := fromMS(str(f[3])); !t.IsZero() && (st.EarliestDue.IsZero() || t.Before(st.EarliestDue)) {
			st.EarliestDue = t
		}
	}
	return st, nil
}

// Get returns the case, or ErrNoCase.
func (q *Queue) Get(ctx context.Context, id bot.ConversationID) (*Case, error) {
	m, err := q.rdb.HGetAll(ctx, q.keys.caseKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: get case: %w", err)
	}
	if len(m) == 0 {
		return nil, ErrNoCase
	}
	pr, _ := strconv.Atoi(m["pr"])
	c := &Case{
		ID: id, State: State(m["st"]), Priority: bot.Priority(pr), Area: m["ar"], Channel: bot.Channel(m["ch"]),
		Lang: m["lg"], Reason: m["rs"], Opened: fromMS(m["op"]), Deadline: fromMS(m["dl"]),
		ClaimedBy: m["by"], ClaimedAt: fromMS(m["cat"]), ClosedBy: m["cby"], Outcome: m["out"], Discussed: m["dsc"],
		ContactedAt: fromMS(m["cot"]), ContactedBy: m["cob"], ContactHow: m["coh"],
		Exited: m["ex"] == "1", Erased: m["er"] == "1", Reopened: m["ro"] == "1", Card: Ref{Channel: m["cc"], TS: m["cts"]},
		Actions: actions(m["log"]), cardJob: m["cj"],
	}
	if c.Duties, err = q.dutiesOf(ctx, id); err != nil {
		return nil, err
	}
	plain, err := q.sealer.Open([]byte(m["sec"]), []byte(id))
	if err != nil {
		return nil, fmt.Errorf("queue: case %s: %w: %w", c.Short(), errUnreadable, err)
	}
	var s secret
	if err := json.Unmarshal(plain, &s); err != nil {
		return nil, fmt.Errorf("queue: case %s: %w: %w", c.Short(), errUnreadable, err)
	}
	c.Summary, c.Address = s.Summary, s.Address
	return c, nil
}

// dutiesOf reads the case's duties: the tasks by due time, then the
// reminders.
func (q *Queue) dutiesOf(ctx context.Context, id bot.ConversationID) ([]*Duty, error) {
	m, err := q.rdb.HGetAll(ctx, q.keys.dutiesKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: duties: %w", err)
	}
	var out []*Duty
	for _, raw := range m {
		var d storedDuty
		if err := json.Unmarshal([]byte(raw), &d); err != nil {
			q.opts.Log.Error("queue: a duty cannot be read", "case", ShortRef(id), "err", err)
			continue
		}
		out = append(out, d.duty())
	}
	slices.SortFunc(out, func(a, b *Duty) int {
		if a.Reminder != b.Reminder {
			if a.Reminder {
				return 1
			}
			return -1
		}
		if c := a.Due.Compare(b.Due); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

// actions reads the case's log of officers' actions.
func actions(log string) []Action {
	var out []Action
	for line := range strings.Lines(log) {
		f := strings.SplitN(strings.TrimSuffix(line, "\n"), "\t", 3)
		if len(f) == 3 {
			out = append(out, Action{At: fromMS(f[0]), Officer: f[1], What: f[2]})
		}
	}
	return out
}

func fromMS(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// CaseByCard returns the id of the case whose card is at the timestamp.
func (q *Queue) CaseByCard(ctx context.Context, ts string) (bot.ConversationID, error) {
	id, err := q.rdb.Get(ctx, q.keys.cardKey(ts)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoCase
	}
	return bot.ConversationID(id), err
}

// List returns the open cases (queued or claimed), most urgent first, then
// oldest first.
func (q *Queue) List(ctx context.Context) ([]*Case, error) {
	ids, err := q.rdb.ZRange(ctx, q.keys.of("open"), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("queue: list: %w", err)
	}
	var out []*Case
	for _, id := range ids {
		c, err := q.Get(ctx, bot.ConversationID(id))
		if errors.Is(err, ErrNoCase) {
			continue // expired
		}
		if errors.Is(err, errUnreadable) {
			q.opts.Log.Error("queue: a case cannot be read", "case", ShortRef(bot.ConversationID(id)), "err", err)
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}
