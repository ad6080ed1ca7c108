package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms/smstest"
	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
)

const (
	twilioToken = "0123456789abcdef0123456789abcdef"
	twilioSID   = "AC00000000000000000000000000000009"
	publicURL   = "https://contact.example.org"
	slackSecret = "e2e-signing-secret"
)

// textsOut is a local Twilio Messages API that records the texts sent.
type textsOut struct {
	*httptest.Server
	mu   sync.Mutex
	sent []string // "to: body"
}

func newTextsOut(t *testing.T) *textsOut {
	f := &textsOut{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != http.MethodPost {
			fmt.Fprint(w, `{"messages": [], "page": 0, "page_size": 50}`)
			return
		}
		r.ParseForm()
		f.mu.Lock()
		f.sent = append(f.sent, r.Form.Get("To")+": "+r.Form.Get("Body"))
		n := len(f.sent)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"sid": "SM%032d", "status": "queued"}`, n)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *textsOut) Sent() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.sent...)
}

// officersRig is serve with Redis, Twilio and Slack all configured against
// local servers.
type officersRig struct {
	t      *testing.T
	base   string
	slack  *slackfake.Server
	twilio *textsOut
	n      int
	// number is this run's tenant: a new one each run, so that runs on
	// one Redis do not meet each other's conversations.
	number string
	env    map[string]string
	// slackBase is where Slack's requests go, when not to the first
	// process: Slack reaches any process behind the load balancer.
	slackBase string
}

func newOfficersRig(t *testing.T) *officersRig { return newOfficersRigWith(t, nil) }

// newOfficersRigWith is newOfficersRig with env added to, or replacing,
// the rig's settings.
func newOfficersRigWith(t *testing.T, env map[string]string) *officersRig {
	storetest.Redis(t) // skips (or fails under CI) without REDIS_URL
	r := &officersRig{t: t, slack: slackfake.New(t), twilio: newTextsOut(t),
		number: fmt.Sprintf("+447700%06d", rand.IntN(1_000_000))}
	r.env = map[string]string{
		"TWILIO_AUTH_TOKEN": twilioToken, "PUBLIC_BASE_URL": publicURL,
		"TWILIO_ACCOUNT_SID": twilioSID, "TWILIO_FROM": "+447700900000", "TWILIO_API_BASE": r.twilio.URL,
		"SLACK_BOT_TOKEN": "xoxb-e2e", "SLACK_SIGNING_SECRET": slackSecret, "SLACK_API_URL": r.slack.APIURL(),
		"SLACK_CHANNELS":       "shropshire=C-SHROP,*=C-ALL",
		"SLACK_ONCALL_CHANNEL": "C-ONCALL", "SLACK_MANAGERS_CHANNEL": "C-MANAGERS",
		"SLACK_OFFICERS": "U-ALICE,U-BOB", "SAFECONTACT_METRICS_TOKEN": "metrics-e2e",
	}
	maps.Copy(r.env, env)
	r.base = "http://" + startServe(t, r.env).Addr()
	return r
}

// another starts a second process on the same Redis, Twilio and Slack,
// and returns its base URL.
func (r *officersRig) another() string {
	return "http://" + startServe(r.t, r.env).Addr()
}

// text sends a signed inbound text, as Twilio would.
func (r *officersRig) text(body string) string {
	r.t.Helper()
	r.n++
	form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", 9000+r.n)}, "From": {r.number}, "To": {"+447700900000"}, "Body": {body}}
	req, _ := http.NewRequest(http.MethodPost, r.base+"/sms/twilio", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign(twilioToken, publicURL+"/sms/twilio", form))
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	require.Equal(r.t, http.StatusOK, resp.StatusCode, "%s", out)
	return string(out)
}

// slackPost sends a signed request from Slack, to slackBase (when set) or
// to the first process.
func (r *officersRig) slackPost(path string, body []byte) int {
	r.t.Helper()
	code, _ := r.slackPostBody(path, body)
	return code
}

// slackPostBody is slackPost that also returns the response's body.
func (r *officersRig) slackPostBody(path string, body []byte) (int, string) {
	r.t.Helper()
	base := r.base
	if r.slackBase != "" {
		base = r.slackBase
	}
	req, _ := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
	for k, v := range slackfake.Sign(slackSecret, body, time.Now()) {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out)
}

// writeToTenant presses Reply to tenant on the card as the user, waits
// for the modal, and submits the text: it returns the submission's
// answer ("" when accepted).
func (r *officersRig) writeToTenant(user, channel, cardTS, id, text string) string {
	r.t.Helper()
	n := len(r.slack.Views())
	r.press(user, channel, cardTS, "reply", id)
	return r.submitView(user, n+1, text)
}

// submitView waits for the n-th modal and submits the text in it.
func (r *officersRig) submitView(user string, n int, text string) string {
	r.t.Helper()
	require.Eventually(r.t, func() bool { return len(r.slack.Views()) >= n }, 10*time.Second, 20*time.Millisecond, "modal %d", n)
	v := r.slack.Views()[n-1]
	code, body := r.slackPostBody("/slack/interactions", slackfake.ViewSubmission(user, v.ID, v.CallbackID, v.PrivateMetadata,
		map[string]map[string]string{"reply": {"text": text}}))
	require.Equal(r.t, http.StatusOK, code, "%s", body)
	return body
}

// claim presses Claim on the card as the user and waits until the card
// says so: the claim is done before anything that needs it.
func (r *officersRig) claim(user, channel, cardTS, id string) {
	r.t.Helper()
	r.press(user, channel, cardTS, "claim", id)
	require.Eventually(r.t, func() bool {
		for _, u := range r.slack.Calls("chat.update") {
			if u.Form.Get("ts") == cardTS && strings.Contains(u.Text(), "claimed by <@"+user+">") {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the card shows the claim")
}

func (r *officersRig) press(user, channel, cardTS, action, value string) {
	r.t.Helper()
	require.Equal(r.t, http.StatusOK, r.slackPost("/slack/interactions", slackfake.BlockAction(user, channel, cardTS, action, value)))
}

// reply posts a message in the thread, as Slack's event, and returns
// its timestamp.
func (r *officersRig) reply(user, channel, threadTS, text string) string {
	r.t.Helper()
	r.n++
	ts := fmt.Sprintf("17647%s.%06d", r.number[7:], r.n)
	ev := slackfake.MessageEvent(fmt.Sprintf("EvE2E%s%04d", r.number, r.n), user, channel, threadTS, ts, text)
	require.Equal(r.t, http.StatusOK, r.slackPost("/slack/events", ev))
	return ts
}

// card waits for the n-th card in the channel and returns it.
func (r *officersRig) card(channel string, n int) slackfake.Call {
	r.t.Helper()
	var cards []slackfake.Call
	require.Eventually(r.t, func() bool {
		cards = cards[:0]
		for _, c := range r.slack.Calls("chat.postMessage") {
			if c.Channel() == channel && c.ThreadTS() == "" {
				cards = append(cards, c)
			}
		}
		return len(cards) >= n
	}, 10*time.Second, 20*time.Millisecond, "card %d in %s", n, channel)
	return cards[n-1]
}

// caseID reads the case id from the card's Claim button.
func caseID(t *testing.T, card slackfake.Call) string {
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal([]byte(card.Blocks()), &blocks))
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == "claim" {
				return e.Value
			}
		}
	}
	t.Fatalf("no Claim button on the card: %s", card.Blocks())
	return ""
}

func (r *officersRig) threadTexts(ts string) []string {
	var out []string
	for _, c := range r.slack.Calls("chat.postMessage") {
		if c.ThreadTS() == ts {
			out = append(out, c.Text())
		}
	}
	return out
}

// intake is a whole intake for Shropshire: it ends with the handoff.
var intake = []string{"hello", "y", "n", "2", "1", "1", "y", "n", "n", "y", "n", "n", "3", "y", "text only", "1"}

func TestOfficerQueueOverSMS(t *testing.T) {
	r := newOfficersRig(t)
	for _, line := range intake {
		r.text(line)
	}
	card := r.card("C-SHROP", 1)
	assert.Contains(t, card.Blocks(), "Shropshire")
	assert.NotContains(t, card.Blocks(), r.number[3:], "the number is never in a channel")
	assert.NotContains(t, card.Blocks(), "text only", "how to contact the tenant is for the claiming officer only")
	id := caseID(t, card)

	// Alice and Bob press Claim at once: one wins, the other is told.
	var wg sync.WaitGroup
	for _, u := range []string{"U-ALICE", "U-BOB"} {
		wg.Go(func() { r.press(u, "C-SHROP", card.TS, "claim", id) })
	}
	wg.Wait()
	require.Eventually(t, func() bool { return len(r.slack.Calls("chat.postEphemeral")) == 1 }, 5*time.Second, 20*time.Millisecond)
	loser := r.slack.Calls("chat.postEphemeral")[0].Form.Get("user")
	winner := map[string]string{"U-ALICE": "U-BOB", "U-BOB": "U-ALICE"}[loser]
	assert.Contains(t, r.slack.Calls("chat.postEphemeral")[0].Text(), "<@"+winner+"> has already claimed")

	// Thread replies stay in Slack, the claiming officer's too; only what
	// they submit with Reply to tenant reaches the tenant, once.
	r.reply(winner, "C-SHROP", card.TS, "checked the tenancy file")
	r.reply(loser, "C-SHROP", card.TS, "I can take this one too")
	r.press(loser, "C-SHROP", card.TS, "reply", id)
	require.Eventually(t, func() bool {
		for _, e := range r.slack.Calls("chat.postEphemeral") {
			if e.Form.Get("user") == loser && strings.Contains(e.Text(), "only the officer who claimed the case writes to the tenant") {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "the officer who did not claim the case is refused")
	n := len(r.slack.Views())
	assert.Contains(t, r.writeToTenant(winner, "C-SHROP", card.TS, id, "Domestic abuse team: hello"), `"response_action":"errors"`,
		"a lock-screen word is refused in the modal")
	assert.Equal(t, "", r.submitView(winner, n+1, "Hello, this is Sam from the housing team. Is now a good time to talk?"))
	require.Eventually(t, func() bool { return len(r.twilio.Sent()) == 1 }, 10*time.Second, 20*time.Millisecond)
	time.Sleep(300 * time.Millisecond)
	assert.Equal(t, []string{r.number + ": Hello, this is Sam from the housing team. Is now a good time to talk?"}, r.twilio.Sent(),
		"only what the claiming officer sent with Reply to tenant reaches the tenant")
	assert.Len(t, r.slack.Views(), n+1, "no modal for the officer who did not claim the case")
	r.waitThread(card.TS, "📤 Sent to the tenant by <@"+winner+">: Hello, this is Sam")

	twiml := r.text("yes, he's at work until 5")
	assert.NotContains(t, twiml, "<Message>", "no automatic answer while the officer is talking")
	require.Eventually(t, func() bool {
		return slices.Contains(r.threadTexts(card.TS), "Tenant: yes, he's at work until 5")
	}, 10*time.Second, 20*time.Millisecond, "the tenant's text is in the thread: %q", r.threadTexts(card.TS))

	var cards []string
	for _, c := range r.slack.Calls("chat.postMessage") {
		if c.ThreadTS() == "" && (c.Channel() == "C-SHROP" || c.Channel() == "C-ALL") {
			cards = append(cards, c.Channel())
		}
	}
	assert.Equal(t, []string{"C-SHROP"}, cards, "one card, in the area's channel")

	n = len(r.slack.Views())
	r.press(winner, "C-SHROP", card.TS, "close", id)
	require.Eventually(t, func() bool { return len(r.slack.Views()) > n }, 10*time.Second, 20*time.Millisecond, "the close form opens")
	code, body := r.slackPostBody("/slack/interactions", slackfake.Submit(winner, r.slack.Views()[n], nil, map[string]map[string]string{
		"outcome": {"value": "Contacted: safety plan agreed"}, "discussed": {"value": "Yes, discussed with the tenant"}}))
	require.Equal(t, http.StatusOK, code)
	require.Empty(t, body, "the form is accepted")
	require.Eventually(t, func() bool {
		updates := r.slack.Calls("chat.update")
		return len(updates) > 0 && strings.Contains(updates[len(updates)-1].Blocks(), "Contacted: safety plan agreed")
	}, 10*time.Second, 20*time.Millisecond, "the card shows the outcome")

}

func TestOfficerQueueOverWebChat(t *testing.T) {
	r := newOfficersRig(t)
	token := r.chatStart()
	for _, line := range intake[1:] { // the chat opens with the first question
		r.chatSay(token, line)
	}
	card := r.card("C-SHROP", 1)
	id := caseID(t, card)
	r.claim("U-ALICE", "C-SHROP", card.TS, id)

	r.reply("U-ALICE", "C-SHROP", card.TS, "tenant is on the web chat; replying now")
	assert.Equal(t, "", r.writeToTenant("U-ALICE", "C-SHROP", card.TS, id, "Hello, this is Sam. I'm here now."))
	got := r.chatWait(token, "officer", 10*time.Second)
	assert.Equal(t, "Hello, this is Sam. I'm here now.", got, "the first officer message in the chat: the thread reply never went")

	// /metrics counts it, and the requests that made it, for whoever
	// has the token.
	resp, err := http.Get(r.base + "/metrics")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	req, _ := http.NewRequest(http.MethodGet, r.base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer metrics-e2e")
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Regexp(t, `(?m)^safecontact_cases_open\{priority="standard",state="claimed"\} [1-9]`, string(metrics))
	assert.Regexp(t, `(?m)^safecontact_http_requests_total\{code="200",route="slack_events"\} [1-9]`, string(metrics))
	assert.Regexp(t, `(?m)^safecontact_build_info\{commit="[^"]+",goversion="go1\.[^"]+",version="[^"]+"\} 1$`, string(metrics))

	// safecontact queue lists the case, claimed, without the tenant's
	// address.
	cmd := exec.Command(binary, "queue")
	cmd.Env = append(os.Environ(), "SAFECONTACT_KEY="+testKey)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	var line string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, id[:8]) {
			line = l
		}
	}
	assert.Regexp(t, `^\S{8} +STANDARD +claimed +shropshire +webchat +.* +U-ALICE$`, line, "queue output:\n%s", out)
}

