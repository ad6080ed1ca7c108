// Package webchat is the web chat channel: a page at /chat/ and its API at
// /chat/api/, for tenants who find the landlord's website first, often on a
// shared or watched device.
//
// The page keeps nothing: no cookies, no storage, no service worker, no
// cache, no referrer, no request to anywhere but this server. A session
// is an unguessable token the page holds in memory only; the conversation
// is keyed by a keyed hash of it, so the store never sees the token. The
// quick exit (a button, or Shift three times) hides the page at once,
// erases the session and replaces the page with a neutral site, so Back
// does not return to it. The browser's history may still list the visit,
// and the page says so, with how to clear it.
//
// A bot message whose question takes set answers (yes or no, a numbered
// menu) carries them as choices, which the page offers as buttons under
// it; pressing one sends its text as if typed, and typing still works.
//
// Live sessions are held in this process's memory: a restart ends them
// (the page says so and offers to start again), and with several serve
// processes a session must stay on the process that started it. The
// conversation itself is in the engine's store.
package webchat

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Engine is what the web chat needs of the dialogue engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) (bot.Result, error)
	Erase(ctx context.Context, ch bot.Channel, address string) (bot.Result, error)
	Conversation(ctx context.Context, id bot.ConversationID) (*bot.Conversation, error)
	ID(ch bot.Channel, address string) bot.ConversationID
}

// Config configures the web chat.
type Config struct {
	Engine Engine
	Sink   bot.Sink
	// Secret keys the hash from session token to conversation address.
	Secret []byte
	// ExitURL is where the quick exit goes; default BBC Weather.
	ExitURL string
	// FrameAncestors lists the sites that may embed the chat in a frame
	// (the landlord's own site), for the Content-Security-Policy; none by
	// default.
	FrameAncestors []string
	// SessionIdle ends a session nobody has used for this long; default 1h.
	SessionIdle time.Duration
	// TurnTimeout bounds one engine turn; default 5s.
	TurnTimeout time.Duration
	// Rate limits: messages per session and new sessions per client
	// address, each per minute; defaults 30 and 20.
	MessagesPerMinute, SessionsPerMinute int
	// BehindProxy takes the client's address for the new-session limit
	// from the last entry of X-Forwarded-For, as one reverse proxy in front
	// sets it; otherwise every tenant would share the proxy's address.
	BehindProxy bool
	Now         func() time.Time
	Log         *slog.Logger
}

// DefaultExitURL is a neutral page that loads fast on a phone.
const DefaultExitURL = "https://www.bbc.co.uk/weather"

// maxBody is the largest API request body: a message of 1,000 characters
// of any script, with room for JSON.
const maxBody = 8 << 10

// maxText is the longest message, in characters.
const maxText = 1000

//go:embed static
var static embed.FS

// Server serves the web chat. Mount it at /chat/.
type Server struct {
	cfg    Config
	page   *template.Template
	csp    string
	mux    *http.ServeMux
	starts *limiter // new sessions per client address

	mu       sync.Mutex
	sessions map[string]*session             // by token hash
	byConv   map[bot.ConversationID]*session // for Push

	// closing is closed by Shutdown: open event streams end at once.
	closing  chan struct{}
	shutdown sync.Once
}

// Shutdown ends every open event stream at once, without an end event,
// rather than keep the server waiting for streams that never end by
// themselves. The pages try to reconnect; sessions live in this process's
// memory, so a chat it held is then offered a fresh start. Register it
// with http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.shutdown.Do(func() { close(s.closing) }) }

