package handoff_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/ledger"
)

// A standard case handed off Tue 1 Dec 10:00 is due one working day on,
// Wed 2 Dec 10:00; three quarters of it is Tue 16:00.
var (
	handedOff = at(2026, 12, 1, 10, 0)
	warnTime  = at(2026, 12, 1, 16, 0)
	dueTime   = at(2026, 12, 2, 10, 0)
)

func TestClaimedButUncontactedCaseRemindsTheClaimerThenTellsTheManagers(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "case-claimed-0001", bot.Standard)
	_, err := q.Claim(ctx, "case-claimed-0001", "U-ALICE")
	require.NoError(t, err)
	f.stepAt(t, q, warnTime.Add(-time.Minute))
	assert.Equal(t, []string{"card case-cla standard", "update case-cla claimed U-ALICE exited=false"}, f.board.Posts())

	f.stepAt(t, q, warnTime)
	assert.Equal(t, "alert case-cla remind to U-ALICE", last(grep(f.board.Posts(), "alert")), "the claimer is reminded at 75%")
	f.stepAt(t, q, dueTime)
	assert.Equal(t, "alert case-cla due", last(grep(f.board.Posts(), "alert")), "the managers are told at the deadline")
	assert.Equal(t, "update case-cla claimed U-ALICE exited=false", last(f.board.Posts()), "and the card is redrawn, overdue")
	c, err := q.Get(ctx, "case-claimed-0001")
	require.NoError(t, err)
	assert.Contains(t, handoff.AlertDue.Describe(c, london, nil), "is held by {officer} and the tenant has not been contacted")
}

func TestContactedStopsTheClocks(t *testing.T) {
	for _, how := range []string{"button", "delivered"} {
		t.Run(how, func(t *testing.T) {
			f := newFixture(t, handedOff)
			q := f.queue()
			ctx := context.Background()
			id := bot.ConversationID("case-contact-" + how)
			f.handoff(t, q, string(id), bot.Standard)
			_, err := q.Claim(ctx, id, "U-ALICE")
			require.NoError(t, err)
			f.clock.Set(at(2026, 12, 1, 11, 30))
			if how == "button" {
				assert.ErrorIs(t, q.Contacted(ctx, id, "U-BOB", "by phone"), handoff.ErrNotClaimer)
				require.NoError(t, q.Contacted(ctx, id, "U-ALICE", "by phone"))
			} else {
				require.NoError(t, q.Delivered(ctx, id, "text delivered"))
			}
			// A second contact is not the first.
			require.NoError(t, q.Delivered(ctx, id, "text delivered"))
			for _, when := range []time.Time{warnTime, dueTime, dueTime.Add(48 * time.Hour)} {
				f.stepAt(t, q, when)
			}
			for _, p := range f.board.Posts() {
				assert.NotContains(t, p, "alert", "no escalation once the tenant was contacted")
			}
			c, err := q.Get(ctx, id)
			require.NoError(t, err)
			assert.True(t, c.Contacted())
			assert.Equal(t, at(2026, 12, 1, 11, 30), c.ContactedAt.In(london))
			assert.Len(t, grep(f.board.Posts(), "contact with the tenant", "First message delivered"), 1, "the contact is in the thread once")
		})
	}
}

