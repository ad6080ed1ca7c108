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

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/slackboard"
	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
	"github.com/safecontact/safecontact/seal"
)

const secret = "8f742231b10e8888abcd99yyyzzz85a5"

// relay records what reaches the tenant, and each reply's key.
type relay struct {
	mu   sync.Mutex
	sent []string
	keys []string
}

func (r *relay) Send(_ context.Context, c *handoff.Case, key, text string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sent = append(r.sent, c.Short()+" "+text)
	r.keys = append(r.keys, key)
	return nil
}

func (r *relay) Keys() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.keys...)
}

func (r *relay) Sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.sent...)
}

type env struct {
	t      testing.TB
	rdb    redis.UniversalClient
	prefix string // every key of the test begins with it
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
	return newEnvWith(t, nil, configure...)
}

// newEnvWith is newEnv with the queue's options set by queue as well.
func newEnvWith(t testing.TB, queue func(*handoff.Options), configure ...func(*slackboard.Config)) *env {
	t.Helper()
	hours, problems := flows.LoadHours(os.DirFS("../../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	sealer, err := seal.New([]byte("slack-test-key-0123456789abcdefg"))
	require.NoError(t, err)
	rdb := storetest.Redis(t)
	e := &env{t: t, api: slackfake.New(t), relay: &relay{}, hours: hours, now: time.Date(2026, 12, 1, 10, 0, 0, 0, hours.Location())}
	prefix := storetest.Prefix(t)
	e.rdb, e.prefix = rdb, prefix
	opts := handoff.Options{Prefix: prefix + "case:", Now: e.clock}
	if queue != nil {
		queue(&opts)
	}
	e.queue = handoff.New(rdb, sealer, hours, nil, opts)
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
	_, err := e.queue.WorkOnce(context.Background())
	require.NoError(e.t, err)
}

func (e *env) handoff(id, area string, p bot.Priority, more ...bot.SummaryLine) {
	e.t.Helper()
	now := e.clock()
	require.NoError(e.t, e.queue.Deliver(context.Background(), bot.Event{
		Kind: bot.EventHandoff, Conversation: bot.ConversationID(id), Priority: p,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: p, Area: area, Lang: "en", Channel: bot.ChannelSMS,
			Address: "+447700900123", At: now, Deadline: e.hours.Deadline(now),
			Summary: append([]bot.SummaryLine{
				{Step: "area", Label: "Area", Value: "Telford & Wrekin"},
				{Step: "children", Label: "Children at home", Value: "Yes", Action: "Make the safeguarding referral the same day."},
				{Step: "reported", Label: "Police or support worker", Value: "PC Smith <!channel>"},
				{Step: "contact", Label: "Safe contact", Value: "Text after 6pm, or ring my sister on 07700 900999", Private: true},
			}, more...),
		},
	}))
}

// post sends a signed request to the handler and returns the status.
func (e *env) post(h http.HandlerFunc, body []byte, at time.Time, sign string) int {
	code, _ := e.postBody(h, body, at, sign)
	return code
}

// postBody is post that also returns the response's body.
func (e *env) postBody(h http.HandlerFunc, body []byte, at time.Time, sign string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	for k, v := range slackfake.Sign(sign, body, at) {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h(rec, req)
	return rec.Code, rec.Body.String()
}

func (e *env) press(user, cardTS, action, value string) int {
	return e.post(e.slack.Interactions, slackfake.BlockAction(user, "C-SHROP", cardTS, action, value), time.Now(), secret)
}

// reply posts a message in the thread, as Slack's event, and returns the
// event's id and the message's timestamp.
func (e *env) reply(user, threadTS, text string) (eventID, ts string, status int) {
	e.mu.Lock()
	e.events++
	n := e.events
	e.mu.Unlock()
	eventID = fmt.Sprintf("Ev%04d", n)
	ts = fmt.Sprintf("1764600000.%06d", n)
	return eventID, ts, e.post(e.slack.Events, slackfake.MessageEvent(eventID, user, "C-SHROP", threadTS, ts, text), time.Now(), secret)
}

// openedView waits for the n-th modal the app opened.
func (e *env) openedView(n int) slackfake.View {
	e.t.Helper()
	e.eventually(func() bool { return len(e.api.Views()) >= n }, fmt.Sprintf("modal %d opened", n))
	return e.api.Views()[n-1]
}

// submit submits the reply modal with the text, as the user, and returns
// the status and the response's body ("" closes the modal).
func (e *env) submit(user string, v slackfake.View, text string) (int, string) {
	return e.postBody(e.slack.Interactions, slackfake.ViewSubmission(user, v.ID, v.CallbackID, v.PrivateMetadata,
		map[string]map[string]string{"reply": {"text": text}}), time.Now(), secret)
}

// shortcut uses Send to tenant on a message.
func (e *env) shortcut(user string, m slackfake.Message) int {
	return e.post(e.slack.Interactions, e.api.MessageAction(user, "C-SHROP", "send_to_tenant", m), time.Now(), secret)
}

// claimed has the user claim the case, and waits until they have it.
func (e *env) claimed(user, id, cardTS string) {
	e.t.Helper()
	e.press(user, cardTS, "claim", id)
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), bot.ConversationID(id))
		return c != nil && c.ClaimedBy == user
	}, user+" claims")
}

