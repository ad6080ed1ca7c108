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
// Live sessions, their events and the rate limits are kept by a Store:
// in this process's memory by default (a restart ends every chat), or in
// Redis (RedisStore), where any serve process answers any request of any
// chat. A restart or rolling deploy is then a short pause: the page
// reconnects with the last event id it showed and carries on. The
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
	"hash/fnv"
	"html/template"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"regexp"
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
	// Engine handles each turn. The store it saves to logs the turn's
	// events with it, for the officer queue: the channel delivers none.
	Engine Engine
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
	// Open chats at once per client address (an IPv6 /64) and in all;
	// defaults 50 and 100,000.
	ChatsPerClient, Chats int
	// Open event streams per chat and in all, in this process; defaults
	// 2 and 5,000.
	StreamsPerChat, Streams int
	// Store keeps sessions, events and rate limits; in memory by default.
	Store Store
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
	cfg   Config
	page  *template.Template
	csp   string
	mux   *http.ServeMux
	store Store
	hub   *hub
	// turns runs one turn at a time per session, in order, in this
	// process; striped by token hash.
	turns [64]sync.Mutex

	// closing is closed by Shutdown: open event streams end at once.
	closing  chan struct{}
	shutdown sync.Once
}

// Shutdown ends every open event stream at once, without an end event,
// rather than keep the server waiting for streams that never end by
// themselves. The pages reconnect: on Redis, to another process, and
// carry on. Register it with http.Server.RegisterOnShutdown.
func (s *Server) Shutdown() { s.shutdown.Do(func() { close(s.closing) }) }

// Run wakes this process's open streams when another process adds to
// their chat, until ctx ends. Without it, they still read every few
// seconds.
func (s *Server) Run(ctx context.Context) { s.store.Listen(ctx, s.hub.wake) }

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
	// Many tenants can share one address: a refuge's or a library's
	// wifi, a mobile network's NAT. The cap is there to stop one client
	// holding every chat, not to turn away a shared one.
	if cfg.ChatsPerClient <= 0 {
		cfg.ChatsPerClient = 50
	}
	if cfg.Chats <= 0 {
		cfg.Chats = 100000
	}
	if cfg.StreamsPerChat <= 0 {
		cfg.StreamsPerChat = 2
	}
	if cfg.Streams <= 0 {
		cfg.Streams = 5000
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Store == nil {
		cfg.Store = newMemStore(cfg.Now)
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
		store: cfg.Store, hub: newHub(), closing: make(chan struct{}),
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
	if err := s.page.Execute(w, struct{ ExitURL string }{s.cfg.ExitURL}); err != nil {
		s.cfg.Log.Warn("webchat: page not sent whole", "err", err)
	}
}

// choicesOf returns a reply's choices for the page, leaving out any that
// lack a label or the text to send.
func choicesOf(rep bot.Reply) []Choice {
	var out []Choice
	for _, c := range rep.Choices {
		if strings.TrimSpace(c.Label) != "" && strings.TrimSpace(c.Send) != "" {
			out = append(out, Choice{Label: c.Label, Send: c.Send})
		}
	}
	return out
}

// hash is the keyed hash a session is known by: the store never sees
// the token.
func (s *Server) hash(token string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("webchat session\x00" + token))
	return hex.EncodeToString(m.Sum(nil))
}

// address derives the conversation's address from the token: only the
// page that holds the token can reach the conversation.
func (s *Server) address(token string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("webchat address\x00" + token))
	return "web:" + hex.EncodeToString(m.Sum(nil)[:16])
}

// codeNoSession is the error code of a request for a session that has
// ended or expired: the page then offers to start again. Any other
// failure is retried.
const codeNoSession = "no_session"

// chatEnded answers a request for a chat that has ended or expired.
func chatEnded(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "This chat has ended. Start again.", "code": codeNoSession})
}

// session returns the caller's session from the Authorization header, or
// writes 401, 404 (with codeNoSession) or 503.
func (s *Server) session(w http.ResponseWriter, r *http.Request) *Session {
	token, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if token == "" {
		jsonError(w, http.StatusUnauthorized, "no session token")
		return nil
	}
	ss, err := s.store.Touch(r.Context(), s.hash(token), s.cfg.SessionIdle)
	if errors.Is(err, ErrNoSession) {
		chatEnded(w)
		return nil
	}
	if err != nil {
		s.cfg.Log.Error("webchat: session not read", "err", err)
		jsonError(w, http.StatusServiceUnavailable, "Sorry, something went wrong. Please try again. In danger, call 999.")
		return nil
	}
	ss.token = token
	return &ss
}

// What a refusal says: whatever else is wrong, the way to help now.
const (
	inDanger    = "If you are in danger now, call 999."
	unavailable = "Sorry, something went wrong. Please try again. In danger, call 999."
	sendAgain   = "Sorry, something went wrong. Please send that again. In danger, call 999."
)