func TestUnclaimAndReassign(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(handoffManagers("U-MANAGER"))
	ctx := context.Background()
	id := bot.ConversationID("case-pass-0001")
	f.handoff(t, q, string(id), bot.Standard)

	assert.ErrorIs(t, q.Unclaim(ctx, id, "U-ALICE"), handoff.ErrNotClaimed, "nobody holds it")
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	assert.ErrorIs(t, q.Unclaim(ctx, id, "U-BOB"), handoff.ErrNotClaimer, "only the holder or a manager")
	assert.ErrorIs(t, q.Reassign(ctx, id, "U-BOB", "U-BOB"), handoff.ErrNotClaimer)
	require.NoError(t, q.Reassign(ctx, id, "U-ALICE", "U-BOB"))
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "U-BOB", c.ClaimedBy)

	require.NoError(t, q.Unclaim(ctx, id, "U-MANAGER"), "a manager unclaims someone else's case")
	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, handoff.StateQueued, c.State)
	require.NoError(t, q.Reassign(ctx, id, "U-MANAGER", "U-CAROL"), "a manager assigns a waiting case")
	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "U-CAROL", c.ClaimedBy)

	var did []string
	for _, a := range c.Actions {
		did = append(did, a.Officer+" "+a.What)
	}
	assert.Equal(t, []string{
		"U-ALICE claimed", "U-ALICE gave the case to U-BOB", "U-MANAGER unclaimed (held by U-BOB)", "U-MANAGER gave the case to U-CAROL",
	}, did)

	f.stepAt(t, q, at(2026, 12, 1, 10, 5))
	assert.Equal(t, []string{
		"thread case-pas <@U-ALICE> gave the case to <@U-BOB>.",
		"thread case-pas <@U-MANAGER> unclaimed the case, held by <@U-BOB>: it is waiting to be claimed again.",
		"thread case-pas <@U-MANAGER> gave the case to <@U-CAROL>.",
	}, grep(f.board.Posts(), "thread"), "each action is shown in the thread")

	// The clocks ran through all of it: the new holder is reminded.
	f.stepAt(t, q, warnTime)
	assert.Equal(t, "alert case-pas remind to U-CAROL", last(grep(f.board.Posts(), "alert")))
}

func TestAManagerClosesAnotherOfficersCase(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(handoffManagers("U-MANAGER"))
	ctx := context.Background()
	id := bot.ConversationID("case-mgr-0001")
	f.handoff(t, q, string(id), bot.Standard)
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	assert.ErrorIs(t, q.Close(ctx, id, "U-BOB", "Tenant declined support"), handoff.ErrNotClaimer)
	require.NoError(t, q.CloseWith(ctx, id, "U-MANAGER", handoff.Closure{Outcome: "Tenant declined support", Discussed: "yes"}))
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, handoff.StateClosed, c.State)
	assert.Equal(t, "U-MANAGER", c.ClosedBy)
	assert.Equal(t, "yes", c.Discussed)
	f.stepAt(t, q, at(2026, 12, 1, 10, 5))
	assert.Contains(t, f.board.Posts(), "thread case-mgr Closed by <@U-MANAGER>: Tenant declined support. The closure was discussed with the tenant.")
}

// policy is a small duties policy for tests: the flows' own is tested
// with the flows.
type policy struct{ hours handoff.Hours }

func (p policy) rule(id string, working time.Duration) handoff.DutyRule {
	return handoff.DutyRule{ID: id, Title: "Do " + id, Source: "seed 001", Times: func(from time.Time) (time.Time, time.Time) {
		return p.hours.Add(from, working*3/4), p.hours.Add(from, working)
	}}
}

func (p policy) DutiesFor(summary []bot.SummaryLine) []handoff.DutyRule {
	out := []handoff.DutyRule{p.rule("dash", 8*time.Hour), {ID: "caution", Title: "Perpetrators may pose as victims", Source: "seed 001 §5.0", Reminder: true}}
	out[0].Records = "score"
	for _, l := range summary {
		if l.Step == "children" && l.Value == "Yes" {
			out = append(out, p.rule("children_referral", 4*time.Hour))
		}
		if l.Step == "security" && l.Value != "Nothing" {
			r := p.rule("repairs", 8*time.Hour)
			r.Repairs = true
			out = append(out, r)
		}
	}
	return out
}

func (p policy) FollowUps(after string, score int, judgement bool) []handoff.DutyRule {
	if after == "dash" && (score >= 14 || judgement) {
		return []handoff.DutyRule{p.rule("marac", 8*time.Hour)}
	}
	return nil
}

func (p policy) Offered() []handoff.DutyRule {
	return []handoff.DutyRule{p.rule("adult_referral", 8*time.Hour)}
}

