package slackboard_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/policy"
	"github.com/safecontact/safecontact/handoff/slackboard"
	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
)

// newOfficeEnv is the Slack board with the landlord's duties, a manager
// who is not on the officers' list, and a repairs channel.
func newOfficeEnv(t *testing.T) *env {
	t.Helper()
	b, problems := flows.Load("", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	require.Empty(t, problems.Errors())
	return newEnvWith(t, func(o *handoff.Options) {
		o.Policy = policy.New(b)
		o.Managers = []string{"U-MANAGER"}
	}, func(c *slackboard.Config) { c.Repairs = "C-REPAIRS" })
}

func (e *env) get(id string) *handoff.Case {
	e.t.Helper()
	c, err := e.queue.Get(context.Background(), bot.ConversationID(id))
	require.NoError(e.t, err)
	return c
}

// pick chooses an option of a select on the card.
func (e *env) pick(user, cardTS, action, value string) {
	e.t.Helper()
	require.Equal(e.t, 200, e.post(e.slack.Interactions, slackfake.Select(user, "C-SHROP", cardTS, action, value), time.Now(), secret))
}

// pickUser chooses someone in a users select on the card.
func (e *env) pickUser(user, cardTS, action, picked string) {
	e.t.Helper()
	require.Equal(e.t, 200, e.post(e.slack.Interactions, slackfake.PickUser(user, "C-SHROP", cardTS, action, picked), time.Now(), secret))
}

// form waits for the next modal after the n already opened and submits
// it; it returns the response's body ("" when accepted).
func (e *env) form(user string, n int, typed, chosen map[string]map[string]string) string {
	e.t.Helper()
	v := e.openedView(n + 1)
	code, body := e.postBody(e.slack.Interactions, slackfake.Submit(user, v, typed, chosen), time.Now(), secret)
	require.Equal(e.t, 200, code)
	return body
}

// postsIn returns the texts posted at the top level of a channel.
func (e *env) postsIn(channel string) []string {
	var out []string
	for _, p := range e.api.Calls("chat.postMessage") {
		if p.Channel() == channel && p.ThreadTS() == "" {
			out = append(out, p.Text())
		}
	}
	return out
}

// lastCard is the card's latest blocks.
func (e *env) lastCard(ts string) string {
	updates := e.api.Calls("chat.update")
	for i := len(updates) - 1; i >= 0; i-- {
		if updates[i].Form.Get("ts") == ts {
			return updates[i].Blocks()
		}
	}
	return ""
}

// at sets the clock.
func (e *env) at(t time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = t
}

// uncontacted returns the managers' alerts of a case not contacted by its
// deadline.
func (e *env) uncontacted() []string {
	var out []string
	for _, p := range e.postsIn("C-MANAGERS") {
		if strings.Contains(p, "has not been contacted at its deadline") {
			out = append(out, p)
		}
	}
	return out
}

func TestClaimedCaseEscalatesUntilContact(t *testing.T) {
	e := newOfficeEnv(t)
	ts := e.cardFor("clock-0001", "shropshire", bot.Standard)
	other := e.cardFor("clock-0002", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "clock-0001", ts)
	e.claimed("U-BOB", "clock-0002", other)
	e.step()
	assert.Contains(t, e.lastCard(ts), "Not yet", "the card says contact has not happened")
	assert.Contains(t, e.lastCard(ts), "left (at 10:00)", "and how long is left")

	// Bob reached his tenant by phone: his case's clocks stop.
	n := len(e.api.Views())
	e.press("U-BOB", other, "contacted", "clock-0002")
	assert.Empty(t, e.form("U-BOB", n, nil, map[string]map[string]string{"how": {"value": "By phone"}}))
	e.eventually(func() bool { return e.get("clock-0002").Contacted() }, "contact recorded")
	e.step()
	assert.Contains(t, e.threadOf(other), "<@U-BOB> made contact with the tenant (by phone). The contact deadline is met.")
	assert.Contains(t, e.lastCard(other), "by phone")
	assert.NotContains(t, e.lastCard(other), `"action_id":"contacted"`, "no Contacted button once contact is made")

	deadline := e.get("clock-0001").Deadline
	e.at(deadline.Add(-time.Minute))
	e.step()
	assert.Contains(t, e.threadOf(ts), "<@U-ALICE>: case clock-00 (standard) has had no contact with the tenant yet and three quarters of its time has gone: contact due by "+
		deadline.Format("Mon 2 Jan 15:04")+". Press Contacted once you have reached them, or Unclaim if you cannot.",
		"past 75%, the claimer is reminded in the thread")
	assert.Empty(t, e.uncontacted(), "the managers are not told yet")

	e.at(deadline.Add(time.Minute))
	e.step()
	managers := e.uncontacted()
	require.Len(t, managers, 1, "past the deadline, the managers are told, about the uncontacted case only")
	assert.Contains(t, managers[0], "Case clock-00 (standard) is held by <@U-ALICE> and the tenant has not been contacted at its deadline")
	assert.NotContains(t, strings.Join(e.threadOf(other), "\n"), "three quarters", "Bob's contacted case is never chased")
}

func TestUnclaimAndReassign(t *testing.T) {
	e := newOfficeEnv(t)
	ts := e.cardFor("pass-0001", "shropshire", bot.High)
	e.claimed("U-ALICE", "pass-0001", ts)
	e.press("U-ALICE", ts, "unclaim", "pass-0001")
	e.eventually(func() bool { return e.get("pass-0001").State == handoff.StateQueued }, "unclaimed")

	e.claimed("U-BOB", "pass-0001", ts)
	e.pickUser("U-ALICE", ts, "reassign", "U-ALICE")
	e.pickUser("U-BOB", ts, "reassign", "U-EVE")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-BOB")) == 1 && len(ephemeralsTo(e.api, "U-ALICE")) == 1 }, "both told")
	assert.Equal(t, "Case pass-000: only the officer holding the case, or a manager, can do that.", ephemeralsTo(e.api, "U-ALICE")[0])
	assert.Equal(t, "<@U-EVE> is not on safecontact's list of officers, so cannot hold a case. Ask your manager to add them.", ephemeralsTo(e.api, "U-BOB")[0])
	assert.Equal(t, "U-BOB", e.get("pass-0001").ClaimedBy)

	e.pickUser("U-BOB", ts, "reassign", "U-ALICE")
	e.eventually(func() bool { return e.get("pass-0001").ClaimedBy == "U-ALICE" }, "reassigned")
	e.step()
	assert.Equal(t, []string{
		"<@U-ALICE> unclaimed the case, held by <@U-ALICE>: it is waiting to be claimed again.",
		"<@U-BOB> gave the case to <@U-ALICE>.",
	}, e.threadOf(ts), "each action is shown in the thread")
	c := e.get("pass-0001")
	var did []string
	for _, a := range c.Actions {
		did = append(did, a.Officer+" "+a.What)
	}
	assert.Contains(t, strings.Join(did, "\n"), "U-ALICE unclaimed")
	assert.Contains(t, e.lastCard(ts), "claimed by \\u003c@U-ALICE\\u003e")
}

func TestManagerClosesAnothersCase(t *testing.T) {
	e := newOfficeEnv(t)
	ts := e.cardFor("mgr-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "mgr-0001", ts)

	n := len(e.api.Views())
	e.press("U-BOB", ts, "close", "mgr-0001")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-BOB")) == 1 }, "Bob is refused")
	assert.Len(t, e.api.Views(), n, "no form for an officer who does not hold the case")

	e.press("U-MANAGER", ts, "close", "mgr-0001")
	assert.Empty(t, e.form("U-MANAGER", n, nil, map[string]map[string]string{
		"outcome": {"value": "Could not contact safely"}, "discussed": {"value": "No, not discussed"}}))
	e.eventually(func() bool { return e.get("mgr-0001").State == handoff.StateClosed }, "closed")
	c := e.get("mgr-0001")
	assert.Equal(t, "U-MANAGER", c.ClosedBy)
	assert.Equal(t, "no", c.Discussed)
	e.step()
	assert.Contains(t, e.threadOf(ts), "Closed by <@U-MANAGER>: Could not contact safely. The closure was not discussed with the tenant.")
}

func TestDutiesOnTheCard(t *testing.T) {
	e := newOfficeEnv(t)
	ts := e.cardFor("duty-0001", "shropshire", bot.High, bot.SummaryLine{Step: "security", Label: "Security at home", Value: "the back door lock is broken"})
	c := e.get("duty-0001")
	opened := e.clock()

	// Children at home: the safeguarding referral is due the same day.
	children := c.Duty("children_referral")
	require.NotNil(t, children)
	assert.True(t, e.hours.EndOfDay(opened).Equal(children.Due), "due %s", children.Due)
	assert.Equal(t, opened.YearDay(), children.Due.YearDay(), "same day")
	card := e.api.Calls("chat.postMessage")[0].Blocks()
	for _, want := range []string{"Children's safeguarding referral", "DASH risk assessment", "Security repairs request", "A perpetrator may pose as the victim", "seed 001 §3.0 6"} {
		assert.Contains(t, card, want)
	}

	// The DASH: 15 ticks calls for a MARAC referral, with its deadline.
	e.claimed("U-ALICE", "duty-0001", ts)
	n := len(e.api.Views())
	e.pick("U-ALICE", ts, "duty", "duty-0001|dash")
	assert.Contains(t, e.form("U-ALICE", n, map[string]map[string]string{"score": {"value": "31"}},
		map[string]map[string]string{"judgement": {"value": "No"}}), "0 to 27", "a score out of range is refused in the form")
	v := e.api.Views()[n]
	code, body := e.postBody(e.slack.Interactions, slackfake.Submit("U-ALICE", v, map[string]map[string]string{"score": {"value": "15"}},
		map[string]map[string]string{"judgement": {"value": "No"}}), time.Now(), secret)
	require.Equal(t, 200, code)
	assert.Empty(t, body)
	e.eventually(func() bool { return e.get("duty-0001").Duty("marac") != nil }, "MARAC added")
	c = e.get("duty-0001")
	assert.Equal(t, "U-ALICE", c.Duty("dash").DoneBy)
	assert.Equal(t, "score 15", c.Duty("dash").Value)
	assert.True(t, e.hours.Deadline(e.clock()).Equal(c.Duty("marac").Due), "one working day for the referral: %s", c.Duty("marac").Due)
	e.step()
	assert.Contains(t, e.threadOf(ts), "<@U-ALICE> did: DASH risk assessment (score 15). Now due: MARAC referral.")
	assert.Contains(t, e.lastCard(ts), "MARAC referral")

	// The repair is not requested in 24 hours: Alice is reminded, then
	// the managers are told.
	repairs := c.Duty("security_repairs")
	require.NotNil(t, repairs)
	assert.True(t, opened.Add(24*time.Hour).Equal(repairs.Due), "24 hours on the clock: %s", repairs.Due)
	e.at(repairs.Warn.Add(time.Minute))
	e.step()
	assert.Contains(t, strings.Join(e.threadOf(ts), "\n"), "<@U-ALICE>: case duty-000 — Security repairs request is due by")
	e.at(repairs.Due.Add(time.Minute))
	e.step()
	var overdue []string
	for _, p := range e.postsIn("C-MANAGERS") {
		if strings.Contains(p, "Security repairs request was due by") {
			overdue = append(overdue, p)
		}
	}
	assert.Len(t, overdue, 1, "the overdue repair is escalated to the managers once")

	// Alice sends the request: it goes to the repairs channel with the
	// area and her name, nothing about the tenant.
	n = len(e.api.Views())
	e.pick("U-ALICE", ts, "duty", "duty-0001|security_repairs")
	assert.Empty(t, e.form("U-ALICE", n, map[string]map[string]string{"repairs": {"value": "Change the back door lock"}}, nil))
	e.eventually(func() bool { return e.get("duty-0001").Duty("security_repairs").Done() }, "repairs done")
	e.step()
	posted := e.postsIn("C-REPAIRS")
	require.Len(t, posted, 1)
	assert.Contains(t, posted[0], "Change the back door lock")
	assert.Contains(t, posted[0], "Telford &amp; Wrekin")
	assert.Contains(t, posted[0], "<@U-ALICE>")
	for _, secret := range []string{"07700", "+4477", "sister", "PC Smith", "back door lock is broken"} {
		assert.NotContains(t, posted[0], secret, "no personal details beyond what repairs needs")
	}
	assert.Contains(t, e.lastCard(ts), "done by \\u003c@U-ALICE\\u003e")
}

func TestDeleteRedactsSlack(t *testing.T) {
	e := newOfficeEnv(t)
	ts := e.cardFor("erase-0001", "shropshire", bot.Standard)
	ctx := context.Background()
	require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "erase-0001", Text: "he took my phone, use my sister's"}))
	e.step()
	var tenantLine string
	for _, p := range e.api.Calls("chat.postMessage") {
		if p.ThreadTS() == ts && strings.Contains(p.Text(), "sister") {
			tenantLine = p.TS
		}
	}
	require.NotEmpty(t, tenantLine, "the tenant's words are in the thread")

	require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: "erase-0001"}))
	e.step()
	var redacted bool
	for _, u := range e.api.Calls("chat.update") {
		if u.Form.Get("ts") == tenantLine {
			redacted = true
			assert.Equal(t, handoff.Removed, u.Text())
		}
	}
	assert.True(t, redacted, "the thread line of their words is replaced")
	card := e.lastCard(ts)
	assert.Contains(t, card, "asked for their words to be erased")
	for _, secret := range []string{"PC Smith", "Telford", "07700"} {
		assert.NotContains(t, card, secret, "the card's answers are redacted")
	}
	assert.Contains(t, card, handoff.Removed)
	c := e.get("erase-0001")
	assert.Empty(t, c.Address)
	for _, l := range c.Summary {
		assert.Equal(t, handoff.Removed, l.Value)
	}
}

