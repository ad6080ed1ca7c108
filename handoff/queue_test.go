package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/ledger"
	"github.com/safecontact/safecontact/seal"
)

var london = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, london)
}

// clock is a controllable clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// board records what the queue posts, and fails on demand.
type board struct {
	mu    sync.Mutex
	posts []string
	// fail, when set, is asked before each post; a non-nil error fails it.
	fail func(what string) error
	n    int
}

func (b *board) record(what string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.fail != nil {
		if err := b.fail(what); err != nil {
			return err
		}
	}
	b.posts = append(b.posts, what)
	return nil
}

func (b *board) PostCase(_ context.Context, c *handoff.Case) (handoff.Ref, error) {
	b.mu.Lock()
	b.n++
	ts := fmt.Sprintf("17000000%02d.000100", b.n)
	b.mu.Unlock()
	return handoff.Ref{Channel: "C-" + c.Area, TS: ts}, b.record("card " + c.Short() + " " + c.Priority.String())
}

func (b *board) UpdateCase(_ context.Context, c *handoff.Case) error {
	return b.record(fmt.Sprintf("update %s %s %s exited=%v", c.Short(), c.State, c.ClaimedBy, c.Exited))
}

func (b *board) PostThread(_ context.Context, c *handoff.Case, l handoff.Line) (handoff.Ref, error) {
	text := l.Render(func(id string) string { return "<@" + id + ">" })
	if l.Tenant {
		text = "[tenant] " + text
	}
	b.mu.Lock()
	b.n++
	ts := fmt.Sprintf("17000000%02d.000200", b.n)
	b.mu.Unlock()
	return handoff.Ref{Channel: c.Card.Channel, TS: ts}, b.record("thread " + c.Short() + " " + text)
}

func (b *board) Alert(_ context.Context, c *handoff.Case, a handoff.Alert, d *handoff.Duty) error {
	what := "alert " + c.Short() + " " + string(a)
	if d != nil {
		what += " " + d.ID
	}
	if a.ToClaimer(c) {
		what += " to " + c.ClaimedBy
	}
	return b.record(what)
}

func (b *board) Redact(_ context.Context, c *handoff.Case, refs []handoff.Ref) error {
	known := 0
	for _, r := range refs {
		if r.TS != "" {
			known++
		}
	}
	what := fmt.Sprintf("redact %s %d lines", c.Short(), known)
	if tried := len(refs) - known; tried > 0 {
		what += fmt.Sprintf(", %d tried", tried)
	}
	return b.record(what)
}

func (b *board) PostRepairs(_ context.Context, c *handoff.Case, text string) error {
	return b.record("repairs " + c.Short() + " " + text)
}

func (b *board) Lane(c *handoff.Case, kind handoff.JobKind, a handoff.Alert) string {
	if kind == handoff.JobAlert {
		return "alerts"
	}
	return "C-" + c.Area
}

func (b *board) Posts() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.posts...)
}

// retryAfter is a rate-limit error.
type retryAfter time.Duration

func (r retryAfter) Error() string             { return "rate limited" }
func (r retryAfter) RetryAfter() time.Duration { return time.Duration(r) }

type fixture struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	hours  *flows.Hours
	prefix string
	clock  *clock
	board  *board
}

