// Package slackfake is a local Slack Web API server for tests: it answers
// the methods safecontact calls, records every call, and can be told to
// fail (429 with Retry-After, 500, Slack's error codes) or to limit posts
// per channel as Slack does, to test retries. It also signs requests
// the way Slack does, for tests of the endpoints that receive them.
package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// BotUserID is the bot's own user id, as auth.test reports it.
const BotUserID = "UBOT"

// Call is one recorded API call.
type Call struct {
	Method string // "chat.postMessage"
	// Form is the call's form (channel, text, blocks, thread_ts, ts,
	// user…), or the top-level fields of a JSON call, each as its JSON
	// text unless it is a string (views.open: trigger_id, view).
	Form url.Values
	// TS is the timestamp the server gave a posted message; ViewID the
	// id it gave an opened view.
	TS, ViewID string
	// At is when the server took the call, by its clock (RateLimit).
	At time.Time
}

// Channel, Text, ThreadTS and Blocks read the call's form.
func (c Call) Channel() string  { return c.Form.Get("channel") }
func (c Call) Text() string     { return c.Form.Get("text") }
func (c Call) ThreadTS() string { return c.Form.Get("thread_ts") }
func (c Call) Blocks() string   { return c.Form.Get("blocks") }

// Server is the fake Slack API.
type Server struct {
	*httptest.Server
	mu    sync.Mutex
	calls []Call
	n     int
	// sock is the Socket Mode connection, once the app opened it; acks
	// holds the envelope ids it acknowledged, with the payload of each
	// acknowledgement (null when none).
	sock      *websocket.Conn
	connected chan struct{}
	acks      map[string]json.RawMessage
	// run sets this server's view ids apart from other servers'.
	run string
	// fail, when set, is asked for each call; a status other than 0
	// fails it with that status (429 carries Retry-After: 1).
	fail func(method string) int
	// lose, when set, is asked after each call is done: true loses its
	// answer (a 502), as when Slack's answer never arrives.
	lose func(method string) bool
	// refuse, when set, is asked for each call; an error code other than
	// "" answers it with that error, as Slack does ({"ok": false}).
	refuse func(method string) string
	// every is the least time between two posts in one channel, by now;
	// posted holds each channel's last post.
	every  time.Duration
	now    func() time.Time
	posted map[string]time.Time
}

// RateLimit makes the server take one chat.postMessage a channel every
// per, by the clock now (time.Now when nil), as Slack does (one a
// second): a post sooner is answered 429 with a Retry-After of the
// seconds until the next is taken, rounded up. Zero per lifts the limit.
func (s *Server) RateLimit(per time.Duration, now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now == nil {
		now = time.Now
	}
	s.every, s.now, s.posted = per, now, map[string]time.Time{}
}

// Refuse makes the server ask f before answering each call: an error
// code other than "" (such as "is_archived") answers it with Slack's
// {"ok": false, "error": code}.
func (s *Server) Refuse(f func(method string) string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuse = f
}

// clock is the server's time: RateLimit's clock, or time.Now.
func (s *Server) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

// LoseAnswers makes the server ask f after doing each call: true answers
// 502 although the call was done (a message posted stays posted).
func (s *Server) LoseAnswers(f func(method string) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lose = f
}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{connected: make(chan struct{}), acks: map[string]json.RawMessage{}, run: strings.ToUpper(strconv.FormatInt(rand.Int64(), 36))}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// APIURL is the URL to give slack-go (slack.OptionAPIURL).
func (s *Server) APIURL() string { return s.URL + "/api/" }

// FailWith makes the server ask f before answering each call: a status
// other than 0 fails the call with it.
func (s *Server) FailWith(f func(method string) int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = f
}