// New returns the web chat server.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, errors.New("webchat: no engine")
	}
	if len(cfg.Secret) < 16 {
		return nil, errors.New("webchat: the secret must be at least 16 bytes")
	}
	if cfg.ExitURL == "" {
		cfg.ExitURL = DefaultExitURL
	}
	if !strings.HasPrefix(cfg.ExitURL, "https://") && !strings.HasPrefix(cfg.ExitURL, "http://") {
		return nil, fmt.Errorf("webchat: exit URL %q: want an http(s) URL", cfg.ExitURL)
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = time.Hour
	}
	if cfg.TurnTimeout <= 0 {
		cfg.TurnTimeout = 5 * time.Second
	}
	if cfg.MessagesPerMinute <= 0 {
		cfg.MessagesPerMinute = 30
	}
	if cfg.SessionsPerMinute <= 0 {
		cfg.SessionsPerMinute = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	page, err := template.ParseFS(static, "static/index.html")
	if err != nil {
		return nil, err
	}
	ancestors := "'none'"
	if len(cfg.FrameAncestors) > 0 {
		ancestors = strings.Join(cfg.FrameAncestors, " ")
	}
	s := &Server{
		cfg: cfg, page: page, mux: http.NewServeMux(),
		csp: "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
			"base-uri 'none'; form-action 'none'; frame-ancestors " + ancestors,
		starts:   newLimiter(cfg.SessionsPerMinute, cfg.Now),
		sessions: map[string]*session{},
		byConv:   map[bot.ConversationID]*session{},
		closing:  make(chan struct{}),
	}
	s.mux.HandleFunc("GET /chat/{$}", s.index)
	s.mux.Handle("GET /chat/static/", http.StripPrefix("/chat/", http.FileServerFS(static)))
	s.mux.HandleFunc("POST /chat/api/session", s.start)
	s.mux.HandleFunc("POST /chat/api/message", s.message)
	s.mux.HandleFunc("GET /chat/api/events", s.events)
	s.mux.HandleFunc("POST /chat/api/end", s.end)
	s.mux.HandleFunc("/chat/", func(w http.ResponseWriter, r *http.Request) { jsonError(w, http.StatusNotFound, "not found") })
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", s.csp)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
	if len(s.cfg.FrameAncestors) == 0 {
		h.Set("X-Frame-Options", "DENY")
	}
	s.mux.ServeHTTP(w, r)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	s.page.Execute(w, struct{ ExitURL string }{s.cfg.ExitURL})
}

// A session is one open chat.
type session struct {
	hash    string // of the token; the key in Server.sessions
	address string // the conversation's address in the engine
	conv    bot.ConversationID
	limit   *limiter

	mu      sync.Mutex
	events  []event       // sent so far, for reconnects; at most maxEvents
	next    int           // id of the next event
	wake    chan struct{} // closed and replaced when an event is added
	lastUse time.Time
	turn    sync.Mutex // one turn at a time, in order
}

// event is one message to the page, one Server-Sent Event's data.
type event struct {
	ID   int    `json:"id"`
	From string `json:"from"` // "bot", "officer", or "end" when the chat ended
	Text string `json:"text"`
	Lang string `json:"lang"`
	// Choices are the answers a bot message's question takes, in order,
	// which the page offers as buttons; absent when there are none.
	Choices []choice `json:"choices,omitempty"`
}

// choice is one answer the page offers as a button: Label is its text,
// and Send what pressing it sends, as if the tenant had typed it.
type choice struct {
	Label string `json:"label"`
	Send  string `json:"send"`
}

// choicesOf returns a reply's choices for the page, leaving out any that
// lack a label or the text to send.
func choicesOf(rep bot.Reply) []choice {
	var out []choice
	for _, c := range rep.Choices {
		if strings.TrimSpace(c.Label) != "" && strings.TrimSpace(c.Send) != "" {
			out = append(out, choice{Label: c.Label, Send: c.Send})
		}
	}
	return out
}

const maxEvents = 200

func (ss *session) add(e event) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e.ID = ss.next
	ss.events = append(ss.events, e)
	ss.next++
	if len(ss.events) > maxEvents {
		ss.events = ss.events[len(ss.events)-maxEvents:]
	}
	close(ss.wake)
	ss.wake = make(chan struct{})
}

// since returns the events after id, and a channel closed when more come.
func (ss *session) since(id int) ([]event, <-chan struct{}) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	var out []event
	for _, e := range ss.events {
		if e.ID > id {
			out = append(out, e)
		}
	}
	return out, ss.wake
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