func newFixture(t *testing.T, start time.Time) *fixture {
	t.Helper()
	hours, problems := flows.LoadHours(os.DirFS("../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	sealer, err := seal.New([]byte("queue-test-key-0123456789abcdefg"))
	require.NoError(t, err)
	return &fixture{
		rdb: storetest.Redis(t), sealer: sealer, hours: hours, prefix: storetest.Prefix(t),
		clock: &clock{t: start}, board: &board{},
	}
}

// key is the queue's key named, under the fixture's prefix.
func (f *fixture) key(name string) string { return ledger.Base(f.prefix) + name }

// queue returns a queue on the fixture's Redis: call it again for a
// second process. Its lease lasts a real 15 seconds, or lease.
func (f *fixture) queue(lease ...time.Duration) *handoff.Queue {
	opts := handoff.Options{Prefix: f.prefix, Now: f.clock.Now, BaseBackoff: time.Second}
	if len(lease) > 0 {
		opts.Lease = lease[0]
	}
	return handoff.New(f.rdb, f.sealer, f.hours, f.board, opts)
}

// queueWith returns a queue with options changed by set.
func (f *fixture) queueWith(set func(*handoff.Options)) *handoff.Queue {
	opts := handoff.Options{Prefix: f.prefix, Now: f.clock.Now, BaseBackoff: time.Second}
	set(&opts)
	return handoff.New(f.rdb, f.sealer, f.hours, f.board, opts)
}

// handoff delivers a new case to q at the clock's time.
func (f *fixture) handoff(t *testing.T, q *handoff.Queue, id string, p bot.Priority, more ...bot.SummaryLine) {
	t.Helper()
	now := f.clock.Now()
	require.NoError(t, q.Deliver(context.Background(), bot.Event{
		Kind: bot.EventHandoff, Conversation: bot.ConversationID(id), Priority: p,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: p, Area: "shropshire", Lang: "en", Channel: bot.ChannelSMS,
			Address: "+447700900123", At: now, Deadline: f.hours.Deadline(now),
			Summary: append([]bot.SummaryLine{{Step: "children", Label: "Children at home", Value: "Yes"}}, more...),
		},
	}))
}

// at sets the clock and steps q.
func (f *fixture) stepAt(t *testing.T, q *handoff.Queue, when time.Time) {
	t.Helper()
	f.clock.Set(when)
	held, err := q.WorkOnce(context.Background())
	require.NoError(t, err)
	require.True(t, held, "the queue should hold the lease at %s", when)
}

func TestStandardCaseEscalatesAt75And100PercentAcrossAWeekendAndARestart(t *testing.T) {
	// Friday 27 Nov 2026 16:00: the deadline is one working day on, Monday
	// 16:00; three quarters of it (6 of 8 working hours) is Monday 14:00.
	f := newFixture(t, at(2026, 11, 27, 16, 0))
	const lease = 300 * time.Millisecond // real time: the lease is on Redis's clock
	q := f.queue(lease)
	f.handoff(t, q, "case-standard-0001", bot.Standard)
	f.stepAt(t, q, at(2026, 11, 27, 16, 0))
	require.Equal(t, []string{"card case-sta standard"}, f.board.Posts())

	for _, when := range []time.Time{at(2026, 11, 27, 17, 30), at(2026, 11, 28, 12, 0), at(2026, 11, 29, 23, 0), at(2026, 11, 30, 13, 59)} {
		f.stepAt(t, q, when)
	}
	assert.Len(t, f.board.Posts(), 1, "no escalation before Monday 14:00")

	f.stepAt(t, q, at(2026, 11, 30, 14, 0))
	assert.Equal(t, "alert case-sta warn", f.board.Posts()[1])

	// The process dies holding the lease; another takes over once it
	// lapses, and the deadline's alert still comes, once.
	q2 := f.queue(lease)
	f.clock.Set(at(2026, 11, 30, 14, 0).Add(time.Second))
	held, err := q2.WorkOnce(context.Background())
	require.NoError(t, err)
	assert.False(t, held, "the lease is still the first process's")
	time.Sleep(lease + 100*time.Millisecond)
	f.stepAt(t, q2, at(2026, 11, 30, 16, 0))
	f.stepAt(t, q2, at(2026, 11, 30, 16, 1))
	assert.Equal(t, []string{"card case-sta standard", "alert case-sta warn", "update case-sta queued  exited=false",
		"alert case-sta due", "update case-sta queued  exited=false"}, f.board.Posts(), "each alert once, and the card redrawn with it")
}

func TestOnCall(t *testing.T) {
	tests := []struct {
		label string
		when  time.Time
		p     bot.Priority
		alert bool
	}{
		{"urgent out of hours", at(2026, 11, 28, 2, 0), bot.Urgent, true},
		{"urgent in hours", at(2026, 12, 1, 11, 0), bot.Urgent, true},
		{"high out of hours", at(2026, 12, 1, 19, 0), bot.High, true},
		{"high in hours", at(2026, 12, 1, 11, 0), bot.High, false},
		{"standard out of hours", at(2026, 11, 28, 2, 0), bot.Standard, false},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			f := newFixture(t, tt.when)
			q := f.queue()
			f.handoff(t, q, "case-oncall-0001", tt.p)
			f.stepAt(t, q, tt.when)
			want := []string{"card case-onc " + tt.p.String()}
			if tt.alert {
				want = append(want, "alert case-onc oncall")
			}
			assert.Equal(t, want, f.board.Posts())
		})
	}
}