func TestDutiesFromTheAnswersWithTheirDeadlines(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(func(o *handoff.Options) { o.Policy = policy{f.hours}; o.Managers = []string{"U-MANAGER"} })
	ctx := context.Background()
	id := bot.ConversationID("case-duty-0001")
	f.handoff(t, q, string(id), bot.Standard, bot.SummaryLine{Step: "security", Label: "Security at home", Value: "the back door lock is broken"})
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	var ids []string
	for _, d := range c.Duties {
		ids = append(ids, d.ID)
	}
	assert.Equal(t, []string{"children_referral", "dash", "repairs", "caution"}, ids, "by due time, reminders last")
	assert.Equal(t, at(2026, 12, 1, 14, 0), c.Duty("children_referral").Due.In(london), "children: same day")

	_, err = q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	assert.ErrorIs(t, q.DoDuty(ctx, id, "U-BOB", "dash", handoff.DutyRecord{Score: 15}), handoff.ErrNotClaimer)
	assert.ErrorIs(t, q.DoDuty(ctx, id, "U-ALICE", "nope", handoff.DutyRecord{}), handoff.ErrNoDuty)

	// DASH 15: the MARAC referral is due, a working day from now.
	f.clock.Set(at(2026, 12, 1, 11, 0))
	require.NoError(t, q.DoDuty(ctx, id, "U-ALICE", "dash", handoff.DutyRecord{Score: 15}))
	assert.ErrorIs(t, q.DoDuty(ctx, id, "U-ALICE", "dash", handoff.DutyRecord{Score: 15}), handoff.ErrDutyDone)
	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	require.NotNil(t, c.Duty("marac"), "14+ prompts a MARAC referral")
	assert.Equal(t, at(2026, 12, 2, 11, 0), c.Duty("marac").Due.In(london))
	assert.Equal(t, "score 15", c.Duty("dash").Value)
	assert.Equal(t, "U-ALICE", c.Duty("dash").DoneBy)

	// The repairs request goes to the repairs team, and the duty is done.
	require.NoError(t, q.DoDuty(ctx, id, "U-ALICE", "repairs", handoff.DutyRecord{Repairs: "Back door lock to replace; ask U-ALICE for access"}))
	// A manager adds the adult safeguarding referral.
	require.NoError(t, q.AddDuty(ctx, id, "U-MANAGER", "adult_referral"))
	assert.ErrorIs(t, q.AddDuty(ctx, id, "U-MANAGER", "adult_referral"), handoff.ErrDutyDone)

	// The children's referral is not done: the claimer is reminded at
	// 75% of its time (13:00), the managers told when it is due (14:00).
	f.stepAt(t, q, at(2026, 12, 1, 13, 0))
	f.stepAt(t, q, at(2026, 12, 1, 14, 0))
	posts := f.board.Posts()
	assert.Contains(t, posts, "repairs case-dut Back door lock to replace; ask U-ALICE for access")
	assert.Contains(t, posts, "thread case-dut <@U-ALICE> did: Do dash (score 15). Now due: Do marac.")
	assert.Contains(t, posts, "thread case-dut <@U-MANAGER> added a duty: Do adult_referral.")
	assert.Equal(t, []string{"alert case-dut dwarn children_referral to U-ALICE", "alert case-dut ddue children_referral"}, grep(posts, "alert"))

	c, err = q.Get(ctx, id)
	require.NoError(t, err)
	d := c.Duty("children_referral")
	assert.Contains(t, handoff.AlertDutyDue.Describe(c, london, d), "Do children_referral was due by Tue 1 Dec 14:00 and is not done (seed 001)")
	assert.True(t, d.Late(at(2026, 12, 1, 14, 1)))
}