func TestMonthlySummaryChannel(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.slack.PostReport(context.Background(), "*safecontact: cases in November 2026*"))
	assert.Equal(t, []string{"*safecontact: cases in November 2026*"}, e.postsIn("C-MANAGERS"), "the managers' channel by default")

	r := newEnv(t, func(c *slackboard.Config) { c.Report = "C-REPORTS" })
	require.NoError(t, r.slack.PostReport(context.Background(), "figures"))
	assert.Equal(t, []string{"figures"}, r.postsIn("C-REPORTS"))
	assert.Empty(t, r.postsIn("C-MANAGERS"))
}

// Closing a case after discussing it with the tenant is the policy's
// closure duty done (seed 003); closing without is not.
func TestClosureDiscussedIsTheClosureDuty(t *testing.T) {
	e := newOfficeEnv(t)
	for _, tc := range []struct {
		id, discussed string
		done          bool
	}{{"closure-0001", "Yes, discussed with the tenant", true}, {"closure-0002", "No, not discussed", false}} {
		ts := e.cardFor(tc.id, "shropshire", bot.Standard)
		e.claimed("U-ALICE", tc.id, ts)
		n := len(e.api.Views())
		e.press("U-ALICE", ts, "close", tc.id)
		assert.Empty(t, e.form("U-ALICE", n, nil, map[string]map[string]string{
			"outcome": {"value": "Contacted: safety plan agreed"}, "discussed": {"value": tc.discussed}}))
		e.eventually(func() bool { return e.get(tc.id).State == handoff.StateClosed }, "closed")
		d := e.get(tc.id).Duty("closure")
		require.NotNil(t, d)
		assert.Equal(t, tc.done, d.Done(), tc.discussed)
		if tc.done {
			assert.Equal(t, "U-ALICE", d.DoneBy)
		}
	}
}