func TestPriorityRaisedToUrgentAlertsOnCallOnce(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 11, 0))
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "case-raised-0001", bot.Standard)
	for range 2 {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventEmergency, Conversation: "case-raised-0001", Priority: bot.Urgent}))
	}
	f.stepAt(t, q, at(2026, 12, 1, 11, 1))
	// A card shows the case as it is when posted. The alert goes first,
	// after the card it links to; then the card's update, then the
	// thread.
	assert.Equal(t, []string{
		"card case-rai urgent",
		"alert case-rai oncall",
		"update case-rai queued  exited=false",
		"thread case-rai Tenant wrote words of danger and was told to call 999.",
		"thread case-rai Tenant wrote words of danger and was told to call 999.",
	}, f.board.Posts())
	c, err := q.Get(ctx, "case-raised-0001")
	require.NoError(t, err)
	assert.Equal(t, bot.Urgent, c.Priority)
}

func TestOneClaimWinsARace(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	for i := range 20 {
		id := bot.ConversationID(fmt.Sprintf("race-%02d", i))
		f.handoff(t, q, string(id), bot.High)
		officers := []string{"U-ALICE", "U-BOB"}
		winners := make([]string, 2)
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for k, o := range officers {
			wg.Go(func() { winners[k], errs[k] = q.Claim(ctx, id, o) })
		}
		wg.Wait()
		won := 0
		for k := range officers {
			if errs[k] == nil {
				won++
				continue
			}
			require.ErrorIs(t, errs[k], handoff.ErrClaimed)
			assert.Equal(t, officers[1-k], winners[k], "the loser is told who has it")
		}
		require.Equal(t, 1, won, "case %s: exactly one winner", id)
	}
}

func TestQueueOrderIsPriorityThenAge(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	for i, p := range []bot.Priority{bot.Standard, bot.High, bot.Standard, bot.Urgent, bot.High} {
		f.clock.Set(at(2026, 12, 1, 10, i))
		f.handoff(t, q, fmt.Sprintf("order-%d", i), p)
	}
	cases, err := q.List(context.Background())
	require.NoError(t, err)
	var got []string
	for _, c := range cases {
		got = append(got, string(c.ID))
	}
	assert.Equal(t, []string{"order-3", "order-1", "order-4", "order-0", "order-2"}, got)
}

