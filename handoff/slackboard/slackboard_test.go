package slackboard_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"safecontact/bot"
	"safecontact/bot/seal"
	"safecontact/bot/storetest"
	"safecontact/flows"
	"safecontact/handoff"
	"safecontact/handoff/slackboard"
	"safecontact/handoff/slackboard/slackfake"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// relay records what reaches the tenant.
type relay struct {
	mu   sync.Mutex
	sent []string
}

func (r *relay) Send(_ context.Context, c *handoff.Case, key, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, c.Short()+" "+text)
	return nil
}

func (r *relay) Sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

type env struct {
	t      testing.TB
	api    *slackfake.Server
	queue  *handoff.Queue
	slack  *slackboard.Slack
	relay  *relay
	hours  *flows.Hours
	now    time.Time
	mu     sync.Mutex
	events int
}

func newEnv(t testing.TB, configure ...func(*slackboard.Config)) *env {
	t.Helper()
	hours, problems := flows.LoadHours(os.DirFS("../../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	sealer, err := seal.New([]byte("slack-test-key-0123456789abcdefg"))
	require.NoError(t, err)
	rdb := storetest.Redis(t)
	e := &env{t: t, api: slackfake.New(t), relay: &relay{}, hours: hours, now: time.Date(2026, 12, 1, 10, 0, 0, 0, hours.Location())}
	prefix := storetest.Prefix(t)
	e.queue = handoff.New(rdb, sealer, hours, nil, handoff.Options{Prefix: prefix + "case:", Now: e.clock})
	cfg := slackboard.Config{
		BotToken: "xoxb-test", SigningSecret: secret, APIURL: e.api.APIURL(),
		Channels: map[string]string{"shropshire": "C-SHROP", "*": "C-ALL"},
		OnCall:   "C-ONCALL", OnCallMention: "<!here>", Managers: "C-MANAGERS",
		Officers: []string{"U-ALICE", "U-BOB"},
		Queue:    e.queue, Relay: e.relay, Redis: rdb, Prefix: prefix + "slack:",
	}
	for _, f := range configure {
		f(&cfg)
	}
	e.slack, err = slackboard.New(context.Background(), cfg)
	require.NoError(t, err)
	t.Cleanup(e.slack.Close)
	e.queue.SetBoard(e.slack)
	return e
}

func (e *env) clock() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.now
}

func (e *env) advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.now = e.now.Add(d)
}

// step runs the queue's worker once.
func (e *env) step() {
	e.t.Helper()
	_, err := e.queue.Step(context.Background())
	require.NoError(e.t, err)
}

func (e *env) handoff(id, area string, p bot.Priority) {
	e.t.Helper()
	now := e.clock()
	require.NoError(e.t, e.queue.Deliver(context.Background(), bot.Event{
		Kind: bot.EventHandoff, Conversation: bot.ConversationID(id), Priority: p,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: p, Area: area, Lang: "en", Channel: bot.ChannelSMS,
			Address: "+447700900123", At: now, Deadline: e.hours.Deadline(now),
			Summary: []bot.SummaryLine{
				{Step: "area", Label: "Area", Value: "Telford & Wrekin"},
				{Step: "children", Label: "Children at home", Value: "Yes", Action: "Make the safeguarding referral the same day."},
				{Step: "reported", Label: "Police or support worker", Value: "PC Smith <!channel>"},
				{Step: "contact", Label: "Safe contact", Value: "Text after 6pm, or ring my sister on 07700 900999", Private: true},
			},
		},
	}))
}

// post sends a signed request to the handler and returns the status.
func (e *env) post(h http.HandlerFunc, body []byte, at time.Time, sign string) int {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	for k, v := range slackfake.Sign(sign, body, at) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec.Code
}

func (e *env) press(user, cardTS, action, value string) int {
	return e.post(e.slack.Interactions, slackfake.BlockAction(user, "C-SHROP", cardTS, action, value), time.Now(), secret)
}