func TestTheLedgerKeepsNoPersonalData(t *testing.T) {
	f := newFixture(t, at(2026, 12, 1, 19, 42)) // out of hours
	q := f.queueWith(func(o *handoff.Options) { o.Policy = policy{f.hours} })
	ctx := context.Background()
	id := bot.ConversationID("case-ledger-0001")
	f.handoff(t, q, string(id), bot.High)
	f.clock.Set(at(2026, 12, 2, 9, 30))
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	f.clock.Set(at(2026, 12, 2, 10, 15))
	require.NoError(t, q.Contacted(ctx, id, "U-ALICE", "by phone"))
	require.NoError(t, q.DoDuty(ctx, id, "U-ALICE", "dash", handoff.DutyRecord{Score: 3}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventExited, Conversation: id}))
	require.NoError(t, q.CloseWith(ctx, id, "U-ALICE", handoff.Closure{Outcome: "Contacted: safety plan agreed", Discussed: "yes"}))

	keys := ledger.KeysFor(f.prefix)
	lids, err := f.rdb.ZRange(ctx, keys.Index, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, lids, 1)
	assert.NotContains(t, lids[0], "ledger-0001", "the ledger id is not the conversation's")
	raw, err := f.rdb.HGet(ctx, keys.Entries, lids[0]).Result()
	require.NoError(t, err)
	var e map[string]string
	require.NoError(t, json.Unmarshal([]byte(raw), &e))
	assert.Equal(t, map[string]string{
		"hr": msString(at(2026, 12, 1, 19, 0)), "ar": "shropshire", "ch": "sms", "lg": "en", "pr": "1", "why": "answers",
		"rs": "complete", "ooh": "1", "dlm": "1278", // to Wed 2 Dec 17:00
		"tcl": "828", "tco": "873", "dut": "dash children_referral", "dok": "dash", "left": "1",
		"out": "Contacted: safety plan agreed", "disc": "yes",
	}, e)
	expires, err := f.rdb.ZScore(ctx, keys.Expiry, lids[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, time.UnixMilli(int64(expires)).Sub(f.rdb.Time(ctx).Val()), 700*24*time.Hour, "kept for two years by default")
	got, err := ledger.Read(ctx, f.rdb, f.prefix, at(2026, 12, 1, 0, 0), at(2026, 12, 2, 0, 0))
	require.NoError(t, err)
	require.Len(t, got, 1, "the report reads what the queue wrote")
	assert.Equal(t, "Contacted: safety plan agreed", got[0].Outcome)
}

// A ledger entry is removed once its time to live has run out, as a key
// with a TTL would be.
func TestExpiredLedgerEntriesAreRemoved(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	from := at(2026, 11, 1, 0, 0)
	require.NoError(t, ledger.Write(ctx, f.rdb, f.prefix, ledger.Fixture(1, from, handedOff, 3), time.Millisecond))
	require.NoError(t, ledger.Write(ctx, f.rdb, f.prefix, ledger.Fixture(2, from, handedOff, 2), time.Hour))
	time.Sleep(5 * time.Millisecond) // Redis's clock
	f.stepAt(t, q, handedOff)
	keys := ledger.KeysFor(f.prefix)
	for _, k := range []string{keys.Index, keys.Expiry} {
		n, err := f.rdb.ZCard(ctx, k).Result()
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, k)
	}
	n, err := f.rdb.HLen(ctx, keys.Entries).Result()
	require.NoError(t, err)
	assert.Equal(t, int64(2), n, "only the entries still in their time are kept")
}