func TestCloseShowContactAndReopen(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("case-close-0001")
	f.handoff(t, q, string(id), bot.Standard)

	_, err := q.ShowContact(ctx, id, "U-ALICE")
	assert.ErrorIs(t, err, handoff.ErrNotQueued, "nobody sees the number before claiming")
	_, err = q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	f.stepAt(t, q, at(2026, 12, 1, 10, 1))
	_, err = q.ShowContact(ctx, id, "U-BOB")
	assert.ErrorIs(t, err, handoff.ErrNotClaimer)
	c, err := q.ShowContact(ctx, id, "U-ALICE")
	require.NoError(t, err)
	assert.Equal(t, "+447700900123", c.Address)

	assert.ErrorIs(t, q.Close(ctx, id, "U-BOB", "Contacted"), handoff.ErrNotClaimer)
	require.NoError(t, q.Close(ctx, id, "U-ALICE", "Contacted, safety plan agreed"))
	f.stepAt(t, q, at(2026, 12, 1, 10, 2))
	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, handoff.StateClosed, c.State)
	assert.Equal(t, "Contacted, safety plan agreed", c.Outcome)
	open, err := q.List(ctx)
	require.NoError(t, err)
	assert.Empty(t, open)

	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "it happened again"}))
	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, handoff.StateQueued, c.State)
	assert.True(t, c.Reopened)
	assert.Empty(t, c.ClaimedBy)
	f.stepAt(t, q, at(2026, 12, 1, 10, 3))

	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventExited, Conversation: id}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 5))
	// In each pass, the card's updates go before the thread's lines.
	assert.Equal(t, []string{
		"card case-clo standard",
		"update case-clo claimed U-ALICE exited=false",
		"update case-clo closed U-ALICE exited=false",
		"thread case-clo <@U-ALICE> looked up the tenant's contact details.",
		"thread case-clo Closed by <@U-ALICE>: Contacted, safety plan agreed",
		"update case-clo queued  exited=false",
		"thread case-clo The tenant wrote again after the case was closed: it is open again, due by Wed 2 Dec 10:02.",
		"thread case-clo [tenant] Tenant: it happened again",
		"update case-clo queued  exited=true",
		"thread case-clo Tenant ended the chat — do not text unless they write again.",
	}, f.board.Posts())
}

func TestRateLimitedLaneWaitsAndEveryPostGoesOnce(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	failures := 0
	f.board.fail = func(what string) error {
		if what[:5] == "alert" {
			return nil
		}
		failures++
		switch {
		case failures <= 2:
			return retryAfter(30 * time.Second)
		case failures <= 5:
			return errors.New("slack server error: 500 Internal Server Error")
		}
		return nil
	}
	f.handoff(t, q, "case-rate-0001", bot.Urgent)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "case-rate-0001", Text: "hello"}))

	f.stepAt(t, q, at(2026, 12, 1, 10, 0))
	assert.Equal(t, []string{"alert case-rat oncall"}, f.board.Posts(), "the on-call lane is not held back by the area's")
	f.stepAt(t, q, at(2026, 12, 1, 10, 0).Add(29*time.Second))
	assert.Equal(t, 1, failures, "nothing is tried before Retry-After")
	for s := 30; s < 600; s += 5 {
		f.stepAt(t, q, at(2026, 12, 1, 10, 0).Add(time.Duration(s)*time.Second))
	}
	assert.Equal(t, []string{"alert case-rat oncall", "card case-rat urgent", "thread case-rat [tenant] Tenant: hello"}, f.board.Posts())
}

// Events the store logged are applied once each, in each conversation's
// order, however often the log returns them: here it returns its whole
// contents every time and fails to take any, as if taking were lost, and
// then another process reads it all again. Ids order events within
// their conversation only: the second conversation's are older than the
// first's and are applied all the same. An entry that cannot be read is
// passed over, not allowed to hold back the rest.
func TestLoggedEventsAreAppliedOnceEach(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	now := f.clock.Now()
	log := newEventLog()
	handoffOf := func(id bot.ConversationID) bot.Event {
		return bot.Event{Kind: bot.EventHandoff, Conversation: id, At: now, Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Area: "shropshire", Channel: bot.ChannelSMS, At: now, Deadline: f.hours.Deadline(now),
		}}
	}
	const first, second = bot.ConversationID("logged-0001"), bot.ConversationID("logged-0002")
	ms := now.UnixMilli()
	log.log(ms, handoffOf(first))
	log.damaged(ms+1, first)
	log.log(ms+2, bot.Event{Kind: bot.EventTenantMessage, Conversation: first, At: now, Text: "one"})
	log.log(ms+3, bot.Event{Kind: bot.EventTenantMessage, Conversation: first, At: now, Text: "two"})
	log.log(ms-60000, handoffOf(second))
	log.log(ms-59000, bot.Event{Kind: bot.EventTenantMessage, Conversation: second, At: now, Text: "three"})

	log.setReplay(true)
	const lease = 200 * time.Millisecond // real time: the lease is on Redis's clock
	q := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: log, Lease: lease})
	f.stepAt(t, q, now)
	f.stepAt(t, q, now.Add(time.Second))
	log.setReplay(false)
	time.Sleep(lease + 100*time.Millisecond) // the first process stops
	q2 := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: log})
	f.stepAt(t, q2, now.Add(time.Minute))
	// Cards go before thread lines; each conversation's lines in order.
	assert.Equal(t, []string{
		"card logged-0 standard", "card logged-0 standard",
		"thread logged-0 [tenant] Tenant: one", "thread logged-0 [tenant] Tenant: two", "thread logged-0 [tenant] Tenant: three",
	}, f.board.Posts())
	assert.Zero(t, log.left(), "every event taken in the end")
	pos, err := f.rdb.PTTL(context.Background(), f.key("pos:"+string(first))).Result()
	require.NoError(t, err)
	assert.InDelta(t, 30*24*time.Hour, pos, float64(time.Minute), "a conversation's position is kept 30 days")
}

