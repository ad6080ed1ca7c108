package webchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/flows/flowstest"
)

type rig struct {
	*httptest.Server
	chat   *webchat.Server
	engine *bot.Engine
	// events are the turns' events, as the store logged them; nil
	// unless the test sets it.
	events *flowstest.Events
}

func newRig(t testing.TB, exitURL string, limits ...int) *rig {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	store := memstore.New(func() time.Time { return now })
	eng := flowstest.Engine(t, store, now)
	r := serve(t, eng, exitURL, limits...)
	r.engine = eng
	r.events = flowstest.EventsIn(t, store)
	return r
}

// serve starts the web chat on eng; rig.engine is left nil.
func serve(t testing.TB, eng webchat.Engine, exitURL string, limits ...int) *rig {
	return serveWith(t, eng, func(cfg *webchat.Config) {
		cfg.ExitURL = exitURL
		if len(limits) == 2 {
			cfg.MessagesPerMinute, cfg.SessionsPerMinute = limits[0], limits[1]
		}
	})
}

// serveWith starts the web chat on eng with the test's settings, then
// set's.
func serveWith(t testing.TB, eng webchat.Engine, set func(*webchat.Config)) *rig {
	cfg := webchat.Config{Engine: eng, Secret: []byte("webchat-session-secret-0123456789")}
	set(&cfg)
	chat, err := webchat.New(cfg)
	require.NoError(t, err)
	r := &rig{chat: chat}
	r.Server = httptest.NewServer(chat)
	t.Cleanup(func() {
		r.CloseClientConnections() // open event streams
		r.Close()
	})
	return r
}

func (r *rig) do(t testing.TB, method, path, token, body string) (int, map[string]any) {
	req, err := http.NewRequest(method, r.URL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		require.NoError(t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return resp.StatusCode, out
}

func (r *rig) start(t testing.TB) string {
	status, body := r.do(t, "POST", "/chat/api/session", "", "")
	require.Equal(t, http.StatusCreated, status, "%v", body)
	return body["token"].(string)
}

func (r *rig) say(t testing.TB, token, text string) int {
	b, _ := json.Marshal(map[string]string{"text": text})
	status, _ := r.do(t, "POST", "/chat/api/message", token, string(b))
	return status
}

type event struct {
	ID      string
	From    string
	Text    string
	Lang    string
	Choices []choice
}

type choice struct {
	Label string `json:"label"`
	Send  string `json:"send"`
}

// stream reads events after lastID until it has n of them or the stream
// ends.
func (r *rig) stream(t testing.TB, token string, lastID string, n int) []event {
	var out []event
	for _, data := range r.streamRaw(t, token, lastID, n) {
		var e event
		require.NoError(t, json.Unmarshal([]byte(data), &e))
		out = append(out, e)
	}
	return out
}

// streamRaw is stream, returning each event's data as sent.
func (r *rig) streamRaw(t testing.TB, token string, lastID string, n int) []string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", r.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	var out []string
	sc := bufio.NewScanner(resp.Body)
	for len(out) < n && sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, data)
		}
	}
	return out
}