func TestEraseRemovesTheTenantsWords(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("case-erase-0001")
	f.handoff(t, q, string(id), bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "my sister's number is 07700 900456"}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 1))
	// A line not yet posted when the tenant asks is never posted.
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "he is asleep now"}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: id}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 2))

	posts := f.board.Posts()
	assert.Contains(t, posts, "redact case-era 1 lines", "the posted line of their words is redacted (the card is redrawn)")
	for _, p := range posts {
		assert.NotContains(t, p, "asleep")
	}
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	assert.True(t, c.Erased)
	assert.Empty(t, c.Address)
	for _, l := range c.Summary {
		assert.Equal(t, handoff.Removed, l.Value)
	}
	// Nothing sealed with the tenant's words is left in Redis for the case:
	// not in a case, nor in a job (JSON, its text sealed in base64).
	opened := 0
	for _, k := range storetest.Keys(t, f.rdb, f.prefix+"*") {
		assert.True(t, strings.HasPrefix(k, f.key("")), "%s carries the queue's hash tag", k)
		if typ, _ := f.rdb.Type(ctx, k).Result(); typ == "hash" {
			m, err := f.rdb.HGetAll(ctx, k).Result()
			require.NoError(t, err)
			for field, v := range m {
				var sealed []string
				var job map[string]string
				if strings.HasPrefix(field, "sec") {
					sealed = append(sealed, v)
				} else if json.Unmarshal([]byte(v), &job) == nil && job["t"] != "" {
					b, err := base64.StdEncoding.DecodeString(job["t"])
					require.NoError(t, err, "key %s field %s", k, field)
					sealed = append(sealed, string(b))
				}
				for _, s := range sealed {
					plain, err := f.sealer.Open([]byte(s), []byte(id))
					if err == nil {
						opened++
						assert.NotContains(t, string(plain), "07700", "key %s field %s", k, field)
						assert.NotContains(t, string(plain), "+4477", "key %s field %s", k, field)
					}
				}
			}
		}
	}
	assert.Positive(t, opened, "the case and its jobs were found and read")
}

// exporter records each record it is given, and fails on demand.
type exporter struct {
	mu   sync.Mutex
	got  []string
	down bool
}

func (e *exporter) Export(_ context.Context, c *handoff.Case, event string, version int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return errors.New("receiver down")
	}
	e.got = append(e.got, string(c.ID)+" "+event+" "+string(rune('0'+version)))
	return nil
}

func TestEachCaseIsExportedOncePerEventAndSurvivesTheReceiverBeingDown(t *testing.T) {
	f := newFixture(t, handedOff)
	x := &exporter{down: true}
	q := f.queueWith(func(o *handoff.Options) { o.Exporter = x; o.MaxBackoff = 2 * time.Second })
	ctx := context.Background()
	id := bot.ConversationID("case-export-0001")
	f.handoff(t, q, string(id), bot.Standard)
	for i := range 30 { // down for a minute
		f.stepAt(t, q, handedOff.Add(time.Duration(2*i)*time.Second))
	}
	x.mu.Lock()
	x.down = false
	x.mu.Unlock()
	f.stepAt(t, q, handedOff.Add(2*time.Minute))
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	require.NoError(t, q.Close(ctx, id, "U-ALICE", "Tenant declined support"))
	f.stepAt(t, q, handedOff.Add(3*time.Minute))
	f.stepAt(t, q, handedOff.Add(4*time.Minute))
	assert.Equal(t, []string{"case-export-0001 handoff 1", "case-export-0001 closed 2"}, x.got)
	assert.Contains(t, f.board.Posts(), "card case-exp standard", "the card went up while the export waited")
}

func handoffManagers(ids ...string) func(*handoff.Options) {
	return func(o *handoff.Options) { o.Managers = ids }
}

func last(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[len(s)-1]
}

// grep returns the posts holding any of the words.
func grep(posts []string, words ...string) []string {
	var out []string
	for _, p := range posts {
		for _, w := range words {
			if strings.Contains(p, w) {
				out = append(out, p)
				break
			}
		}
	}
	return out
}

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// DELETE reaches every Slack message that held the tenant's words: the
// card of a case closed and opened again, and those of a case that has
// expired from Redis. Nobody is chased to contact them afterwards.
func TestEraseReachesOldCardsAndExpiredCases(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("case-again-0001")
	f.handoff(t, q, string(id), bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "he is out until six"}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 1))
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	require.NoError(t, q.Close(ctx, id, "U-ALICE", "Tenant declined support"))
	f.stepAt(t, q, at(2026, 12, 1, 10, 2))
	f.clock.Set(at(2026, 12, 1, 11, 0))
	f.handoff(t, q, string(id), bot.Standard) // the tenant goes through the intake again
	f.stepAt(t, q, at(2026, 12, 1, 11, 1))
	require.Len(t, grep(f.board.Posts(), "card case-aga"), 2, "a second card for the case opened again")

	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: id}))
	f.stepAt(t, q, at(2026, 12, 1, 11, 2))
	assert.Contains(t, f.board.Posts(), "redact case-aga 2 lines", "the first card and the line of their words (the current card is redrawn)")
	f.stepAt(t, q, dueTime.Add(time.Hour))
	assert.Empty(t, grep(f.board.Posts(), "alert case-aga"), "no reminder to contact a tenant who asked to be erased")

	// A case gone from Redis (its time ran out): its Slack messages are
	// still redacted.
	gone := bot.ConversationID("case-gone-0001")
	f.handoff(t, q, string(gone), bot.Standard)
	f.stepAt(t, q, dueTime.Add(time.Hour+time.Minute))
	require.NoError(t, f.rdb.Del(ctx, f.key("c:"+string(gone)), f.key("d:"+string(gone))).Err())
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: gone}))
	f.stepAt(t, q, dueTime.Add(time.Hour+2*time.Minute))
	assert.Contains(t, f.board.Posts(), "redact case-gon 1 lines", "the expired case's card")
}

