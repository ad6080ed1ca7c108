package handoff

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"safecontact/bot"
	"safecontact/bot/seal"
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
// long.
type Board interface {
	// PostCase posts a new case's card and says where it is.
	PostCase(ctx context.Context, c *Case) (Ref, error)
	// UpdateCase redraws the card after a claim, a close, a raised
	// priority or a quick exit.
	UpdateCase(ctx context.Context, c *Case) error
	// PostThread adds a line under the case's card: the tenant's words,
	// or what happened.
	PostThread(ctx context.Context, c *Case, l Line) error
	// Alert tells on-call or the managers about the case.
	Alert(ctx context.Context, c *Case, a Alert) error
	// Lane names the queue a post waits in: a Slack channel. A lane that
	// is rate limited holds back only its own posts.
	Lane(c *Case, kind JobKind, a Alert) string
}

// Line is a line in a case's thread.
type Line struct {
	Text string
	// Officer is the officer the line names, written {officer} in Text.
	Officer string
	// Tenant marks the tenant's own words: shown as written, never read
	// as markup.
	Tenant bool
}

// Render writes the line with the officer named as officer(id).
func (l Line) Render(officer func(id string) string) string {
	return strings.ReplaceAll(l.Text, "{officer}", officer(l.Officer))
}

// JobKind is a kind of work for the board.
type JobKind string

// Job kinds.
const (
	JobCard   JobKind = "card"
	JobUpdate JobKind = "update"
	JobThread JobKind = "thread"
	JobAlert  JobKind = "alert"
)

// Options tune a Queue. The zero value is usable.
type Options struct {
	Prefix string // key prefix; default "sc:case:"
	// Tick is how often Run checks clocks and jobs; default 1s.
	Tick time.Duration
	// Lease is how long one process holds the clocks after it last
	// renewed them (each tick, and before each job); another takes over
	// when it lapses. Default 15s.
	Lease time.Duration
	// JobTimeout bounds one call to the board; default 10s, and always
	// less than Lease, so a process whose lease lapsed mid-call cannot
	// still be posting when another takes over.
	JobTimeout time.Duration
	// TTL is how long a case is kept after its last change; default 90
	// days. A closed case is kept for ClosedTTL, default 30 days.
	TTL, ClosedTTL time.Duration
	// MaxAttempts is how often a card update or thread line is tried
	// before it is given up and logged; default 30. Cards and alerts are
	// never given up: at MaxAttempts failures of a card the managers are
	// told.
	MaxAttempts int
	// BaseBackoff is the first wait after a failure, doubled each time up
	// to MaxBackoff; defaults 1s and 2m.
	BaseBackoff, MaxBackoff time.Duration
	Now                     func() time.Time
	Log                     *slog.Logger
	// Events is the store's event log. When set, the queue takes every
	// turn's events from it (each exactly once), and channels need no
	// Sink: a handoff written with its turn cannot be lost.
	Events EventLog
}

// EventLog is where the store writes each turn's events with the turn.
type EventLog interface {
	// Events returns up to n events after the id ("" for the first).
	Events(ctx context.Context, after string, n int64) ([]bot.LoggedEvent, error)
	// TrimEvents drops the events up to and including the id.
	TrimEvents(ctx context.Context, through string) error
}

// Queue is the officer queue in Redis. It is a bot.Sink: every handoff
// becomes a case, and what the tenant does afterwards reaches the case.
// Several processes share one queue; one at a time, holding a short lease,
// runs the clocks (escalations) and the board's jobs, in order.
type Queue struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	hours  Hours
	board  Board
	opts   Options
	owner  string
	// paused holds back a rate-limited lane until then.
	paused map[string]time.Time
}

//go:embed queue.lua
var queueSource string

var queueScript = redis.NewScript(queueSource)

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
		opts.Lease = 15 * time.Second
	}
	if opts.JobTimeout <= 0 || opts.JobTimeout >= opts.Lease {
		opts.JobTimeout = min(10*time.Second, opts.Lease*2/3)
	}
	if opts.TTL <= 0 {
		opts.TTL = 90 * 24 * time.Hour
	}
	if opts.ClosedTTL <= 0 {
		opts.ClosedTTL = 30 * 24 * time.Hour
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 30
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
		rdb: rdb, sealer: sealer, hours: hours, board: board, opts: opts,
		owner: hex.EncodeToString(b[:]), paused: map[string]time.Time{},
	}
}