func TestPageHeaders(t *testing.T) {
	r := newRig(t, "")
	resp, err := http.Get(r.URL + "/chat/")
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	h := resp.Header
	assert.Equal(t, "no-store", h.Get("Cache-Control"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Contains(t, h.Get("Content-Security-Policy"), "default-src 'none'")
	assert.Contains(t, h.Get("Content-Security-Policy"), "frame-ancestors 'none'")
	assert.Empty(t, h.Values("Set-Cookie"))
	assert.Contains(t, string(body), `content="https://www.bbc.co.uk/weather"`)
	assert.Contains(t, string(body), "<title>Contact us</title>")
	for _, word := range []string{"abuse", "violence", "domestic"} {
		assert.NotContains(t, strings.ToLower(string(body)), word)
	}
	// Everything the page loads, in all, stays small.
	total := len(body)
	for _, asset := range []string{"/chat/static/app.js", "/chat/static/app.css"} {
		resp, err := http.Get(r.URL + asset)
		require.NoError(t, err)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, asset)
		assert.Equal(t, "no-store", resp.Header.Get("Cache-Control"))
		total += len(b)
	}
	assert.Less(t, total, 30<<10, "page, script and style: %d bytes", total)
	t.Logf("page, script and style: %d bytes", total)
}

func TestChatAndReconnect(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	store := memstore.New(func() time.Time { return now })
	eng := &recording{Engine: flowstest.Engine(t, store, now)}
	r := serve(t, eng, "")
	r.engine = eng.Engine
	r.events = flowstest.EventsIn(t, store)
	token := r.start(t)
	first := r.stream(t, token, "", 1)
	require.Len(t, first, 1)
	assert.Contains(t, first[0].Text, "Is it safe for you to message now?")
	assert.Equal(t, "bot", first[0].From)

	require.Equal(t, http.StatusAccepted, r.say(t, token, "yes"))
	require.Equal(t, http.StatusAccepted, r.say(t, token, "no"))
	// Reconnect after the first event: the two questions that followed,
	// once each, in order, as the engine asked them.
	asked := eng.replies()
	require.Len(t, asked, 3, "a question a turn")
	again := r.stream(t, token, first[0].ID, 2)
	require.Len(t, again, 2)
	assert.Contains(t, again[0].Text, "Are you in danger right now?")
	assert.Equal(t, []string{asked[1].Text, asked[2].Text}, []string{again[0].Text, again[1].Text})
	assert.NotEqual(t, first[0].ID, again[0].ID)
	assert.NotEqual(t, again[0].ID, again[1].ID)

	require.Equal(t, http.StatusAccepted, r.say(t, token, "cymraeg"))
	cy := r.stream(t, token, again[1].ID, 1)
	require.Len(t, cy, 1)
	assert.Equal(t, "cy", cy[0].Lang)
	assert.NotEqual(t, again[1].Text, cy[0].Text, "the same question, in Welsh")

	// Hand off, then an officer's message arrives live, after the bot's.
	before := len(eng.replies())
	conv := conversationOf(t, r, token)
	n := len(eng.replies()) - before
	require.Positive(t, n, "the handoff is answered")
	handoff := r.stream(t, token, cy[0].ID, n)
	require.Len(t, handoff, n)
	require.NoError(t, r.chat.Push(context.Background(), conv, "slack:1", "Hello, I'm Sam."))
	require.NoError(t, r.chat.Push(context.Background(), conv, "slack:1", "Hello, I'm Sam."), "sent again after a lost answer")
	require.NoError(t, r.chat.Push(context.Background(), conv, "slack:3", "Is now a good time?"))
	off := r.stream(t, token, handoff[n-1].ID, 2)
	require.Len(t, off, 2)
	assert.Equal(t, "officer", off[0].From)
	assert.Equal(t, "Hello, I'm Sam.", off[0].Text)
	assert.Equal(t, "Is now a good time?", off[1].Text, "the same reply is shown once")
}

// A message sent again with its id, after an answer the page did not
// get, is applied once and its replies are shown once; a message id that
// is not the page's form is refused.
func TestMessageSentAgainIsAnsweredOnce(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	store := memstore.New(func() time.Time { return now })
	eng := flowstest.Engine(t, store, now)
	r := serve(t, eng, "")
	token := r.start(t)
	first := r.stream(t, token, "", 1)
	require.Len(t, first, 1)
	const id = "00112233445566778899aabbccddeeff"
	body := `{"text":"yes","id":"` + id + `"}`
	for range 3 {
		status, out := r.do(t, "POST", "/chat/api/message", token, body)
		require.Equal(t, http.StatusAccepted, status, "%v", out)
	}
	yesAnsweredOnce(t, r, token, first[0].ID)

	lines, err := store.Transcript(context.Background(), eng.ID(bot.ChannelWebChat, r.chat.Address(token)))
	require.NoError(t, err)
	require.NotEmpty(t, lines)
	var yes int
	for _, l := range lines {
		if l.Text == "yes" {
			yes++
		}
	}
	assert.Equal(t, 1, yes, "the message is applied once")

	status, _ := r.do(t, "POST", "/chat/api/message", token, `{"text":"yes","id":"not-an-id"}`)
	assert.Equal(t, http.StatusBadRequest, status)
}

// yesAnsweredOnce sends "no" and checks that the chat, after the event
// with id after, shows the answer to "yes" once, then the answer to "no".
func yesAnsweredOnce(t *testing.T, r *rig, token, after string) {
	t.Helper()
	require.Equal(t, http.StatusAccepted, r.say(t, token, "no"))
	got := r.stream(t, token, after, 2)
	require.Len(t, got, 2)
	assert.Contains(t, got[0].Text, "Are you in danger right now?", "the answer to yes, once")
	assert.NotContains(t, got[1].Text, "Are you in danger right now?", "then the answer to no")
}

// failOnce fails the next Append of a bot reply once armed, as a Redis
// that timed out would.
type failOnce struct {
	webchat.Store
	armed atomic.Bool
}

func (f *failOnce) Append(ctx context.Context, hash string, e webchat.Event, ttl time.Duration, live bool) (string, error) {
	if e.From == "bot" && f.armed.CompareAndSwap(true, false) {
		return "", errors.New("i/o timeout")
	}
	return f.Store.Append(ctx, hash, e, ttl, live)
}

// failingRig serves the web chat on a store that fails when armed
// (failOnce).
func failingRig(t *testing.T) (*rig, *bot.Engine, *failOnce) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	eng := flowstest.Engine(t, memstore.New(func() time.Time { return now }), now)
	st := &failOnce{Store: webchat.NewMemStore(func() time.Time { return now })}
	return serveWith(t, eng, func(cfg *webchat.Config) { cfg.Store = st }), eng, st
}