func (s *Server) start(w http.ResponseWriter, r *http.Request) {
	client := s.clientKey(r)
	if ok, err := s.store.Allow(r.Context(), "start:"+client, s.cfg.SessionsPerMinute); err != nil {
		s.cfg.Log.Error("webchat: rate limit not read", "err", err)
		jsonError(w, http.StatusServiceUnavailable, unavailable)
		return
	} else if !ok {
		w.Header().Set("Retry-After", "60")
		jsonError(w, http.StatusTooManyRequests, "Too many new chats from here: please wait a minute and try again. "+inDanger)
		return
	}
	var req struct {
		Lang string `json:"lang"`
	}
	if !readJSON(w, r, &req, true) {
		return
	}
	var raw [32]byte
	rand.Read(raw[:])
	token := base64.RawURLEncoding.EncodeToString(raw[:])
	ss := Session{Hash: s.hash(token), Conv: s.cfg.Engine.ID(bot.ChannelWebChat, s.address(token)), Client: client, token: token}
	err := s.store.Create(r.Context(), ss, s.cfg.SessionIdle, OpenLimits{PerClient: s.cfg.ChatsPerClient, Total: s.cfg.Chats})
	if errors.Is(err, ErrTooManyChats) {
		w.Header().Set("Retry-After", "60")
		jsonError(w, http.StatusTooManyRequests, "Too many chats are open: please try again in a few minutes. "+inDanger)
		return
	}
	if err != nil {
		s.cfg.Log.Error("webchat: session not created", "err", err)
		jsonError(w, http.StatusServiceUnavailable, unavailable)
		return
	}
	// The first turn asks the first question.
	if !s.turn(w, r, &ss, bot.Inbound{Lang: req.Lang}) {
		s.drop(r, &ss)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]string{"token": token})
}

func (s *Server) message(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	if ok, err := s.store.Allow(r.Context(), "message:"+ss.Hash, s.cfg.MessagesPerMinute); err != nil {
		s.cfg.Log.Error("webchat: rate limit not read", "conversation", ss.Conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, unavailable)
		return
	} else if !ok {
		w.Header().Set("Retry-After", "10")
		jsonError(w, http.StatusTooManyRequests, "Too many messages: please wait a moment and send it again. "+inDanger)
		return
	}
	var req struct {
		Text string `json:"text"`
		// ID is the page's id for the message, the same when it sends
		// the message again after an answer it did not get: the message
		// is applied and answered once.
		ID string `json:"id"`
	}
	if !readJSON(w, r, &req, false) {
		return
	}
	if req.ID != "" && !messageID.MatchString(req.ID) {
		jsonError(w, http.StatusBadRequest, "the message id is not 32 hexadecimal digits")
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
	if s.turn(w, r, ss, bot.Inbound{Text: req.Text, MessageID: req.ID, Continue: true}) {
		writeJSON(w, http.StatusAccepted, map[string]bool{"ok": true})
	}
}

// messageID is the form of the page's message ids: 16 random bytes.
var messageID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// add shows an event in the session's chat, waking its streams here at
// once (the store tells other processes).
func (s *Server) add(ctx context.Context, ss *Session, e Event, live bool) error {
	_, err := s.cfg.Store.Append(ctx, ss.Hash, e, s.cfg.SessionIdle, live)
	if err == nil {
		s.hub.wake(ss.Hash)
	}
	return err
}

// lock returns the lock that runs the session's turns one at a time, in
// order, in this process.
func (s *Server) lock(ss *Session) *sync.Mutex {
	// The hash is hex: every one of its characters spreads the chats over
	// the locks, not just the last one's few values.
	f := fnv.New32a()
	f.Write([]byte(ss.Hash)) // a hash.Hash's Write never fails
	return &s.turns[f.Sum32()%uint32(len(s.turns))]
}

// turn runs one engine turn of the message for the session and queues
// its replies. The message's id is the page's ("" for none: one is
// made). A message sent again with its id is not applied again, and its
// replies, named by it, are shown once. A message whose conversation was
// erased on its way (the quick exit, in this process or another) is
// refused as for an ended chat, and applies nothing.
func (s *Server) turn(w http.ResponseWriter, r *http.Request, ss *Session, in bot.Inbound) bool {
	mu := s.lock(ss)
	mu.Lock()
	defer mu.Unlock()
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.TurnTimeout)
	defer cancel()
	if in.MessageID == "" {
		var b [16]byte
		rand.Read(b[:])
		in.MessageID = hex.EncodeToString(b[:])
	}
	id := in.MessageID
	in.Channel, in.Address = bot.ChannelWebChat, s.address(ss.token)
	res, err := s.cfg.Engine.Handle(ctx, in)
	if errors.Is(err, bot.ErrNoConversation) {
		s.drop(r, ss)
		chatEnded(w)
		return false
	}
	if err != nil {
		s.cfg.Log.Error("webchat: turn failed", "conversation", ss.Conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, sendAgain)
		return false
	}
	lang := ""
	conv, cerr := s.cfg.Engine.Conversation(ctx, ss.Conv)
	if cerr == nil && conv != nil {
		lang = conv.Lang
	}
	// The turn is saved: its replies must reach the page even if the
	// tenant's request has gone.
	actx, acancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.TurnTimeout)
	defer acancel()
	for i, rep := range res.Replies {
		e := Event{From: "bot", Text: rep.Text, Lang: lang, Choices: choicesOf(rep), Key: "reply:" + id + ":" + strconv.Itoa(i)}
		if err := s.add(actx, ss, e, false); err != nil {
			// The request fails: the page sends the message again
			// with its id, the engine answers it with the replies
			// it saved, and those queued already (named by the id)
			// are not shown twice. A turn that ended the chat ends
			// it all the same, its replies unshown: a tenant who
			// left must not leave a chat open behind them.
			s.cfg.Log.Error("webchat: reply not shown; the page sends the message again", "conversation", ss.Conv, "err", err)
			if ended(res.Events) {
				s.drop(r, ss)
			}
			jsonError(w, http.StatusServiceUnavailable, unavailable)
			return false
		}
	}
	// The turn ended the conversation; or, sent again, it had, and its
	// replies are now shown: the chat ends.
	if ended(res.Events) || (res.Duplicate && cerr == nil && conv == nil) {
		if err := s.add(actx, ss, Event{From: "end", Lang: lang, Key: "end:" + id}, false); err != nil {
			s.cfg.Log.Error("webchat: end not shown; the page ends when the session is found gone", "conversation", ss.Conv, "err", err)
		}
		s.drop(r, ss)
	}
	return true
}

