// Package slackfake is a local Slack Web API server for tests: it answers
// the methods safecontact calls, records every call, and can be told to
// fail (429 with Retry-After, 500) to test retries. It also signs requests
// the way Slack does, for tests of the endpoints that receive them.
package slackfake

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
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
	Method string     // "chat.postMessage"
	Form   url.Values // channel, text, blocks, thread_ts, ts, user…
	// TS is the timestamp the server gave a posted message.
	TS string
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
	// holds the envelope ids it acknowledged.
	sock      *websocket.Conn
	connected chan struct{}
	acks      map[string]bool
	// fail, when set, is asked for each call; a status other than 0
	// fails it with that status (429 carries Retry-After: 1).
	fail func(method string) int
}

// New starts a server, closed when the test ends.
func New(t testing.TB) *Server {
	s := &Server{connected: make(chan struct{}), acks: map[string]bool{}}
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
	method := strings.TrimPrefix(r.URL.Path, "/api/")
	if err := r.ParseForm(); err != nil {
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
	s.n++
	ts := fmt.Sprintf("1764500000.%06d", s.n)
	call := Call{Method: method, Form: r.Form, TS: ts}
	s.calls = append(s.calls, call)
	s.mu.Unlock()

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
	case "reactions.add":
	default:
		resp = map[string]any{"ok": false, "error": "unknown_method"}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(resp)
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
			EnvelopeID string `json:"envelope_id"`
		}
		if err := conn.ReadJSON(&ack); err != nil {
			return
		}
		s.mu.Lock()
		s.acks[ack.EnvelopeID] = true
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
		"type": kind, "envelope_id": id, "payload": json.RawMessage(payload), "accepts_response_payload": false,
	})
}

// Acked reports whether the app acknowledged the envelope.
func (s *Server) Acked(id string) bool {
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
	action := map[string]any{"action_id": actionID, "block_id": "actions", "type": "button", "value": value}
	if actionID == "close" {
		action = map[string]any{
			"action_id": actionID, "block_id": "actions", "type": "static_select",
			"selected_option": map[string]any{"value": value, "text": map[string]any{"type": "plain_text", "text": value}},
		}
	}
	b, _ := json.Marshal(map[string]any{
		"type":      "block_actions",
		"user":      map[string]any{"id": user},
		"channel":   map[string]any{"id": channel},
		"container": map[string]any{"type": "message", "message_ts": messageTS, "channel_id": channel},
		"message":   map[string]any{"ts": messageTS},
		"actions":   []any{action},
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