// A reply the chat could not queue fails the request, so that the page
// sends the message again; the message is then answered, once.
func TestReplyNotQueuedIsSentAgain(t *testing.T) {
	r, _, st := failingRig(t)
	token := r.start(t)
	first := r.stream(t, token, "", 1)
	require.Len(t, first, 1)

	st.armed.Store(true)
	body := `{"text":"yes","id":"00112233445566778899aabbccddeeff"}`
	status, out := r.do(t, "POST", "/chat/api/message", token, body)
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", out)
	assert.Contains(t, out["error"], "call 999")
	status, out = r.do(t, "POST", "/chat/api/message", token, body)
	require.Equal(t, http.StatusAccepted, status, "%v", out)

	yesAnsweredOnce(t, r, token, first[0].ID)
}

// When the reply to DELETE could not be queued, the chat ends all the
// same: the tenant who asked for everything to go leaves no open chat
// behind (an officer's message could otherwise still be shown in it).
// The page's resend is told the chat has ended.
func TestDeleteWhoseReplyIsNotQueuedStillEndsTheChat(t *testing.T) {
	r, eng, st := failingRig(t)
	token := r.start(t)

	st.armed.Store(true)
	body := `{"text":"DELETE","id":"ffeeddccbbaa99887766554433221100"}`
	status, out := r.do(t, "POST", "/chat/api/message", token, body)
	require.Equal(t, http.StatusServiceUnavailable, status, "%v", out)
	status, out = r.do(t, "POST", "/chat/api/message", token, body)
	require.Equal(t, http.StatusNotFound, status, "%v", out)
	assert.Equal(t, "no_session", out["code"])
	c, err := eng.Conversation(context.Background(), eng.ID(bot.ChannelWebChat, r.chat.Address(token)))
	require.NoError(t, err)
	assert.Nil(t, c, "erased")
	assert.ErrorIs(t, r.chat.Push(context.Background(), eng.ID(bot.ChannelWebChat, r.chat.Address(token)), "slack:9", "Hello"), webchat.ErrNoSession,
		"an officer's message finds no open chat")
}

// conversationOf finds the session's conversation: the one the engine
// knows for a web chat address; the test reads it from the handoff path.
func conversationOf(t testing.TB, r *rig, token string) bot.ConversationID {
	// Send OFFICER to get a handoff event naming the conversation.
	require.Equal(t, http.StatusAccepted, r.say(t, token, "officer"))
	ev, ok := r.events.Last(bot.EventHandoff)
	require.True(t, ok, "no handoff event")
	return ev.Conversation
}