// A job that cannot be read is dropped, not allowed to stop the rest.
func TestADamagedJobIsDroppedAndTheRestDone(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	require.NoError(t, f.rdb.HSet(ctx, f.key("job"), "0", "damaged").Err())
	require.NoError(t, f.rdb.ZAdd(ctx, f.key("jobs"), redis.Z{Score: 0, Member: "0"}).Err())
	f.handoff(t, q, "damaged-0001", bot.Standard)
	f.stepAt(t, q, at(2026, 12, 1, 10, 0))
	assert.Equal(t, []string{"card damaged- standard"}, f.board.Posts())
	n, err := f.rdb.ZCard(ctx, f.key("jobs")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "the damaged job is gone with the rest done")
}

// An event that cannot be applied stops the pass there: its
// conversation's later events wait for it, and none is taken.
func TestAnEventThatFailsHoldsBackItsConversationsLaterEvents(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	ctx := context.Background()
	now := f.clock.Now()
	log := newEventLog()
	const id = bot.ConversationID("failing-0001")
	log.add(0, bot.LoggedEvent{Conversation: id, Event: bot.Event{Kind: bot.EventExited, Conversation: id, At: now}})
	log.entries[0].ID = "not-a-stream-id" // the store's bug: the queue refuses it
	log.log(now.UnixMilli(), bot.Event{Kind: bot.EventTenantMessage, Conversation: id, At: now, Text: "later"})
	q := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{Prefix: f.prefix, Now: f.clock.Now, Events: log})
	held, err := q.WorkOnce(ctx)
	assert.True(t, held)
	require.ErrorContains(t, err, "bad event id")
	assert.Equal(t, 2, log.left(), "nothing taken")
	pos, err := f.rdb.Exists(ctx, f.key("pos:"+string(id))).Result()
	require.NoError(t, err)
	assert.Zero(t, pos, "the later event was not applied either")
}

func TestNoteGoesToTheCaseThreadOnly(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "note-0001", bot.Standard)
	require.NoError(t, q.Note(ctx, "note-0001", "A text from an officer did not reach the tenant."))
	require.NoError(t, q.Note(ctx, "no-such-case", "nobody reads this"))
	f.stepAt(t, q, at(2026, 12, 1, 10, 1))
	assert.Equal(t, []string{"card note-000 standard", "thread note-000 A text from an officer did not reach the tenant."}, f.board.Posts())
}

func TestACardThatCannotBePostedIsToldToTheManagers(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := handoff.New(f.rdb, f.sealer, f.hours, f.board, handoff.Options{
		Prefix: f.prefix, Now: f.clock.Now, BaseBackoff: time.Second, MaxAttempts: 3,
	})
	f.board.fail = func(what string) error {
		if strings.HasPrefix(what, "card") {
			return errors.New("not_in_channel")
		}
		return nil
	}
	f.handoff(t, q, "lost-card-0001", bot.Standard)
	for s := range 20 {
		f.stepAt(t, q, at(2026, 12, 1, 10, 0).Add(time.Duration(s)*time.Second))
	}
	assert.Equal(t, []string{"alert lost-car nocard"}, f.board.Posts(), "the managers are told once")

	// Once the app is invited to the channel, the card goes up after all.
	f.board.mu.Lock()
	f.board.fail = nil
	f.board.mu.Unlock()
	f.stepAt(t, q, at(2026, 12, 1, 10, 10))
	assert.Equal(t, []string{"alert lost-car nocard", "card lost-car standard"}, f.board.Posts())
}