// A reply is handed on before Slack is answered: once the form closes,
// a crash of this process cannot lose it.
func TestReplyIsRelayedBeforeTheFormCloses(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("before-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "before-0001", ts)
	n := len(e.api.Views())
	e.press("U-ALICE", ts, "reply", "before-0001")
	body := e.form("U-ALICE", n, map[string]map[string]string{"reply": {"text": "Hello, it's Sam."}}, nil)
	assert.Empty(t, body, "accepted")
	assert.Equal(t, []string{"before-0 Hello, it's Sam."}, e.relay.Sent(), "relayed by the time the form closed")
}

// Slack posted it but its answer was lost: the next attempt finds the
// post by the job key in its metadata and does not post it again — a
// card, a thread line and an alert.
func TestAPostWhoseAnswerWasLostIsNotPostedAgain(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	lost := 0
	e.api.LoseAnswers(func(method string) bool {
		if method != "chat.postMessage" {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		lost++
		return lost <= 4 // the card, the on-call alert, and the first two tries of the thread line
	})
	e.handoff("lost-0001", "shropshire", bot.Urgent)
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventTenantMessage, Conversation: "lost-0001", Text: "are you there"}))
	for range 120 {
		e.step()
		e.advance(time.Second)
	}
	var cards, alerts, lines int
	for _, c := range e.api.Calls("chat.postMessage") {
		switch {
		case c.Channel() == "C-SHROP" && c.ThreadTS() == "":
			cards++
		case c.Channel() == "C-ONCALL":
			alerts++
		case strings.Contains(c.Text(), "are you there"):
			lines++
		}
		assert.Contains(t, c.Form.Get("metadata"), `"event_type":"safecontact_post"`, "every post carries its job key")
	}
	assert.Equal(t, 1, cards, "one card")
	assert.Equal(t, 1, alerts, "one on-call alert")
	assert.Equal(t, 1, lines, "one thread line")
	c := e.get("lost-0001")
	require.NotEmpty(t, c.Card.TS, "the card found is recorded as the case's")
	assert.NotEmpty(t, e.api.Calls("conversations.history"), "looked up in the channel")
	assert.NotEmpty(t, e.api.Calls("conversations.replies"), "looked up in the thread")
}