func TestSessionsAreIsolated(t *testing.T) {
	r := newRig(t, "")
	a, b := r.start(t), r.start(t)
	require.Equal(t, http.StatusAccepted, r.say(t, a, "yes"))
	evA := r.stream(t, a, "", 2)
	evB := r.stream(t, b, "", 1)
	require.Len(t, evA, 2)
	require.Len(t, evB, 1)
	assert.Contains(t, evA[1].Text, "Are you in danger")
	assert.Contains(t, evB[0].Text, "Is it safe", "b's conversation did not move")
	status, _ := r.do(t, "POST", "/chat/api/end", a, "")
	assert.Equal(t, http.StatusNoContent, status)
	assert.Equal(t, http.StatusNotFound, r.say(t, a, "hello"), "a's session is gone")
	assert.Equal(t, http.StatusAccepted, r.say(t, b, "yes"), "b's is not")
}

func TestEndErasesTheConversation(t *testing.T) {
	r := newRig(t, "")
	token := r.start(t)
	r.say(t, token, "yes")
	r.say(t, token, "no")
	status, _ := r.do(t, "POST", "/chat/api/end", token, "")
	require.Equal(t, http.StatusNoContent, status)
	assert.Contains(t, r.events.Kinds(), bot.EventExited)
	status, _ = r.do(t, "POST", "/chat/api/end", token, "")
	assert.Equal(t, http.StatusNotFound, status)
}

// follow opens the chat's event stream as the page does, and returns
// what reads its next event.
func (r *rig) follow(t *testing.T, token string) func() event {
	req, _ := http.NewRequest("GET", r.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	sc := bufio.NewScanner(resp.Body)
	return func() event {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e event
				require.NoError(t, json.Unmarshal([]byte(data), &e))
				return e
			}
		}
		t.Fatal("the stream ended without an end event")
		return event{}
	}
}

func TestExitWordEndsTheSession(t *testing.T) {
	r := newRig(t, "")
	token := r.start(t)
	// The page is reading its events when the tenant sends X.
	next := r.follow(t, token)
	assert.Contains(t, next().Text, "Is it safe")
	assert.Equal(t, http.StatusAccepted, r.say(t, token, "x"))
	assert.Equal(t, "end", next().From, "the open page is told the chat ended")
	assert.Equal(t, http.StatusNotFound, r.say(t, token, "hello"))
}

func TestRefused(t *testing.T) {
	r := newRig(t, "", 8, 2)
	token := r.start(t)
	cases := []struct {
		name, token, body string
		status            int
	}{
		{"no token", "", `{"text":"hi"}`, http.StatusUnauthorized},
		{"unknown session", "not-a-session", `{"text":"hi"}`, http.StatusNotFound},
		{"malformed JSON", token, `{"text":`, http.StatusBadRequest},
		{"unknown field", token, `{"txt":"hi"}`, http.StatusBadRequest},
		{"empty", token, `{"text":"  "}`, http.StatusBadRequest},
		{"too long", token, `{"text":"` + strings.Repeat("a", 1001) + `"}`, http.StatusRequestEntityTooLarge},
		{"body too large", token, `{"text":"` + strings.Repeat("a", 9000) + `"}`, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, body := r.do(t, "POST", "/chat/api/message", c.token, c.body)
			assert.Equal(t, c.status, status)
			assert.NotEmpty(t, body["error"], "a JSON error")
		})
	}
	t.Run("message rate", func(t *testing.T) {
		var last int
		for range 8 {
			if last = r.say(t, token, "yes"); last == http.StatusTooManyRequests {
				break
			}
		}
		assert.Equal(t, http.StatusTooManyRequests, last)
	})
	t.Run("session rate", func(t *testing.T) {
		r.start(t) // the second of two a minute
		status, body := r.do(t, "POST", "/chat/api/session", "", "")
		assert.Equal(t, http.StatusTooManyRequests, status)
		assert.NotEmpty(t, body["error"])
	})
	t.Run("session rate is per client, behind a proxy", func(t *testing.T) {
		now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		chat, err := webchat.New(webchat.Config{Engine: r.engine, Secret: []byte("webchat-session-secret-0123456789"),
			SessionsPerMinute: 1, BehindProxy: true, Now: func() time.Time { return now }})
		require.NoError(t, err)
		post := func(lines ...string) int {
			req := httptest.NewRequest("POST", "/chat/api/session", nil)
			for _, l := range lines {
				req.Header.Add("X-Forwarded-For", l)
			}
			w := httptest.NewRecorder()
			chat.ServeHTTP(w, req)
			return w.Code
		}
		assert.Equal(t, http.StatusCreated, post("203.0.113.9, 198.51.100.1"))
		assert.Equal(t, http.StatusCreated, post("203.0.113.9, 198.51.100.2"), "another tenant behind the same proxy")
		assert.Equal(t, http.StatusTooManyRequests, post("203.0.113.9, 198.51.100.1"))
		// The client's own header in one line, the proxy's entry in
		// another: the proxy's counts.
		assert.Equal(t, http.StatusTooManyRequests, post("198.51.100.7", "198.51.100.1"), "the proxy's line is the last")
		assert.Equal(t, http.StatusCreated, post("198.51.100.1", "198.51.100.8"), "not the client's own line")
		// A proxy that writes the port: the same client on another port.
		assert.Equal(t, http.StatusCreated, post("198.51.100.3:4711"))
		assert.Equal(t, http.StatusTooManyRequests, post("198.51.100.3:4712"), "the port is not part of the client")
		assert.Equal(t, http.StatusCreated, post("[2001:db8::1]:4711"))
		assert.Equal(t, http.StatusTooManyRequests, post("[2001:db8::2]:4711"), "the same /64")
	})
	t.Run("unknown path", func(t *testing.T) {
		status, body := r.do(t, "GET", "/chat/api/nothing", "", "")
		assert.Equal(t, http.StatusNotFound, status)
		assert.NotEmpty(t, body["error"])
	})
	t.Run("Last-Event-ID not a number", func(t *testing.T) {
		req, _ := http.NewRequest("GET", r.URL+"/chat/api/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Last-Event-ID", "x")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
	})
}