// address derives the conversation's address from the token: only the
// page that holds the token can reach the conversation.
func (s *Server) address(token string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("webchat address\x00" + token))
	return "web:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// session returns the caller's session from the Authorization header, or
// writes 401 or 404.
func (s *Server) session(w http.ResponseWriter, r *http.Request) *session {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		jsonError(w, http.StatusUnauthorized, "no session token")
		return nil
	}
	s.mu.Lock()
	ss := s.sessions[hashToken(token)]
	s.mu.Unlock()
	if ss == nil {
		jsonError(w, http.StatusNotFound, "no such session: it ended, or the service restarted. Start again.")
		return nil
	}
	ss.mu.Lock()
	ss.lastUse = s.cfg.Now()
	ss.mu.Unlock()
	return ss
}

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	if !s.starts.allow(s.clientIP(r)) {
		w.Header().Set("Retry-After", "60")
		jsonError(w, http.StatusTooManyRequests, "too many new chats from here; wait a minute")
		return
	}
	var req struct {
		Lang string `json:"lang"`
	}
	if !readJSON(w, r, &req, true) {
		return
	}
	s.sweep()
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	addr := s.address(token)
	ss := &session{
		hash: hashToken(token), address: addr, conv: s.cfg.Engine.ID(bot.ChannelWebChat, addr),
		limit: newLimiter(s.cfg.MessagesPerMinute, s.cfg.Now), wake: make(chan struct{}), lastUse: s.cfg.Now(),
	}
	s.mu.Lock()
	s.sessions[ss.hash] = ss
	s.byConv[ss.conv] = ss
	s.mu.Unlock()
	// The first turn asks the first question.
	if !s.turn(w, r, ss, "", req.Lang) {
		s.drop(ss)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	if !ss.limit.allow("") {
		w.Header().Set("Retry-After", "10")
		jsonError(w, http.StatusTooManyRequests, "too many messages; wait a moment")
		return
	}
	var req struct {
		Text string `json:"text"`
	}
	if !readJSON(w, r, &req, false) {
		return
	}
	req.Text = strings.TrimSpace(req.Text)
	if req.Text == "" {
		jsonError(w, http.StatusBadRequest, "the message is empty")
		return
	}
	if len([]rune(req.Text)) > maxText {
		jsonError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("the message is over %d characters", maxText))
		return
	}
	if s.turn(w, r, ss, req.Text, "") {
		writeJSON(w, http.StatusAccepted, map[string]bool{"ok": true})
	}
}

// turn runs one engine turn for the session and queues its replies.
func (s *Server) turn(w http.ResponseWriter, r *http.Request, ss *session, text, lang string) bool {
	ss.turn.Lock()
	defer ss.turn.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.TurnTimeout)
	defer cancel()
	var id [12]byte
	rand.Read(id[:])
	res, err := s.cfg.Engine.Handle(ctx, bot.Inbound{
		Channel: bot.ChannelWebChat, Address: ss.address, MessageID: hex.EncodeToString(id[:]), Text: text, Lang: lang,
	})
	if err != nil {
		s.cfg.Log.Error("webchat: turn failed", "conversation", ss.conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, "Sorry, something went wrong. Please send that again. In danger, call 999.")
		return false
	}
	lang = ""
	if c, err := s.cfg.Engine.Conversation(ctx, ss.conv); err == nil && c != nil {
		lang = c.Lang
	}
	for _, rep := range res.Replies {
		ss.add(event{From: "bot", Text: rep.Text, Lang: lang, Choices: choicesOf(rep)})
	}
	s.deliver(res.Events)
	for _, ev := range res.Events {
		if ev.Kind == bot.EventExited || ev.Kind == bot.EventOptedOut || ev.Kind == bot.EventErased {
			s.drop(ss)
			ss.add(event{From: "end", Lang: lang})
		}
	}
	return true
}