// Calls returns the successful calls of the method ("" for all), in order.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/socket" {
		s.socket(w, r)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/response/") {
		s.response(w, r)
		return
	}
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := parse(r); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	if s.fail != nil {
		if status := s.fail(method); status != 0 {
			s.mu.Unlock()
			if status == http.StatusTooManyRequests {
				w.Header().Set("Retry-After", "1")
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
	}
	if s.refuse != nil {
		if code := s.refuse(method); code != "" {
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]any{"ok": false, "error": code})
			return
		}
	}
	now := s.clock()
	if method == "chat.postMessage" && s.every > 0 {
		ch := r.Form.Get("channel")
		if last, ok := s.posted[ch]; ok && now.Sub(last) < s.every {
			s.mu.Unlock()
			wait := (s.every - now.Sub(last) + time.Second - 1) / time.Second
			w.Header().Set("Retry-After", strconv.Itoa(int(max(wait, 1))))
			http.Error(w, http.StatusText(http.StatusTooManyRequests), http.StatusTooManyRequests)
			return
		}
		s.posted[ch] = now
	}
	s.n++
	ts := fmt.Sprintf("1764500000.%06d", s.n)
	call := Call{Method: method, Form: r.Form, TS: ts, At: now}
	if method == "views.open" {
		// Unique across servers, as Slack's are: a test's Redis may
		// remember another test's view ids.
		call.ViewID = fmt.Sprintf("V%s%06d", s.run, s.n)
	}
	s.calls = append(s.calls, call)
	lost := s.lose != nil && s.lose(method)
	s.mu.Unlock()
	if lost {
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}

	resp := map[string]any{"ok": true}
	switch method {
	case "auth.test":
		resp["user_id"], resp["user"], resp["team_id"] = BotUserID, "safecontact", "T1"
	case "chat.postMessage", "chat.update":
		if method == "chat.update" {
			ts = call.Form.Get("ts")
		}
		resp["channel"], resp["ts"] = call.Channel(), ts
		resp["message"] = map[string]any{"ts": ts, "text": call.Text()}
	case "chat.postEphemeral":
		resp["message_ts"] = ts
	case "chat.getPermalink":
		resp["channel"] = call.Channel()
		resp["permalink"] = "https://example.slack.com/archives/" + call.Channel() + "/p" + strings.ReplaceAll(call.Form.Get("message_ts"), ".", "")
	case "apps.connections.open":
		resp["url"] = "ws" + strings.TrimPrefix(s.URL, "http") + "/socket"
	case "views.open":
		var view map[string]any
		if call.Form.Get("trigger_id") == "" || json.Unmarshal([]byte(call.Form.Get("view")), &view) != nil {
			resp = map[string]any{"ok": false, "error": "invalid_arguments"}
			break
		}
		view["id"], view["team_id"], view["hash"] = call.ViewID, "T1", "hash-"+call.ViewID
		resp["view"] = view
	case "conversations.history", "conversations.replies":
		resp["messages"], resp["has_more"] = s.messages(call.Channel(), call.Form.Get("ts")), false
	case "reactions.add":
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
}

// messages is what conversations.history (thread "") or
// conversations.replies (the thread's parent and its replies) return:
// the posted messages with their metadata, newest first.
func (s *Server) messages(channel, thread string) []map[string]any {
	var out []map[string]any
	for _, c := range s.Calls("chat.postMessage") {
		if c.Channel() != channel {
			continue
		}
		if thread == "" && c.ThreadTS() != "" || thread != "" && c.ThreadTS() != thread && c.TS != thread {
			continue
		}
		m := map[string]any{"type": "message", "ts": c.TS, "text": c.Text()}
		if c.ThreadTS() != "" {
			m["thread_ts"] = c.ThreadTS()
		}
		if md := c.Form.Get("metadata"); md != "" {
			var v any
			if json.Unmarshal([]byte(md), &v) == nil {
				m["metadata"] = v
			}
		}
		out = append([]map[string]any{m}, out...)
	}
	return out
}

// parse reads a call's arguments into r.Form: a form, or a JSON object
// (slack-go posts views.open as JSON).
func parse(r *http.Request) error {
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		return r.ParseForm()
	}
	var args map[string]json.RawMessage
	if err := json.NewDecoder(r.Body).Decode(&args); err != nil && !errors.Is(err, io.EOF) {
		return err // an empty body (apps.connections.open) has no arguments
	}
	r.Form = url.Values{}
	for k, v := range args {
		var str string
		if json.Unmarshal(v, &str) == nil {
			r.Form.Set(k, str)
		} else {
			r.Form.Set(k, string(v))
		}
	}
	return nil
}

// response records a message posted to an interaction's response_url,
// as a call of the method "response_url" with its text and
// response_type.
func (s *Server) response(w http.ResponseWriter, r *http.Request) {
	var msg struct {
		Text         string `json:"text"`
		ResponseType string `json:"response_type"`
	}
	if err := json.NewDecoder(r.Body).Decode(&msg); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.n++
	s.calls = append(s.calls, Call{Method: "response_url", Form: url.Values{
		"text": {msg.Text}, "response_type": {msg.ResponseType}, "response_url": {s.URL + r.URL.Path},
	}})
	s.mu.Unlock()
	w.Write([]byte("ok"))
}

// ResponseURL is an interaction's response_url on this server: what the
// app posts there is recorded as a "response_url" call.
func (s *Server) ResponseURL(id string) string { return s.URL + "/response/" + id }