// SetBoard sets where officers see cases, before Run: the Slack board is
// built on the queue, so it comes second.
func (q *Queue) SetBoard(b Board) { q.board = b }

// Hours is the working time the queue's deadlines are counted in.
func (q *Queue) Hours() Hours { return q.hours }

func (q *Queue) eval(ctx context.Context, op string, args ...any) *redis.Cmd {
	return queueScript.Run(ctx, q.rdb, []string{q.opts.Prefix + "lease"}, append([]any{op, q.opts.Prefix}, args...)...)
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

func (q *Queue) sealText(text string, id bot.ConversationID) string {
	return string(q.sealer.Seal([]byte(text), []byte(id)))
}

// Deliver takes a turn's event: a handoff opens (or reopens) a case; the
// tenant's words, a quick exit and a raised priority reach the open case.
// Deliver is for events that come straight from a channel; with the
// store's event log (Options.Events) the queue takes them itself.
func (q *Queue) Deliver(ctx context.Context, ev bot.Event) error {
	return q.apply(ctx, ev, "")
}

// apply applies an event; evid is its id in the event log, or "".
func (q *Queue) apply(ctx context.Context, ev bot.Event, evid string) error {
	now := ev.At
	if now.IsZero() {
		now = q.opts.Now()
	}
	id := ev.Conversation
	var err error
	switch ev.Kind {
	case bot.EventHandoff:
		return q.open(ctx, id, ev.Handoff, now, evid)
	case bot.EventTenantMessage:
		dl := q.hours.Add(now, q.hours.DayLength())
		err = q.eval(ctx, "tenant", string(id), q.sealText("Tenant: "+ev.Text, id), q.opts.TTL.Milliseconds(),
			score(ev.Priority, now), ms(q.warnAt(now)), ms(dl), ms(now), ms(dl),
			q.sealText("The tenant wrote again after the case was closed: it is open again, due by "+q.when(dl)+".", id),
			flag(q.onCall(ev.Priority, now)), evid).Err()
	case bot.EventExited, bot.EventErased:
		err = q.eval(ctx, "exited", string(id), q.sealText("Tenant ended the chat — do not text unless they write again.", id), evid).Err()
	case bot.EventOptedOut:
		err = q.eval(ctx, "exited", string(id), q.sealText("Tenant texted STOP: texts to them are blocked until they text START. Do not text unless they write again.", id), evid).Err()
	case bot.EventEmergency, bot.EventPriorityRaised:
		note, danger := "", ev.Kind == bot.EventEmergency
		if danger {
			note = q.sealText("Tenant wrote words of danger and was told to call 999.", id)
		}
		err = q.eval(ctx, "raise", string(id), int(ev.Priority), score(ev.Priority, now),
			flag(q.onCall(ev.Priority, now)), note, ms(now), flag(danger), DangerRealert.Milliseconds(), evid).Err()
	case bot.EventCaseUpdated:
		var sealed string
		if sealed, err = q.seal(secret{Summary: ev.Handoff.Summary, Address: ev.Handoff.Address}, id); err != nil {
			return err
		}
		err = q.eval(ctx, "summary", string(id), sealed, ev.Handoff.Area, evid).Err()
	}
	if err != nil {
		return fmt.Errorf("queue: %s event: %w", ev.Kind, err)
	}
	return nil
}

func (q *Queue) open(ctx context.Context, id bot.ConversationID, h *bot.Handoff, now time.Time, evid string) error {
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
	res, err := q.eval(ctx, "open", string(id), q.opts.TTL.Milliseconds(), int(h.Priority), score(h.Priority, h.At),
		ms(q.warnAt(h.At)), ms(h.Deadline), flag(q.onCall(h.Priority, now)), sealed,
		h.Area, string(h.Channel), h.Lang, h.Reason, opened(h), ms(h.Deadline), q.sealText(again.String(), id), ms(now), evid).Text()
	if err != nil {
		return fmt.Errorf("queue: open case: %w", err)
	}
	q.opts.Log.Info("queue: case "+res, "case", ShortRef(id), "priority", h.Priority.String(), "area", h.Area)
	return nil
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

// Refusals of Claim, Close and ShowContact.
var (
	ErrNoCase     = errors.New("no such case")
	ErrClaimed    = errors.New("case already claimed")
	ErrNotClaimer = errors.New("only the officer who claimed the case can do that")
	ErrClosed     = errors.New("case closed")
	ErrNotQueued  = errors.New("case is not waiting to be claimed")
)

// errUnreadable: a case or job that cannot be opened (sealed with another
// key, or damaged). It is dropped, with an error logged, rather than
// allowed to stop every other case's work.
var errUnreadable = errors.New("unreadable")

// refusal turns a script's {0, state, claimer} into an error.
func refusal(res []any, claimed error) (string, error) {
	if len(res) > 0 && res[0].(int64) == 1 {
		return "", nil
	}
	state, by := res[1].(string), res[2].(string)
	switch State(state) {
	case StateClaimed:
		return by, claimed
	case StateClosed:
		return by, ErrClosed
	case "missing":
		return "", ErrNoCase
	}
	return by, ErrNotQueued
}

// Claim gives the case to the officer if nobody has it. Two officers
// claiming at once: one wins; the other gets ErrClaimed and the winner.
func (q *Queue) Claim(ctx context.Context, id bot.ConversationID, officer string) (claimer string, err error) {
	res, err := q.eval(ctx, "claim", string(id), officer, ms(q.opts.Now())).Slice()
	if err != nil {
		return "", fmt.Errorf("queue: claim: %w", err)
	}
	by, err := refusal(res, ErrClaimed)
	if err != nil {
		return by, err
	}
	return officer, nil
}

// Close ends the claimed case with an outcome; only its claimer can.
func (q *Queue) Close(ctx context.Context, id bot.ConversationID, officer, outcome string) error {
	note := q.sealText("Closed by {officer}: "+outcome, id)
	res, err := q.eval(ctx, "close", string(id), officer, outcome, ms(q.opts.Now()), q.opts.ClosedTTL.Milliseconds(), note).Slice()
	if err != nil {
		return fmt.Errorf("queue: close: %w", err)
	}
	_, err = refusal(res, ErrNotClaimer)
	return err
}

// ShowContact returns the tenant's address to the officer who claimed the
// case, and records that they saw it.
func (q *Queue) ShowContact(ctx context.Context, id bot.ConversationID, officer string) (*Case, error) {
	note := q.sealText("{officer} looked up the tenant's contact details.", id)
	res, err := q.eval(ctx, "shown", string(id), officer, ms(q.opts.Now()), note).Slice()
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
	if err := q.eval(ctx, "note", string(id), q.sealText(text, id)).Err(); err != nil {
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
}

// Stats counts the open cases and the waiting jobs, in one script.
func (q *Queue) Stats(ctx context.Context) (Stats, error) {
	res, err := q.eval(ctx, "stats").Slice()
	if err != nil {
		return Stats{}, fmt.Errorf("queue: stats: %w", err)
	}
	st := Stats{Open: map[State]map[bot.Priority]int{StateQueued: {}, StateClaimed: {}}, Jobs: res[0].(int64)}
	for i := 1; i+2 < len(res); i += 3 {
		state, _ := res[i].(string)
		pr, _ := strconv.Atoi(fmt.Sprint(res[i+1]))
		if st.Open[State(state)] == nil {
			st.Open[State(state)] = map[bot.Priority]int{}
		}
		st.Open[State(state)][bot.Priority(pr)]++
		if State(state) == StateQueued {
			if t := fromMS(fmt.Sprint(res[i+2])); !t.IsZero() && (st.OldestQueued.IsZero() || t.Before(st.OldestQueued)) {
				st.OldestQueued = t
			}
		}
	}
	return st, nil
}

// Get returns the case, or ErrNoCase.
func (q *Queue) Get(ctx context.Context, id bot.ConversationID) (*Case, error) {
	m, err := q.rdb.HGetAll(ctx, q.opts.Prefix+"c:"+string(id)).Result()
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
		ClaimedBy: m["by"], ClaimedAt: fromMS(m["cat"]), ClosedBy: m["cby"], Outcome: m["out"],
		Exited: m["ex"] == "1", Reopened: m["ro"] == "1", Card: Ref{Channel: m["cc"], TS: m["cts"]},
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

func fromMS(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(n)
}

// CaseByCard returns the id of the case whose card is at the timestamp.
func (q *Queue) CaseByCard(ctx context.Context, ts string) (bot.ConversationID, error) {
	id, err := q.rdb.Get(ctx, q.opts.Prefix+"card:"+ts).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoCase
	}
	return bot.ConversationID(id), err
}

// List returns the open cases (queued or claimed), most urgent first, then
// oldest first.
func (q *Queue) List(ctx context.Context) ([]*Case, error) {
	ids, err := q.rdb.ZRange(ctx, q.opts.Prefix+"open", 0, -1).Result()
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