// threadOf returns the lines posted in the card's thread.
func (e *env) threadOf(cardTS string) []string {
	var out []string
	for _, p := range e.api.Calls("chat.postMessage") {
		if p.ThreadTS() == cardTS {
			out = append(out, p.Text())
		}
	}
	return out
}

func responsesOf(api *slackfake.Server) []string {
	var out []string
	for _, c := range api.Calls("response_url") {
		out = append(out, c.Text())
	}
	return out
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

// closeCase presses Close on the card as the user and submits the form
// with the outcome, discussed with the tenant or not.
func (e *env) closeCase(user, cardTS, id, outcome string, discussed bool) (int, string) {
	e.t.Helper()
	n := len(e.api.Views())
	e.press(user, cardTS, "close", id)
	v := e.openedView(n + 1)
	d := "No, not discussed"
	if discussed {
		d = "Yes, discussed with the tenant"
	}
	return e.postBody(e.slack.Interactions, slackfake.Submit(user, v, nil, map[string]map[string]string{
		"outcome": {"value": outcome}, "discussed": {"value": d}}), time.Now(), secret)
}

// cardFor posts the case's card and returns its timestamp.
func (e *env) cardFor(id, area string, p bot.Priority, more ...bot.SummaryLine) string {
	e.t.Helper()
	e.handoff(id, area, p, more...)
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

// Nothing written in a case's thread reaches the tenant, whoever writes
// it; the claiming officer is reminded once how to write to the tenant.
func TestThreadRepliesStayInSlack(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("bridge-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "bridge-0001", ts)

	_, _, code := e.reply("U-ALICE", ts, "Hello, I'm Sam from the housing team. Is now a good time?")
	assert.Equal(t, http.StatusOK, code)
	e.reply("U-BOB", ts, "I can help too")
	e.reply("U-ALICE", ts, "tried calling, no answer")
	e.reply("U-ALICE", ts, "Domestic abuse team here")
	e.reply(slackfake.BotUserID, ts, "an echo of the bot's own post")
	e.reply("U-ALICE", ts, "Call <tel:01952217100|01952 217100> &amp; ask for Sam")

	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-ALICE")) == 1 }, "Alice is reminded")
	time.Sleep(100 * time.Millisecond) // anything else queued would be done by now
	assert.Empty(t, e.relay.Sent(), "no thread reply reaches the tenant")
	assert.Empty(t, e.api.Calls("reactions.add"))
	assert.Equal(t, []string{"This stays in Slack: replies in a case's thread never reach the tenant. " +
		"To send it to them, choose More actions → Send to tenant on your message, or press Reply to tenant on the card."},
		ephemeralsTo(e.api, "U-ALICE"), "reminded once, on her first reply")
	assert.Empty(t, ephemeralsTo(e.api, "U-BOB"), "Bob has not claimed the case")

	e.step()
	updates := e.api.Calls("chat.update")
	require.NotEmpty(t, updates)
	card := updates[len(updates)-1].Blocks()
	assert.Contains(t, card, `"action_id":"reply"`)
	assert.Contains(t, card, "Replies in this thread stay in Slack: the tenant never sees them.")
	assert.NotContains(t, card, "note:")

	// The tenant writes back: it appears in the thread.
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventTenantMessage, Conversation: "bridge-0001", Text: "yes, he's out <!channel>"}))
	e.step()
	posts := e.api.Calls("chat.postMessage")
	last := posts[len(posts)-1]
	assert.Equal(t, ts, last.ThreadTS())
	assert.Equal(t, "Tenant: yes, he's out &lt;!channel&gt;", last.Text(), "the tenant's words mention nobody")
}