// View is a modal the app opened with views.open.
type View struct {
	ID, TriggerID, CallbackID, PrivateMetadata string
	// JSON is the view as the app sent it.
	JSON string
}

// Views returns the views opened, in order.
func (s *Server) Views() []View {
	var out []View
	for _, c := range s.Calls("views.open") {
		var v struct {
			CallbackID      string `json:"callback_id"`
			PrivateMetadata string `json:"private_metadata"`
		}
		json.Unmarshal([]byte(c.Form.Get("view")), &v)
		out = append(out, View{ID: c.ViewID, TriggerID: c.Form.Get("trigger_id"), CallbackID: v.CallbackID,
			PrivateMetadata: v.PrivateMetadata, JSON: c.Form.Get("view")})
	}
	return out
}

// socket is Socket Mode's WebSocket: it says hello, then records the
// envelope ids the app acknowledges.
func (s *Server) socket(w http.ResponseWriter, r *http.Request) {
	// slack-go sends Origin: https://api.slack.com; accept it.
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	if err := conn.WriteJSON(map[string]any{"type": "hello", "num_connections": 1}); err != nil {
		conn.Close()
		return
	}
	s.mu.Lock()
	first := s.sock == nil
	s.sock = conn
	s.mu.Unlock()
	if first {
		close(s.connected)
	}
	for {
		var ack struct {
			EnvelopeID string          `json:"envelope_id"`
			Payload    json.RawMessage `json:"payload"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		if ack.Payload == nil {
			ack.Payload = json.RawMessage("null")
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = ack.Payload
		s.mu.Unlock()
	}
}

// Connected is closed once the app opened its Socket Mode connection.
func (s *Server) Connected() <-chan struct{} { return s.connected }

// SendSocket sends a Socket Mode envelope ("interactive" or "events_api")
// with the payload, and returns its envelope id.
func (s *Server) SendSocket(kind string, payload []byte) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sock == nil {
		return "", fmt.Errorf("slackfake: no Socket Mode connection")
	}
	s.n++
	id := fmt.Sprintf("env-%d", s.n)
	return id, s.sock.WriteJSON(map[string]any{
		"type": kind, "envelope_id": id, "payload": json.RawMessage(payload), "accepts_response_payload": kind == "interactive",
	})
}

// Acked reports whether the app acknowledged the envelope.
func (s *Server) Acked(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[id] != nil
}

// AckPayload is the payload the app acknowledged the envelope with:
// "null" when none, nil when it has not acknowledged it.
func (s *Server) AckPayload(id string) json.RawMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acks[id]
}

// Sign returns the headers Slack sends with a request: the timestamp and
// the v0 signature of the body with the signing secret.
func Sign(secret string, body []byte, at time.Time) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(mac, "v0:%s:%s", ts, body)
	h := http.Header{}
	h.Set("X-Slack-Request-Timestamp", ts)
	h.Set("X-Slack-Signature", "v0="+hex.EncodeToString(mac.Sum(nil)))
	return h
}

// BlockAction is the interaction request Slack sends when a user presses
// a button (or picks an option) on a message: a form with the payload.
func BlockAction(user, channel, messageTS, actionID, value string) []byte {
	return []byte(url.Values{"payload": {string(BlockActionPayload(user, channel, messageTS, actionID, value))}}.Encode())
}

// BlockActionPayload is a button press's payload, as Socket Mode carries it.
func BlockActionPayload(user, channel, messageTS, actionID, value string) []byte {
	return blockAction(user, channel, messageTS, map[string]any{"action_id": actionID, "block_id": "actions", "type": "button", "value": value})
}

// Select is the interaction request Slack sends when a user picks an
// option of a static select on a message.
func Select(user, channel, messageTS, actionID, value string) []byte {
	return form(blockAction(user, channel, messageTS, map[string]any{
		"action_id": actionID, "block_id": "manage", "type": "static_select",
		"selected_option": map[string]any{"value": value, "text": map[string]any{"type": "plain_text", "text": value}},
	}))
}

// PickUser is the interaction request Slack sends when a user picks
// someone in a users select on a message.
func PickUser(user, channel, messageTS, actionID, picked string) []byte {
	return form(blockAction(user, channel, messageTS, map[string]any{
		"action_id": actionID, "block_id": "manage", "type": "users_select", "selected_user": picked,
	}))
}

func form(payload []byte) []byte {
	return []byte(url.Values{"payload": {string(payload)}}.Encode())
}

func blockAction(user, channel, messageTS string, action map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{
		"type":       "block_actions",
		"trigger_id": "trigger." + messageTS + "." + user + "." + fmt.Sprint(action["action_id"]),
		"user":       map[string]any{"id": user},
		"channel":    map[string]any{"id": channel},
		"container":  map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel},
		"message":    map[string]any{"ts": messageTS},
		"actions":    []any{action},
	})
	return b
}

// MessageEvent is the Events API callback for a message posted in a
// thread.
func MessageEvent(eventID, user, channel, threadTS, ts, text string) []byte {
	b, _ := json.Marshal(map[string]any{
		"type": "event_callback", "team_id": "T1", "api_app_id": "A1", "event_id": eventID,
		"event_time": time.Now().Unix(),
		"event": map[string]any{
			"type": "message", "user": user, "channel": channel, "channel_type": "channel",
			"text": text, "ts": ts, "thread_ts": threadTS, "event_ts": ts,
		},
	})
	return b
}

// ViewSubmission is the interaction request Slack sends when a user
// submits a modal: values holds each input block's elements' values, by
// block id, then action id.
func ViewSubmission(user, viewID, callbackID, privateMetadata string, values map[string]map[string]string) []byte {
	return []byte(url.Values{"payload": {string(ViewSubmissionPayload(user, viewID, callbackID, privateMetadata, values))}}.Encode())
}

// ViewSubmissionPayload is a modal submission's payload, as Socket Mode
// carries it.
func ViewSubmissionPayload(user, viewID, callbackID, privateMetadata string, values map[string]map[string]string) []byte {
	return submission(user, viewID, callbackID, privateMetadata, values, nil)
}

// Submit is the interaction request Slack sends when a user submits the
// view: typed holds the text inputs' values and chosen the options picked
// in selects, each by block id, then action id.
func Submit(user string, v View, typed, chosen map[string]map[string]string) []byte {
	return []byte(url.Values{"payload": {string(submission(user, v.ID, v.CallbackID, v.PrivateMetadata, typed, chosen))}}.Encode())
}

func submission(user, viewID, callbackID, privateMetadata string, typed, chosen map[string]map[string]string) []byte {
	state := map[string]map[string]any{}
	put := func(block, action string, v any) {
		if state[block] == nil {
			state[block] = map[string]any{}
		}
		state[block][action] = v
	}
	for block, actions := range typed {
		for action, v := range actions {
			put(block, action, map[string]any{"type": "plain_text_input", "value": v})
		}
	}
	for block, actions := range chosen {
		for action, v := range actions {
			put(block, action, map[string]any{"type": "static_select",
				"selected_option": map[string]any{"value": v, "text": map[string]any{"type": "plain_text", "text": v}}})
		}
	}
	b, _ := json.Marshal(map[string]any{
		"type": "view_submission", "team": map[string]any{"id": "T1"}, "api_app_id": "A1",
		"user":       map[string]any{"id": user, "team_id": "T1"},
		"trigger_id": "trigger.submit." + viewID,
		"view": map[string]any{
			"id": viewID, "team_id": "T1", "type": "modal", "callback_id": callbackID,
			"private_metadata": privateMetadata, "hash": "hash-" + viewID,
			"state": map[string]any{"values": state},
		},
		"response_urls": []any{},
	})
	return b
}

// Message is a message in a channel, as a message shortcut's payload
// carries it.
type Message struct {
	User, TS, ThreadTS, Text string
}

// MessageAction is the interaction request Slack sends when a user picks
// the app's message shortcut (callback id) on a message in the channel.
// Its response_url points at this server.
func (s *Server) MessageAction(user, channel, callbackID string, m Message) []byte {
	return []byte(url.Values{"payload": {string(s.MessageActionPayload(user, channel, callbackID, m))}}.Encode())
}

// MessageActionPayload is a message shortcut's payload, as Socket Mode
// carries it.
func (s *Server) MessageActionPayload(user, channel, callbackID string, m Message) []byte {
	msg := map[string]any{"type": "message", "user": m.User, "ts": m.TS, "text": m.Text}
	if m.ThreadTS != "" {
		msg["thread_ts"] = m.ThreadTS
	}
	b, _ := json.Marshal(map[string]any{
		"type": "message_action", "callback_id": callbackID, "team": map[string]any{"id": "T1"},
		"trigger_id":   "trigger." + m.TS + "." + user + "." + callbackID,
		"response_url": s.ResponseURL(strings.ReplaceAll(m.TS, ".", "") + "-" + user),
		"user":         map[string]any{"id": user, "team_id": "T1"},
		"channel":      map[string]any{"id": channel},
		"message":      msg, "message_ts": m.TS, "action_ts": m.TS,
	})
	return b
}