// A thread line of the tenant's words was posted but its answer lost, and
// the tenant asked for their words to be erased before it was tried
// again: the post is found by its job's key and redacted, not left in
// Slack. A line posted as they asked is redacted once. A line tried and
// refused, so never posted, is looked for and nothing is redacted in its
// place.
func TestDeleteRedactsAPostWhoseAnswerWasLost(t *testing.T) {
	const (
		lost = iota
		during
		refused
	)
	for _, tc := range []struct {
		name string
		how  int
	}{{"posted, answer lost", lost}, {"posted as they asked", during}, {"refused", refused}} {
		t.Run(tc.name, func(t *testing.T) {
			e := newOfficeEnv(t)
			ts := e.cardFor("erase-0002", "shropshire", bot.Standard)
			ctx := context.Background()
			erase := func() {
				require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: "erase-0002"}))
			}
			var mu sync.Mutex
			tried := 0
			first := func(method string) bool {
				mu.Lock()
				defer mu.Unlock()
				if method != "chat.postMessage" {
					return false
				}
				tried++
				return tried == 1
			}
			switch tc.how {
			case lost:
				e.api.LoseAnswers(first)
			case during:
				e.api.FailWith(func(method string) int {
					if first(method) {
						erase()
					}
					return 0
				})
			case refused:
				e.api.FailWith(func(method string) int {
					if first(method) {
						return http.StatusInternalServerError
					}
					return 0
				})
			}
			require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "erase-0002", Text: "use my sister's phone"}))
			e.step()
			require.Equal(t, 1, tried, "the line was tried once")
			var line string
			for _, p := range e.api.Calls("chat.postMessage") {
				if p.ThreadTS() == ts && strings.Contains(p.Text(), "sister") {
					line = p.TS
				}
			}
			posted := tc.how != refused
			if posted {
				require.NotEmpty(t, line, "Slack has the line")
			} else {
				require.Empty(t, line, "Slack refused the line")
			}

			if tc.how != during {
				erase()
			}
			for range 5 {
				e.step()
				e.advance(time.Minute)
			}
			var redacted []string
			for _, u := range e.api.Calls("chat.update") {
				if u.Text() == handoff.Removed {
					redacted = append(redacted, u.Form.Get("ts"))
				}
			}
			if posted {
				assert.Equal(t, []string{line}, redacted, "the line Slack has is redacted, once")
			} else {
				assert.Empty(t, redacted, "nothing to redact")
			}
			assert.NotEmpty(t, e.api.Calls("conversations.replies"), "looked for in the thread")
			words := 0
			for _, p := range e.api.Calls("chat.postMessage") {
				if strings.Contains(p.Text(), "sister") {
					words++
				}
			}
			assert.Equal(t, map[bool]int{true: 1, false: 0}[posted], words, "the line is not posted after the erasure")
			jobs, err := e.queue.Jobs(ctx)
			require.NoError(t, err)
			assert.Empty(t, jobs, "the redaction is done, not left waiting")
		})
	}
}