// Reply to tenant opens a modal for the claiming officer alone; what
// they submit reaches the tenant once, in order, and is marked in the
// thread. A refused submission is answered in the modal.
func TestReplyToTenant(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("reply-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "reply-0001", ts)

	require.Equal(t, http.StatusOK, e.press("U-BOB", ts, "reply", "reply-0001"))
	require.Equal(t, http.StatusOK, e.press("U-MALLORY", ts, "reply", "reply-0001"))
	e.eventually(func() bool {
		return len(ephemeralsTo(e.api, "U-BOB")) == 1 && len(ephemeralsTo(e.api, "U-MALLORY")) == 1
	}, "Bob and Mallory are refused")
	assert.Equal(t, []string{"You cannot write to the tenant: only the officer who claimed the case writes to the tenant."}, ephemeralsTo(e.api, "U-BOB"))
	assert.Contains(t, ephemeralsTo(e.api, "U-MALLORY")[0], "Only officers on safecontact's list")
	assert.Empty(t, e.api.Views(), "no modal for anyone but the claimer")

	require.Equal(t, http.StatusOK, e.press("U-ALICE", ts, "reply", "reply-0001"))
	v := e.openedView(1)
	assert.Equal(t, "trigger."+ts+".U-ALICE.reply", v.TriggerID, "opened with the press's trigger id")
	assert.Contains(t, v.PrivateMetadata, "reply-0001")
	for _, want := range []string{"Reply to tenant", "By text to the tenant's phone", "*Safe contact:* Text after 6pm, or ring my sister on 07700 900999", `"multiline":true`, `"block_id":"reply"`} {
		assert.Contains(t, v.JSON, want)
	}
	assert.NotContains(t, v.JSON, "7700900123", "the modal shows how to contact the tenant, not their number")
	e.step()
	assert.Contains(t, e.threadOf(ts), "<@U-ALICE> looked up the tenant's contact details.", "the thread records that she saw the contact")

	// Refused in the modal: a lock-screen word, an empty message, Bob.
	code, body := e.submit("U-ALICE", v, "Domestic abuse team here")
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"response_action":"errors","errors":{"reply":"Not sent: the start would show \"domestic\" on the tenant's lock screen. Please begin it another way."}}`, body)
	_, body = e.submit("U-ALICE", v, "   ")
	assert.Contains(t, body, `"reply":"Write the message to send."`)
	_, body = e.submit("U-BOB", v, "Hello from Bob")
	assert.Contains(t, body, `"reply":"Not sent: only the officer who claimed the case writes to the tenant."`)

	// Accepted: the modal closes. Slack's retry of the same submission
	// sends nothing more; a second reply follows the first.
	code, body = e.submit("U-ALICE", v, "Hello, I'm Sam. Call 01952 217100 & ask for me <!channel>")
	assert.Equal(t, http.StatusOK, code)
	assert.Empty(t, body, "an empty answer closes the modal")
	_, body = e.submit("U-ALICE", v, "Hello, I'm Sam. Call 01952 217100 & ask for me <!channel>")
	assert.Empty(t, body)
	e.press("U-ALICE", ts, "reply", "reply-0001")
	second := e.openedView(2)
	assert.NotEqual(t, v.ID, second.ID)
	_, body = e.submit("U-ALICE", second, "Is now a good time?")
	assert.Empty(t, body)

	e.eventually(func() bool { return len(e.relay.Sent()) >= 2 }, "both replies relayed")
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, []string{
		"reply-00 Hello, I'm Sam. Call 01952 217100 & ask for me <!channel>",
		"reply-00 Is now a good time?",
	}, e.relay.Sent(), "once each, in order")
	keys := e.relay.Keys()
	assert.NotEqual(t, keys[0], keys[1])
	assert.Contains(t, keys[0], v.ID)
	assert.Equal(t, []string{
		"<@U-ALICE> looked up the tenant's contact details.",
		"📤 Sent to the tenant by <@U-ALICE>: Hello, I'm Sam. Call 01952 217100 &amp; ask for me &lt;!channel&gt;",
		"📤 Sent to the tenant by <@U-ALICE>: Is now a good time?",
	}, e.threadOf(ts), "what reached the tenant is marked in the thread, mentioning nobody")
	assert.Empty(t, e.api.Calls("reactions.add"), "no message to mark")
	assert.Empty(t, ephemeralsTo(e.api, "U-ALICE"))

	// The tenant leaves, then the case is closed: a form still open is
	// refused.
	e.press("U-ALICE", ts, "reply", "reply-0001")
	third := e.openedView(3)
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{Kind: bot.EventExited, Conversation: "reply-0001"}))
	_, body = e.submit("U-ALICE", third, "Are you safe?")
	assert.Contains(t, body, `"reply":"Not sent: the tenant ended the chat. Do not text unless they write again."`)
	e.closeCase("U-ALICE", ts, "reply-0001", "Could not contact safely", false)
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), "reply-0001")
		return c != nil && c.State == handoff.StateClosed
	}, "closed")
	_, body = e.submit("U-ALICE", third, "Are you safe?")
	assert.Contains(t, body, `"reply":"Not sent: the case is closed. It opens again if the tenant writes."`)
	time.Sleep(100 * time.Millisecond)
	assert.Len(t, e.relay.Sent(), 2, "nothing more was sent")
}

// A form opened on the web chat says so.
func TestReplyModalSaysHowItIsSent(t *testing.T) {
	e := newEnv(t)
	require.NoError(t, e.queue.Deliver(context.Background(), bot.Event{
		Kind: bot.EventHandoff, Conversation: "webchat-0001", Priority: bot.Standard,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: bot.Standard, Area: "shropshire", Lang: "en", Channel: bot.ChannelWebChat,
			Address: "chat-token", At: e.clock(), Deadline: e.hours.Deadline(e.clock()),
		},
	}))
	e.step()
	c, err := e.queue.Get(context.Background(), "webchat-0001")
	require.NoError(t, err)
	e.claimed("U-ALICE", "webchat-0001", c.Card.TS)
	e.press("U-ALICE", c.Card.TS, "reply", "webchat-0001")
	v := e.openedView(1)
	assert.Contains(t, v.JSON, "In the tenant's open web chat")
	assert.Contains(t, v.JSON, "The tenant did not say how it is safe to contact them.")
}

// Send to tenant on the claiming officer's own thread reply sends it
// (after the modal) and marks it 📤; on anything else it is refused.
func TestSendToTenantShortcut(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("short-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "short-0001", ts)
	_, mine, _ := e.reply("U-ALICE", ts, "Call <tel:01952217100|01952 217100> &amp; ask for Sam")
	_, bobs, _ := e.reply("U-BOB", ts, "I can help too")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-ALICE")) == 1 }, "the reminder")

	refusals := []struct {
		label, user string
		msg         slackfake.Message
		want        string
	}{
		{"someone else's message", "U-ALICE", slackfake.Message{User: "U-BOB", TS: bobs, ThreadTS: ts, Text: "I can help too"},
			"You can only send your own message to the tenant. Write it in the thread first, or press Reply to tenant on the card."},
		{"not in a thread", "U-ALICE", slackfake.Message{User: "U-ALICE", TS: "1764600099.000001", Text: "hello"},
			"Send to tenant works on a reply of yours in a case's thread."},
		{"the card itself", "U-ALICE", slackfake.Message{User: slackfake.BotUserID, TS: ts, ThreadTS: ts, Text: "card"},
			"Send to tenant works on a reply of yours in a case's thread."},
		{"a thread that is not a case's", "U-ALICE", slackfake.Message{User: "U-ALICE", TS: "1764600099.000003", ThreadTS: "1764600099.000002", Text: "hello"},
			"Send to tenant works on a reply of yours in a case's thread."},
		{"an officer who has not claimed the case", "U-BOB", slackfake.Message{User: "U-BOB", TS: bobs, ThreadTS: ts, Text: "I can help too"},
			"You cannot write to the tenant: only the officer who claimed the case writes to the tenant."},
		{"not an officer", "U-MALLORY", slackfake.Message{User: "U-MALLORY", TS: "1764600099.000004", ThreadTS: ts, Text: "hi"},
			"Only officers on safecontact's list can act on cases. Ask your manager to add you."},
	}
	for i, r := range refusals {
		assert.Equal(t, http.StatusOK, e.shortcut(r.user, r.msg), r.label)
		e.eventually(func() bool { return len(responsesOf(e.api)) == i+1 }, r.label)
		assert.Equal(t, r.want, responsesOf(e.api)[i], r.label)
	}
	for _, c := range e.api.Calls("response_url") {
		assert.Equal(t, "ephemeral", c.Form.Get("response_type"))
	}
	assert.Empty(t, e.api.Views(), "no modal for any of them")

	require.Equal(t, http.StatusOK, e.shortcut("U-ALICE", slackfake.Message{User: "U-ALICE", TS: mine, ThreadTS: ts,
		Text: "Call <tel:01952217100|01952 217100> &amp; ask for Sam"}))
	v := e.openedView(1)
	assert.Contains(t, v.JSON, "Send to tenant")
	assert.Contains(t, v.JSON, `"initial_value":"Call 01952 217100 \u0026 ask for Sam"`, "the message as the tenant will read it")
	_, body := e.submit("U-ALICE", v, "Call 01952 217100 & ask for Sam")
	assert.Empty(t, body)
	e.eventually(func() bool { return len(e.api.Calls("reactions.add")) == 1 }, "marked 📤")
	r := e.api.Calls("reactions.add")[0]
	assert.Equal(t, "outbox_tray", r.Form.Get("name"))
	assert.Equal(t, "C-SHROP", r.Channel())
	assert.Equal(t, mine, r.Form.Get("timestamp"))
	assert.Equal(t, []string{"short-00 Call 01952 217100 & ask for Sam"}, e.relay.Sent())
	assert.Contains(t, e.threadOf(ts), "📤 Sent to the tenant by <@U-ALICE>: Call 01952 217100 &amp; ask for Sam")
}
func TestShowContactAndClose(t *testing.T) {
	e := newEnv(t)
	ts := e.cardFor("contact-0001", "shropshire", bot.Standard)
	e.claimed("U-ALICE", "contact-0001", ts)
	e.press("U-BOB", ts, "contact", "contact-0001")
	e.press("U-ALICE", ts, "contact", "contact-0001")
	e.press("U-BOB", ts, "close", "contact-0001")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-BOB")) == 2 }, "Bob is told")
	e.closeCase("U-ALICE", ts, "contact-0001", "Contacted: safety plan agreed", true)
	e.eventually(func() bool {
		c, _ := e.queue.Get(context.Background(), "contact-0001")
		return c != nil && c.State == handoff.StateClosed
	}, "Alice closes the case, after the rest")
	// Close is handled at once, Show contact in its turn: Bob's two
	// answers may come in either order.
	assert.ElementsMatch(t, []string{
		"Only the officer who claimed the case can see the tenant's contact.",
		"Case contact-: only the officer holding the case, or a manager, can do that.",
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
		"Closed by <@U-ALICE>: Contacted: safety plan agreed. The closure was discussed with the tenant.",
	}, thread, "the thread records who saw the contact, and the close")

	e.reply("U-ALICE", ts, "one more thing")
	e.press("U-ALICE", ts, "reply", "contact-0001")
	e.eventually(func() bool { return len(ephemeralsTo(e.api, "U-ALICE")) == 2 }, "told")
	assert.Equal(t, "You cannot write to the tenant: the case is closed. It opens again if the tenant writes.", ephemeralsTo(e.api, "U-ALICE")[1],
		"a closed case opens no reply form, and a thread reply brings no reminder")
	assert.Len(t, e.api.Views(), 1, "the close form only: a closed case opens no reply form")
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

	// A thread reply stays in Slack; its reminder comes once, though
	// Slack sends the event twice.
	reply := slackfake.MessageEvent("EvSock1", "U-ALICE", "C-SHROP", ts, "1764600001.000001", "Hello, this is Sam.")
	first, err := e.api.SendSocket("events_api", reply)
	require.NoError(t, err)
	again, err := e.api.SendSocket("events_api", reply) // Slack's retry: same event id
	require.NoError(t, err)
	e.eventually(func() bool {
		return e.api.Acked(claim) && e.api.Acked(first) && e.api.Acked(again) && len(ephemeralsTo(e.api, "U-ALICE")) == 1
	}, "acknowledged, and Alice reminded")

	// Reply to tenant: the modal, a refused submission (answered in the
	// acknowledgement), then one sent, though submitted twice.
	press, err := e.api.SendSocket("interactive", slackfake.BlockActionPayload("U-ALICE", "C-SHROP", ts, "reply", "socket-0001"))
	require.NoError(t, err)
	v := e.openedView(1)
	assert.True(t, e.api.Acked(press))
	submit := func(text string) string {
		t.Helper()
		id, err := e.api.SendSocket("interactive", slackfake.ViewSubmissionPayload("U-ALICE", v.ID, v.CallbackID, v.PrivateMetadata,
			map[string]map[string]string{"reply": {"text": text}}))
		require.NoError(t, err)
		e.eventually(func() bool { return e.api.Acked(id) }, "submission acknowledged")
		return string(e.api.AckPayload(id))
	}
	assert.JSONEq(t, `{"response_action":"errors","errors":{"reply":"Not sent: the start would show \"refuge\" on the tenant's lock screen. Please begin it another way."}}`,
		submit("Refuge places are free tonight"))
	assert.Equal(t, "null", submit("Hello, this is Sam."), "acknowledged with no payload: the modal closes")
	assert.Equal(t, "null", submit("Hello, this is Sam."))
	e.eventually(func() bool { return len(e.relay.Sent()) == 1 }, "relayed")
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