func TestPushToNoSession(t *testing.T) {
	r := newRig(t, "")
	assert.ErrorIs(t, r.chat.Push(context.Background(), "nobody", "slack:2", "hi"), webchat.ErrNoSession)
}

func TestChoicesOnTheWire(t *testing.T) {
	eng := newScripted()
	r := serve(t, eng, "")
	token := r.start(t)
	first := r.streamRaw(t, token, "", 2)
	require.Len(t, first, 2)
	assert.JSONEq(t, `{"id":"0","from":"bot","text":"Hello.","lang":"en"}`, first[0], "no choices, no field")
	assert.JSONEq(t, `{"id":"1","from":"bot","text":"Is it safe for you to message now?","lang":"en",
		"choices":[{"label":"Yes","send":"Y"},{"label":"No","send":"N"}]}`, first[1])

	require.Equal(t, http.StatusAccepted, r.say(t, token, "Y"))
	menu := r.stream(t, token, "1", 1)
	require.Len(t, menu, 1)
	assert.Equal(t, []choice{{"North", "1"}, {"South", "2"}, {"East", "3"}, {scriptedLongLabel, "4"}}, menu[0].Choices, "in order")

	require.Equal(t, http.StatusAccepted, r.say(t, token, "2"))
	free := r.stream(t, token, menu[0].ID, 1)
	require.Len(t, free, 1)
	assert.Equal(t, "What happened?", free[0].Text)
	assert.Empty(t, free[0].Choices)

	// A page that reconnects from the start gets every choice again.
	again := r.stream(t, token, "", 4)
	require.Len(t, again, 4)
	assert.Equal(t, []choice{{"Yes", "Y"}, {"No", "N"}}, again[1].Choices)
	assert.Equal(t, menu[0].Choices, again[2].Choices)
	assert.Equal(t, []string{"", "Y", "2"}, eng.received())
}