func TestComingBackAfterAQuickExitClearsIt(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "back-0001", bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventExited, Conversation: "back-0001"}))
	c, err := q.Get(ctx, "back-0001")
	require.NoError(t, err)
	require.True(t, c.Exited)
	f.handoff(t, q, "back-0001", bot.Standard) // the intake again, after the exit
	c, err = q.Get(ctx, "back-0001")
	require.NoError(t, err)
	assert.False(t, c.Exited, "they wrote again")

	// Texts refused by Twilio after a STOP to the carrier mark the case;
	// the tenant's next message (after START) clears it.
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventOptedOut, Conversation: "back-0001"}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "back-0001", Text: "START"}))
	c, err = q.Get(ctx, "back-0001")
	require.NoError(t, err)
	assert.False(t, c.Exited)
}

func TestStats(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 10, 0))
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "stats-1", bot.Urgent)
	f.clock.Set(at(2026, 12, 1, 10, 5))
	f.handoff(t, q, "stats-2", bot.Standard)
	f.handoff(t, q, "stats-3", bot.Standard)
	_, err := q.Claim(ctx, "stats-3", "U-ALICE")
	require.NoError(t, err)
	st, err := q.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[bot.Priority]int{bot.Urgent: 1, bot.Standard: 1}, st.Open[handoff.StateQueued])
	assert.Equal(t, map[bot.Priority]int{bot.Standard: 1}, st.Open[handoff.StateClaimed])
	assert.True(t, st.OldestQueued.Equal(at(2026, 12, 1, 10, 0)), "oldest waiting: %s", st.OldestQueued)
	assert.Equal(t, int64(5), st.Jobs, "three cards, the urgent case's on-call alert and the claim's update")

	// A case that expired while open leaves the counts, and the queue.
	require.NoError(t, f.rdb.Del(ctx, f.key("c:stats-2")).Err())
	st, err = q.Stats(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[bot.Priority]int{bot.Urgent: 1}, st.Open[handoff.StateQueued])
	n, err := f.rdb.ZCard(ctx, f.key("open")).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n)
}

// The lease is renewed while a slow call runs, so no second process takes
// over in the middle; when its holder stops, another takes over within a
// lease and a tick.
func TestLeaseHeldThroughASlowCallAndTakenOverWhenItsHolderStops(t *testing.T) {
	f := newFixture(t, handedOff)
	const lease = 300 * time.Millisecond
	slow := make(chan struct{})
	f.board.fail = func(what string) error {
		if strings.HasPrefix(what, "card") {
			select {
			case <-slow:
			case <-time.After(3 * lease):
			}
		}
		return nil
	}
	q1, q2 := f.queue(lease), f.queue(lease)
	f.handoff(t, q1, "case-lease-0001", bot.Standard)

	done := make(chan error, 1)
	go func() { _, err := q1.WorkOnce(context.Background()); done <- err }()
	time.Sleep(lease / 2)
	for range 4 {
		held, err := q2.WorkOnce(context.Background())
		require.NoError(t, err)
		assert.False(t, held, "the holder is still at work and keeps its lease")
		time.Sleep(lease / 2)
	}
	close(slow)
	require.NoError(t, <-done)

	// q1 stops (crashed): q2 takes over once the lease lapses.
	start := time.Now()
	for {
		held, err := q2.WorkOnce(context.Background())
		require.NoError(t, err)
		if held {
			break
		}
		require.Less(t, time.Since(start), 5*lease, "taken over within a lease or so")
		time.Sleep(lease / 10)
	}
	assert.Equal(t, []string{"card case-lea standard"}, grep(f.board.Posts(), "card"), "posted once")
}