func (e *env) reply(user, threadTS, text string) (eventID string, status int) {
	e.mu.Lock()
	e.events++
	n := e.events
	e.mu.Unlock()
	eventID = fmt.Sprintf("Ev%04d", n)
	ts := fmt.Sprintf("1764600000.%06d", n)
	return eventID, e.post(e.slack.Events, slackfake.MessageEvent(eventID, user, "C-SHROP", threadTS, ts, text), time.Now(), secret)
}

// eventually waits for the background worker.
func (e *env) eventually(cond func() bool, msg string) {
	e.t.Helper()
	require.Eventually(e.t, cond, 5*time.Second, 10*time.Millisecond, msg)
}

func ephemeralsTo(api *slackfake.Server, user string) []string {
	var out []string
	for _, c := range api.Calls("chat.postEphemeral") {
		if c.Form.Get("user") == user {
			out = append(out, c.Text())
		}
	}
	return out
}

// cardFor posts the case's card and returns its timestamp.
func (e *env) cardFor(id, area string, p bot.Priority) string {
	e.t.Helper()
	e.handoff(id, area, p)
	e.step()
	c, err := e.queue.Get(context.Background(), bot.ConversationID(id))
	require.NoError(e.t, err)
	require.NotEmpty(e.t, c.Card.TS)
	return c.Card.TS
}

func TestCardGoesToTheAreaChannelWithoutTheNumber(t *testing.T) {
	e := newEnv(t)
	e.cardFor("card-shrop-0001", "shropshire", bot.High)
	e.cardFor("card-other-0001", "herefordshire", bot.Standard)
	posts := e.api.Calls("chat.postMessage")
	require.Len(t, posts, 2)
	assert.Equal(t, "C-SHROP", posts[0].Channel())
	assert.Equal(t, "C-ALL", posts[1].Channel(), "areas with no channel of their own go to the * channel")
	blocks := posts[0].Blocks()
	for _, want := range []string{"HIGH priority · Telford \\u0026amp; Wrekin", "Children at home", "Wed 2 Dec, 10:00", `"action_id":"claim"`} {
		assert.Contains(t, blocks, want)
	}
	assert.Contains(t, blocks, `\u0026lt;!channel\u0026gt;`, "the tenant's words cannot mention the channel")
	for _, c := range e.api.Calls("") {
		assert.NotContains(t, c.Form.Encode(), "7700900123", "%s carries the tenant's number", c.Method)
		assert.NotContains(t, c.Form.Encode(), "ring+my+sister", "%s carries a private answer", c.Method)
	}
	assert.Contains(t, blocks, "How to contact the tenant safely: Show contact, once claimed.")
	assert.Contains(t, blocks, ":pushpin: *Make the safeguarding referral the same day.*", "what the policy asks of the officer")
	assert.NotContains(t, posts[0].Text(), "abuse")
}

func TestTwoOfficersClaimAtOnceOneWins(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("claim-race-0001", "shropshire", bot.Standard)
	var wg sync.WaitGroup
	for _, u := range []string{"U-ALICE", "U-BOB"} {
		wg.Go(func() { assert.Equal(t, http.StatusOK, e.press(u, ts, "claim", "claim-race-0001")) })
	}
	wg.Wait()
	e.eventually(func() bool { return len(e.api.Calls("chat.postEphemeral")) == 1 }, "the loser is told")
	c, err := e.queue.Get(context.Background(), "claim-race-0001")
	require.NoError(t, err)
	loser := "U-BOB"
	if c.ClaimedBy == "U-BOB" {
		loser = "U-ALICE"
	}
	assert.Equal(t, []string{fmt.Sprintf("<@%s> has already claimed case claim-ra.", c.ClaimedBy)}, ephemeralsTo(e.api, loser))
	e.step()
	updates := e.api.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Blocks(), "claimed by \\u003c@"+c.ClaimedBy)
	assert.Contains(t, updates[0].Blocks(), `"action_id":"contact"`)
}