func (r *officersRig) chatDo(method, path, token, body string) map[string]any {
	r.t.Helper()
	req, _ := http.NewRequest(method, r.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	require.Less(r.t, resp.StatusCode, 300, "%s %s: %s", method, path, raw)
	if len(raw) > 0 {
		require.NoError(r.t, json.Unmarshal(raw, &out))
	}
	return out
}

func (r *officersRig) chatStart() string {
	return r.chatDo(http.MethodPost, "/chat/api/session", "", "")["token"].(string)
}

func (r *officersRig) chatSay(token, text string) {
	b, _ := json.Marshal(map[string]string{"text": text})
	r.chatDo(http.MethodPost, "/chat/api/message", token, string(b))
}

// chatWait reads the chat's event stream until a message from the sender
// arrives, and returns its text.
func (r *officersRig) chatWait(token, from string, timeout time.Duration) string {
	r.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev struct{ From, Text string }
		require.NoError(r.t, json.Unmarshal([]byte(data), &ev))
		if ev.From == from {
			return ev.Text
		}
	}
	r.t.Fatalf("no %s message in the chat within %s", from, timeout)
	return ""
}

// A process with another SAFECONTACT_KEY would read nothing in Redis and
// pass over every case: it must not start.
func TestAnotherKeyIsRefusedAtStart(t *testing.T) {
	storetest.Redis(t)
	startServe(t, nil) // the first process writes the key check, if no test did
	env := map[string]string{
		"REDIS_URL": os.Getenv("REDIS_URL"), "REDIS_MODE": os.Getenv("REDIS_MODE"), "SAFECONTACT_KEY": "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=",
		"SAFECONTACT_ADDR": "127.0.0.1:0",
	}
	cfg, err := loadConfig(func(k string) string { return env[k] }, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	require.NoError(t, err)
	_, err = NewMain(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SAFECONTACT_KEY is not the key this Redis's data was written with")
}

// Slack's requests reach any process, but a web chat lives in the process
// that started it: the officer's reply still reaches it.
func TestOfficerReplyReachesAWebChatHeldByAnotherProcess(t *testing.T) {
	r := newOfficersRig(t)
	r.slackBase = r.another()
	token := r.chatStart()
	for _, line := range intake[1:] {
		r.chatSay(token, line)
	}
	card := r.card("C-SHROP", 1)
	id := caseID(t, card)
	r.claim("U-ALICE", "C-SHROP", card.TS, id)

	// Alice writes in the thread, then sends that message with the
	// shortcut.
	msg := "Hello from Sam, on the other server."
	ts := r.reply("U-ALICE", "C-SHROP", card.TS, msg)
	require.Equal(t, http.StatusOK, r.slackPost("/slack/interactions", r.slack.MessageAction("U-ALICE", "C-SHROP", "send_to_tenant",
		slackfake.Message{User: "U-ALICE", TS: ts, ThreadTS: card.TS, Text: msg})))
	assert.Equal(t, "", r.submitView("U-ALICE", 1, msg))
	assert.Equal(t, msg, r.chatWait(token, "officer", 10*time.Second))
	require.Eventually(t, func() bool { return len(r.slack.Calls("reactions.add")) == 1 }, 5*time.Second, 20*time.Millisecond,
		"the officer sees it went")
	assert.Equal(t, ts, r.slack.Calls("reactions.add")[0].Form.Get("timestamp"), "on the message she sent")
	for _, e := range r.slack.Calls("chat.postEphemeral") {
		assert.NotContains(t, e.Text(), "Not sent", "she is not told it failed")
	}
}