func (s *Server) deliver(events []bot.Event) {
	if s.cfg.Sink == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, ev := range events {
		if err := s.cfg.Sink.Deliver(ctx, ev); err != nil {
			s.cfg.Log.Error("webchat: event not delivered", "conversation", ev.Conversation, "event", string(ev.Kind), "err", err)
		}
	}
}

// events streams the session's messages as Server-Sent Events. The page
// reads them with fetch (so the token travels in a header, not the URL)
// and reconnects with Last-Event-ID; nothing is lost or repeated.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	last := -1
	if v := r.Header.Get("Last-Event-ID"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			jsonError(w, http.StatusBadRequest, "Last-Event-ID is not a number")
			return
		}
		last = n
	}
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
	heartbeat := time.NewTicker(25 * time.Second)
	defer heartbeat.Stop()
	for {
		evs, wake := ss.since(last)
		for _, e := range evs {
			data, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %d\ndata: %s\n\n", e.ID, data)
			last = e.ID
			if e.From == "end" {
				rc.Flush()
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.closing:
			return
		case <-wake:
		case <-heartbeat.C:
			io.WriteString(w, ": keep-alive\n\n")
		}
	}
}

// end erases the session's conversation: the quick exit. The page sends
// it with fetch keepalive and does not wait for the answer.
func (s *Server) end(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	s.drop(ss)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.TurnTimeout)
	defer cancel()
	res, err := s.cfg.Engine.Erase(ctx, bot.ChannelWebChat, ss.address)
	if err != nil {
		s.cfg.Log.Error("webchat: erase failed", "conversation", ss.conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, "could not erase; it expires on its own")
		return
	}
	s.deliver(res.Events)
	ss.add(event{From: "end"})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) drop(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss.hash)
	delete(s.byConv, ss.conv)
}

// sweep ends sessions idle for longer than SessionIdle.
func (s *Server) sweep() {
	cutoff := s.cfg.Now().Add(-s.cfg.SessionIdle)
	s.mu.Lock()
	defer s.mu.Unlock()
	for h, ss := range s.sessions {
		ss.mu.Lock()
		idle := ss.lastUse.Before(cutoff)
		ss.mu.Unlock()
		if idle {
			delete(s.sessions, h)
			delete(s.byConv, ss.conv)
		}
	}
}

// ErrNoSession is returned by Push when the tenant's chat is not open here.
var ErrNoSession = errors.New("webchat: no open chat for that conversation")

// Push shows an officer's message in the tenant's open chat, live.
func (s *Server) Push(_ context.Context, conv bot.ConversationID, text string) error {
	s.mu.Lock()
	ss := s.byConv[conv]
	s.mu.Unlock()
	if ss == nil {
		return ErrNoSession
	}
	ss.add(event{From: "officer", Text: text})
	return nil
}

// readJSON decodes a small JSON body. An empty body is allowed when
// emptyOK. It writes the error and returns false on failure.
func readJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) bool {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		jsonError(w, http.StatusRequestEntityTooLarge, "the request is too large")
		return false
	}
	if len(body) == 0 && emptyOK {
		return true
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		jsonError(w, http.StatusBadRequest, "the request is not valid JSON")
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

func (s *Server) clientIP(r *http.Request) string {
	if s.cfg.BehindProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// limiter allows n events per minute per key, in a sliding window of
// one-minute buckets.
type limiter struct {
	n   int
	now func() time.Time
	mu  sync.Mutex
	win map[string][]time.Time
}

func newLimiter(n int, now func() time.Time) *limiter {
	return &limiter{n: n, now: now, win: map[string][]time.Time{}}
}

func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.win[key][:0]
	for _, t := range l.win[key] {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.n {
		l.win[key] = kept
		return false
	}
	l.win[key] = append(kept, now)
	if len(l.win) > 10000 { // forget old keys rather than grow without end
		for k, ts := range l.win {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= time.Minute {
				delete(l.win, k)
			}
		}
	}
	return true
}