func TestThreadBridge(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("bridge-0001", "shropshire", bot.Standard)
	e.press("U-ALICE", ts, "claim", "bridge-0001")
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), "bridge-0001")
		return c != nil && c.ClaimedBy == "U-ALICE"
	}, "Alice claims")

	_, code := e.reply("U-ALICE", ts, "Hello, I'm Sam from the housing team. Is now a good time?")
	assert.Equal(t, http.StatusOK, code)
	e.reply("U-BOB", ts, "I can help too")
	e.reply("U-ALICE", ts, "note: tried calling, no answer")
	e.reply("U-ALICE", ts, "NOTE: left no voicemail")
	e.reply("U-ALICE", ts, "Domestic abuse team here")
	e.reply(slackfake.BotUserID, ts, "an echo of the bot's own post")
	id, _ := e.reply("U-ALICE", ts, "Call <tel:01952217100|01952 217100> &amp; ask for Sam")
	// Slack retries an event it thinks was not received.
	assert.Equal(t, http.StatusOK, e.post(e.slack.Events,
		slackfake.MessageEvent(id, "U-ALICE", "C-SHROP", ts, "1764600000.000007", "Call <tel:01952217100|01952 217100> &amp; ask for Sam"), time.Now(), secret))

	e.eventually(func() bool { return len(e.api.Calls("reactions.add")) >= 2 }, "relayed, and marked")
	time.Sleep(100 * time.Millisecond) // anything else queued would be done by now
	assert.Equal(t, []string{
		"bridge-0 Hello, I'm Sam from the housing team. Is now a good time?",
		"bridge-0 Call 01952 217100 & ask for Sam",
	}, e.relay.Sent())
	assert.Len(t, ephemeralsTo(e.api, "U-BOB"), 1, "Bob is told his reply stays in Slack")
	assert.Contains(t, ephemeralsTo(e.api, "U-ALICE")[0], `would show "domestic" on the tenant's lock screen`)
	assert.Len(t, e.api.Calls("reactions.add"), 2, "each relayed reply is marked")

	// The tenant writes back: it appears in the thread.
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventTenantMessage, Conversation: "bridge-0001", Text: "yes, he's out <!channel>"}))
	e.step()
	posts := e.api.Calls("chat.postMessage")
	last := posts[len(posts)-1]
	assert.Equal(t, ts, last.ThreadTS())
	assert.Equal(t, "Tenant: yes, he's out &lt;!channel&gt;", last.Text(), "the tenant's words mention nobody")
}

func TestShowContactAndClose(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("contact-0001", "shropshire", bot.Standard)
	e.press("U-ALICE", ts, "claim", "contact-0001")
	e.press("U-BOB", ts, "contact", "contact-0001")
	e.press("U-ALICE", ts, "contact", "contact-0001")
	e.press("U-BOB", ts, "close", "Could not contact safely")
	e.press("U-ALICE", ts, "close", "Contacted: safety plan agreed")
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), "contact-0001")
		return c != nil && c.State == handoff.StateClosed
	}, "Alice closes the case, after the rest")
	assert.Equal(t, []string{
		"Only the officer who claimed the case can see the tenant's contact.",
		"Only the officer who claimed the case can close it.",
	}, ephemeralsTo(e.api, "U-BOB"))
	alice := ephemeralsTo(e.api, "U-ALICE")
	require.Len(t, alice, 1)
	assert.Contains(t, alice[0], "*Number:* +447700900123")
	assert.Contains(t, alice[0], "*Safe contact:* Text after 6pm, or ring my sister on 07700 900999")

	c, err := e.queue.Get(context.Background(), "contact-0001")
	require.NoError(t, err)
	assert.Equal(t, handoff.StateClosed, c.State)
	assert.Equal(t, "Contacted: safety plan agreed", c.Outcome)
	e.step()
	updates := e.api.Calls("chat.update")
	final := updates[len(updates)-1].Blocks()
	assert.Contains(t, final, "closed by \\u003c@U-ALICE\\u003e: Contacted: safety plan agreed")
	assert.NotContains(t, final, `"type":"actions"`, "a closed case has no buttons")
	var thread []string
	for _, p := range e.api.Calls("chat.postMessage") {
		if p.ThreadTS() == ts {
			thread = append(thread, p.Text())
		}
	}
	assert.Equal(t, []string{
		"<@U-ALICE> looked up the tenant's contact details.",
		"Closed by <@U-ALICE>: Contacted: safety plan agreed",
	}, thread, "the thread records who saw the contact, and the close")

	e.reply("U-ALICE", ts, "one more thing")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-ALICE")) == 2 }, "told")
	assert.Equal(t, "Not sent to the tenant: the case is closed. It opens again if the tenant writes.", ephemeralsTo(e.api, "U-ALICE")[1])
	assert.Empty(t, e.relay.Sent())
}