func TestChoicesFromTheEngine(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	eng := &recording{Engine: flowstest.Engine(t, memstore.New(func() time.Time { return now }), now)}
	r := serve(t, eng, "")
	token := r.start(t)
	for _, text := range []string{"yes", "no", "1"} {
		require.Equal(t, http.StatusAccepted, r.say(t, token, text))
	}
	replies := eng.replies()
	got := r.stream(t, token, "", len(replies))
	require.Len(t, got, len(replies))
	offered := false
	for i, rep := range replies {
		var want []choice
		for _, c := range rep.Choices {
			want = append(want, choice{c.Label, c.Send})
		}
		assert.Equal(t, rep.Text, got[i].Text)
		assert.Equal(t, want, got[i].Choices, "reply %d: the engine's choices, in order", i)
		offered = offered || len(want) > 0
	}
	if !offered {
		t.Log("the engine offered no choices in these turns")
		return
	}
	// The first question is a yes/no one.
	assert.Equal(t, []choice{{"Yes", "Y"}, {"No", "N"}}, got[0].Choices)
}

// recording is an engine that remembers every reply it gave.
type recording struct {
	*bot.Engine
	mu   sync.Mutex
	list []bot.Reply
}

func (e *recording) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	res, err := e.Engine.Handle(ctx, in)
	e.mu.Lock()
	e.list = append(e.list, res.Replies...)
	e.mu.Unlock()
	return res, err
}

func (e *recording) replies() []bot.Reply {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// scriptedLongLabel is a choice label long enough to need wrapping on a
// narrow screen.
const scriptedLongLabel = "Somewhere else, or I would rather not say where I live"

// scripted is a small engine whose questions offer choices: a greeting and
// a yes/no question, then an area menu, then a question answered in words.
// CYMRAEG at the first question asks it again in Welsh.
type scripted struct {
	mu    sync.Mutex
	step  map[string]int                // by address
	lang  map[bot.ConversationID]string // "cy" once switched
	texts []string                      // every message received, in order
}

var _ webchat.Engine = (*scripted)(nil)

func newScripted() *scripted {
	return &scripted{step: map[string]int{}, lang: map[bot.ConversationID]string{}}
}

var yesNo = []bot.Choice{{Label: "Yes", Send: "Y"}, {Label: "No", Send: "N"}}

func (e *scripted) Handle(_ context.Context, in bot.Inbound) (bot.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.texts = append(e.texts, in.Text)
	res := bot.Result{Conversation: e.ID(in.Channel, in.Address)}
	safe := bot.Reply{Text: "Is it safe for you to message now?", Choices: yesNo}
	switch step := e.step[in.Address]; {
	case step == 0:
		res.Replies = []bot.Reply{{Text: "Hello."}, safe}
		e.step[in.Address] = 1
	case step == 1 && in.Text == "cymraeg":
		e.lang[res.Conversation] = "cy"
		res.Replies = []bot.Reply{{Text: "Ydy hi'n ddiogel i chi anfon neges nawr?", Choices: []bot.Choice{{Label: "Ydy", Send: "Y"}, {Label: "Nac ydy", Send: "N"}}}}
	case step == 1 && in.Text == "Y":
		res.Replies = []bot.Reply{{Text: "Which area are you in? Reply 1, 2, 3 or 4.", Choices: []bot.Choice{
			{Label: "North", Send: "1"}, {Label: "South", Send: "2"}, {Label: "East", Send: "3"}, {Label: scriptedLongLabel, Send: "4"},
		}}}
		e.step[in.Address] = 2
	case step == 1:
		res.Replies = []bot.Reply{safe}
	case step == 2:
		res.Replies = []bot.Reply{{Text: "What happened?"}}
		e.step[in.Address] = 3
	default:
		res.Replies = []bot.Reply{{Text: "Thank you."}}
	}
	return res, nil
}

func (e *scripted) Erase(_ context.Context, ch bot.Channel, address string) (bot.Result, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.step, address)
	id := e.ID(ch, address)
	delete(e.lang, id)
	return bot.Result{Conversation: id, Events: []bot.Event{{Kind: bot.EventExited, Conversation: id, Channel: ch}}}, nil
}

func (e *scripted) Conversation(_ context.Context, id bot.ConversationID) (*bot.Conversation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	lang := e.lang[id]
	if lang == "" {
		lang = "en"
	}
	return &bot.Conversation{Channel: bot.ChannelWebChat, Lang: lang}, nil
}

func (e *scripted) ID(ch bot.Channel, address string) bot.ConversationID {
	return bot.ConversationID(string(ch) + ":" + address)
}

func (e *scripted) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.texts)
}