// ended reports whether a turn's events end the conversation.
func ended(evs []bot.Event) bool {
	for _, ev := range evs {
		if ev.Kind == bot.EventExited || ev.Kind == bot.EventOptedOut || ev.Kind == bot.EventErased {
			return true
		}
	}
	return false
}

// end erases the session's conversation: the quick exit. The page sends
// it with fetch keepalive and does not wait for the answer.
func (s *Server) end(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	// A turn of this chat under way, here or elsewhere, is refused once
	// the conversation is erased (bot.Inbound.Continue), or erased with
	// it if it saved first.
	s.drop(r, ss)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.TurnTimeout)
	defer cancel()
	_, err := s.cfg.Engine.Erase(ctx, bot.ChannelWebChat, s.address(ss.token))
	if err != nil {
		s.cfg.Log.Error("webchat: erase failed", "conversation", ss.Conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, "could not erase; it expires on its own")
		return
	}
	if err := s.add(ctx, ss, Event{From: "end"}, false); err != nil {
		s.cfg.Log.Error("webchat: end not shown; the page ends when the session is found gone", "conversation", ss.Conv, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) drop(r *http.Request, ss *Session) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), s.cfg.TurnTimeout)
	defer cancel()
	if err := s.store.Drop(ctx, ss.Hash); err != nil {
		s.cfg.Log.Error("webchat: session not ended; it expires on its own", "conversation", ss.Conv, "err", err)
	}
}

// ErrNoSession is returned by Push when the tenant has no open chat, and
// by a Store for a session that ended or expired.
var ErrNoSession = errors.New("webchat: no open chat for that conversation")

// Push shows an officer's message in the tenant's open chat, live,
// whichever process holds its stream; ErrNoSession when the chat is not
// open.
// key names the message once: pushing it again (after an answer was
// lost) shows nothing more.
func (s *Server) Push(ctx context.Context, conv bot.ConversationID, key, text string) error {
	hash, err := s.store.ByConversation(ctx, conv)
	if err != nil {
		return err
	}
	return s.add(ctx, &Session{Hash: hash, Conv: conv}, Event{From: "officer", Text: text, Key: key}, true)
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
	_ = json.NewEncoder(w).Encode(v) // a client that has gone is not answered
}

func jsonError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"error": msg})
}

// clientKey is a keyed hash of the client's address, for the limits on
// new and open chats: the address itself is kept nowhere. An IPv6 client
// counts by its /64, which one household or phone usually has whole.
func (s *Server) clientKey(r *http.Request) string {
	ip := ""
	if s.cfg.BehindProxy {
		ip = forwardedFor(r)
	}
	if ip == "" {
		if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			ip = host
		} else {
			ip = r.RemoteAddr
		}
	}
	if a, err := netip.ParseAddr(ip); err == nil {
		a = a.Unmap()
		if a.Is6() {
			p, _ := a.Prefix(64)
			ip = p.String()
		} else {
			ip = a.String()
		}
	}
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("webchat client\x00" + ip))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// forwardedFor is the client's address as the proxy in front added it:
// the last entry of the last X-Forwarded-For line (a client can send the
// header itself; only what the proxy appends is trusted), without a port
// if the proxy wrote one.
func forwardedFor(r *http.Request) string {
	lines := r.Header.Values("X-Forwarded-For")
	if len(lines) == 0 {
		return ""
	}
	parts := strings.Split(lines[len(lines)-1], ",")
	ip := strings.TrimSpace(parts[len(parts)-1])
	if ap, err := netip.ParseAddrPort(ip); err == nil {
		return ap.Addr().String()
	}
	return ip
}