func TestQuickExitUpdatesTheCard(t *testing.T) {
	e := newEnv(t)
	e.cardFor("exit-0001", "shropshire", bot.Standard)
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventExited, Conversation: "exit-0001"}))
	e.step()
	updates := e.api.Calls("chat.update")
	require.Len(t, updates, 1)
	assert.Contains(t, updates[0].Blocks(), "Tenant ended the chat — do not text unless they write again.")
}

func TestRefused(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("refuse-0001", "shropshire", bot.Standard)
	body := slackfake.BlockAction("U-ALICE", "C-SHROP", ts, "claim", "refuse-0001")

	assert.Equal(t, http.StatusUnauthorized, e.post(e.slack.Interactions, body, time.Now(), "not-the-secret"), "bad signature")
	assert.Equal(t, http.StatusUnauthorized, e.post(e.slack.Interactions, body, time.Now().Add(-6*time.Minute), secret), "stale timestamp")
	assert.Equal(t, http.StatusUnauthorized, e.post(e.slack.Events, slackfake.MessageEvent("Ev1", "U-ALICE", "C-SHROP", ts, "1.1", "hi"), time.Now().Add(-6*time.Minute), secret))

	assert.Equal(t, http.StatusOK, e.press("U-MALLORY", ts, "claim", "refuse-0001"))
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-MALLORY")) == 1 }, "told privately")
	assert.Contains(t, ephemeralsTo(e.api, "U-MALLORY")[0], "Only officers on safecontact's list")
	c, err := e.queue.Get(context.Background(), "refuse-0001")
	require.NoError(t, err)
	assert.Equal(t, handoff.StateQueued, c.State, "nothing was claimed")
	assert.Empty(t, e.relay.Sent())
}

func TestURLVerification(t *testing.T) {
	e := newEnv(t)
	body := []byte(`{"type":"url_verification","token":"x","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}`)
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	for k, v := range slackfake.Sign(secret, body, time.Now()) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	e.slack.Events(rec, req)
	assert.Equal(t, "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P", rec.Body.String())
}

func TestSlackFailuresPostEverythingOnceAfterwards(t *testing.T) {
	e := newEnv(t)
	var mu sync.Mutex
	fails := 0
	e.api.FailWith(func(method string) int {
		if method != "chat.postMessage" && method != "chat.update" {
			return 0
		}
		mu.Lock()
		defer mu.Unlock()
		fails++
		switch {
		case fails <= 2:
			return http.StatusTooManyRequests
		case fails <= 6:
			return http.StatusInternalServerError
		}
		return 0
	})
	e.handoff("fail-0001", "shropshire", bot.Standard)
	e.handoff("fail-0002", "herefordshire", bot.Standard)
	for _, text := range []string{"one", "two", "three"} {
		require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventTenantMessage, Conversation: "fail-0001", Text: text}))
	}
	for range 200 {
		e.step()
		e.advance(time.Second)
	}
	var got []string
	for _, c := range e.api.Calls("chat.postMessage") {
		got = append(got, c.Channel()+" "+c.Text()+" "+c.ThreadTS())
	}
	cards := e.api.Calls("chat.postMessage")
	require.Len(t, cards, 5, "%q", got)
	shrop := cards[0].TS
	if cards[0].Channel() != "C-SHROP" {
		shrop = cards[1].TS
	}
	var thread []string
	for _, c := range cards {
		if c.ThreadTS() == shrop {
			thread = append(thread, c.Text())
		}
	}
	assert.Equal(t, []string{"Tenant: one", "Tenant: two", "Tenant: three"}, thread, "in order, once each")
	assert.True(t, strings.HasPrefix(got[0], "C-") && fails > 6)
}