// A closed case that opens again has its duties' clocks running again.
func TestReopenedCaseDutiesRunAgain(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queueWith(func(o *handoff.Options) { o.Policy = policy{f.hours} })
	ctx := context.Background()
	id := bot.ConversationID("case-duty-again-1")
	f.handoff(t, q, string(id), bot.Standard)
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	require.NoError(t, q.Close(ctx, id, "U-ALICE", "Could not contact safely"))
	f.stepAt(t, q, at(2026, 12, 1, 10, 5))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "hello again", Priority: bot.Standard}))
	f.stepAt(t, q, dueTime.Add(time.Minute))
	assert.NotEmpty(t, grep(f.board.Posts(), "alert case-dut ddue"), "the DASH, still not done, is overdue again: %q", f.board.Posts())
}

// A tenant who asked for erasure and comes back has their clocks again:
// the erasure stopped them, the new handoff restarts them.
func TestClocksRunAgainWhenAnErasedTenantComesBack(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("case-back-0001")
	f.handoff(t, q, string(id), bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: id}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 5))
	f.clock.Set(at(2026, 12, 1, 11, 0))
	f.handoff(t, q, string(id), bot.Urgent) // they come back, in danger
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	require.False(t, c.Erased)
	f.stepAt(t, q, c.Deadline.Add(time.Minute))
	assert.NotEmpty(t, grep(f.board.Posts(), "alert case-bac due"), "the managers are told at the new deadline: %q", f.board.Posts())
}

// A redaction that keeps failing does not hold back the tenant's next
// case; and DELETE of an expired case still reaches the housing system.
func TestFailingRedactionBlocksNothingAndExpiredCasesAreExported(t *testing.T) {
	f := newFixture(t, handedOff)
	ex := &exporter{}
	q := f.queueWith(func(o *handoff.Options) { o.Exporter = ex })
	ctx := context.Background()
	id := bot.ConversationID("case-block-0001")
	f.handoff(t, q, string(id), bot.Standard)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "he is out"}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 1))
	require.NoError(t, f.rdb.Del(ctx, f.key("c:"+string(id)), f.key("d:"+string(id))).Err()) // expired
	f.board.mu.Lock()
	f.board.fail = func(what string) error {
		if strings.HasPrefix(what, "redact") {
			return errors.New("slack is refusing")
		}
		return nil
	}
	f.board.mu.Unlock()
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: id}))
	f.stepAt(t, q, at(2026, 12, 1, 10, 2))

	f.clock.Set(at(2026, 12, 1, 10, 3))
	f.handoff(t, q, string(id), bot.Urgent) // the tenant comes back, in danger
	f.stepAt(t, q, at(2026, 12, 1, 10, 4))
	assert.NotEmpty(t, grep(f.board.Posts(), "card case-blo urgent"), "the new case's card goes up: %q", f.board.Posts())
	ex.mu.Lock()
	defer ex.mu.Unlock()
	assert.Contains(t, strings.Join(ex.got, "\n"), "case-block-0001 erased", "the housing system is told to erase its copy")
}