func TestSocketMode(t *testing.T) {
	e := newEnv(t, func(c *slackboard.Config) { c.AppToken, c.SigningSecret = "xapp-test", "" })
	require.True(t, e.slack.SocketMode())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.slack.RunSocketMode(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case <-e.api.Connected():
	case <-time.After(10 * time.Second):
		t.Fatal("the app did not open its Socket Mode connection")
	}
	ts := e.cardFor("socket-0001", "shropshire", bot.Standard)

	claim, err := e.api.SendSocket("interactive", slackfake.BlockActionPayload("U-ALICE", "C-SHROP", ts, "claim", "socket-0001"))
	require.NoError(t, err)
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), "socket-0001")
		return c != nil && c.ClaimedBy == "U-ALICE"
	}, "claimed over Socket Mode")

	reply := slackfake.MessageEvent("EvSock1", "U-ALICE", "C-SHROP", ts, "1764600001.000001", "Hello, this is Sam.")
	first, err := e.api.SendSocket("events_api", reply)
	require.NoError(t, err)
	again, err := e.api.SendSocket("events_api", reply) // Slack's retry: same event id
	require.NoError(t, err)
	e.eventually(func() bool {
		return e.api.Acked(claim) && e.api.Acked(first) && e.api.Acked(again) && len(e.relay.Sent()) == 1
	}, "acknowledged and relayed")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{"socket-0 Hello, this is Sam."}, e.relay.Sent(), "relayed once")
}

func TestAlertsGoToOnCallAndManagersWithALink(t *testing.T) {
	e := newEnv(t)
	// Saturday 02:00: an urgent case alerts on-call at once, with the
	// mention; unclaimed, it is escalated to the managers on Monday.
	e.mu.Lock()
	e.now = time.Date(2026, 11, 28, 2, 0, 0, 0, e.hours.Location())
	e.mu.Unlock()
	ts := e.cardFor("alert-0001", "shropshire", bot.Urgent)
	e.step() // the alert waits for nothing, but this is its turn
	var oncall, managers []string
	collect := func() {
		oncall, managers = nil, nil
		for _, c := range e.api.Calls("chat.postMessage") {
			switch c.Channel() {
			case "C-ONCALL":
				oncall = append(oncall, c.Text())
			case "C-MANAGERS":
				managers = append(managers, c.Text())
			}
		}
	}
	collect()
	require.Len(t, oncall, 1)
	assert.True(t, strings.HasPrefix(oncall[0], "<!here> URGENT case alert-00 needs on-call now."), oncall[0])
	assert.Contains(t, oncall[0], "<https://example.slack.com/archives/C-SHROP/p"+strings.ReplaceAll(ts, ".", "")+"|Open the case>")
	assert.Empty(t, managers)

	// The deadline is one working day on: Monday 17:00; three quarters of
	// its working time have gone at Monday 15:00.
	e.advance(56 * time.Hour) // Monday 10:00
	e.step()
	collect()
	assert.Empty(t, managers)
	e.advance(5 * time.Hour) // Monday 15:00
	e.step()
	collect()
	require.Len(t, managers, 1)
	assert.Contains(t, managers[0], "Case alert-00 (urgent) is unclaimed and three quarters of its time has gone: contact due by Mon 30 Nov 17:00.")
	assert.Contains(t, managers[0], "|Open the case>")
}
