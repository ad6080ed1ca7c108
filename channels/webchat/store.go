package webchat

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Store keeps the web chat's live sessions, each session's events (what
// the page shows, in order) and the chat's rate limits. The in-memory
// store (the default) serves one process; RedisStore lets every serve
// process answer every request of every chat.
//
// A session is named by a keyed hash of its token, never by the token.
type Store interface {
	// Create records a new session for the client, idle for at most ttl.
	// It returns ErrTooManyChats when the client, or everyone together,
	// already has as many open chats as the limits allow.
	Create(ctx context.Context, s Session, ttl time.Duration, lim OpenLimits) error
	// Touch returns the session and restarts its idle time; ErrNoSession
	// when it ended or expired.
	Touch(ctx context.Context, hash string, ttl time.Duration) (Session, error)
	// Drop ends the session. Its events stay readable for a short while,
	// so that an open stream can read the end event.
	Drop(ctx context.Context, hash string) error
	// ByConversation returns the hash of the conversation's open session;
	// ErrNoSession when there is none.
	ByConversation(ctx context.Context, conv bot.ConversationID) (string, error)
	// Append adds an event to the session's events and returns its id.
	// With live, only to a session still open: ErrNoSession otherwise.
	// It tells every process with a stream of the session to read.
	Append(ctx context.Context, hash string, e Event, ttl time.Duration, live bool) (string, error)
	// Since returns the session's events after the one with id after
	// ("" for all that are kept), oldest first; ErrBadEventID when after
	// is not an id this store gives.
	Since(ctx context.Context, hash, after string) ([]Event, error)
	// Allow counts one use of key and says whether it is within n per
	// minute.
	Allow(ctx context.Context, key string, n int) (bool, error)
	// Listen calls wake with a session's hash when another process adds
	// an event to it, until ctx ends. A store that serves one process
	// just waits.
	Listen(ctx context.Context, wake func(hash string))
}

// Session is one open chat, as a Store keeps it.
type Session struct {
	Hash string             // keyed hash of the token
	Conv bot.ConversationID // the conversation in the engine
	// Client is a keyed hash of the client's address (an IPv6 /64), for
	// the open-chats limit.
	Client string

	token string // the session's token, while a request holds it
}

// OpenLimits caps open chats: per client address and in total.
type OpenLimits struct{ PerClient, Total int }

// Event is one message to the page, one Server-Sent Event's data.
type Event struct {
	// ID is the store's id of the event, the SSE id the page sends back
	// as Last-Event-ID: a Redis Stream id ("1767261600000-0") on Redis,
	// a count in memory.
	ID   string `json:"id"`
	From string `json:"from"` // "bot", "officer", or "end" when the chat ended
	Text string `json:"text"`
	Lang string `json:"lang"`
	// Choices are the answers a bot message's question takes, in order,
	// which the page offers as buttons; absent when there are none.
	Choices []Choice `json:"choices,omitempty"`
	// Key, when set, names the event once: an event whose key the
	// session's events already had is not added again (an officer's reply
	// sent again after an answer was lost). Never sent to the page.
	Key string `json:"-"`
}

// Choice is one answer the page offers as a button: Label is its text,
// and Send what pressing it sends, as if the tenant had typed it.
type Choice struct {
	Label string `json:"label"`
	Send  string `json:"send"`
}

var (
	// ErrTooManyChats is returned by Store.Create over the open-chat
	// limits.
	ErrTooManyChats = errors.New("webchat: too many open chats")
	// ErrBadEventID is returned by Store.Since for an id it never gives.
	ErrBadEventID = errors.New("webchat: not an event id")
)

// maxEvents is how many events a session keeps for reconnects (about as
// many on Redis, which trims approximately).
const maxEvents = 200

// endedKeep is how long a dropped session's events stay readable.
const endedKeep = time.Minute

// memStore is the in-memory Store: sessions end with the process.
type memStore struct {
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]*memSession
	byConv   map[bot.ConversationID]string
	ended    map[string]*memSession // dropped, readable until their expiry
	rate     *limiter
}

type memSession struct {
	Session
	expires time.Time
	events  []Event
	next    int
	keys    map[string]string // Event.Key → its id
}

var _ Store = (*memStore)(nil)

func newMemStore(now func() time.Time) *memStore {
	return &memStore{now: now, sessions: map[string]*memSession{}, byConv: map[bot.ConversationID]string{},
		ended: map[string]*memSession{}, rate: newLimiter(now)}
}

func (m *memStore) Create(_ context.Context, s Session, ttl time.Duration, lim OpenLimits) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	perClient := 0
	for h, ss := range m.sessions {
		if now.After(ss.expires) {
			m.dropLocked(h, now)
			continue
		}
		if ss.Client == s.Client {
			perClient++
		}
	}
	for h, ss := range m.ended {
		if now.After(ss.expires) {
			delete(m.ended, h)
		}
	}
	if (lim.PerClient > 0 && perClient >= lim.PerClient) || (lim.Total > 0 && len(m.sessions) >= lim.Total) {
		return ErrTooManyChats
	}
	m.sessions[s.Hash] = &memSession{Session: s, expires: now.Add(ttl)}
	m.byConv[s.Conv] = s.Hash
	return nil
}

func (m *memStore) Touch(_ context.Context, hash string, ttl time.Duration) (Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.sessions[hash]
	if ss == nil {
		return Session{}, ErrNoSession
	}
	now := m.now()
	if now.After(ss.expires) {
		m.dropLocked(hash, now)
		return Session{}, ErrNoSession
	}
	ss.expires = now.Add(ttl)
	return ss.Session, nil
}

func (m *memStore) Drop(_ context.Context, hash string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.dropLocked(hash, m.now())
	return nil
}

func (m *memStore) dropLocked(hash string, now time.Time) {
	ss := m.sessions[hash]
	if ss == nil {
		return
	}
	delete(m.sessions, hash)
	if m.byConv[ss.Conv] == hash {
		delete(m.byConv, ss.Conv)
	}
	ss.expires = now.Add(endedKeep)
	m.ended[hash] = ss
}

func (m *memStore) ByConversation(_ context.Context, conv bot.ConversationID) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	h, ok := m.byConv[conv]
	if !ok {
		return "", ErrNoSession
	}
	return h, nil
}

func (m *memStore) Append(_ context.Context, hash string, e Event, _ time.Duration, live bool) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.sessions[hash]
	if ss == nil && !live {
		ss = m.ended[hash]
	}
	if ss == nil {
		return "", ErrNoSession
	}
	if id, ok := ss.keys[e.Key]; ok && e.Key != "" {
		return id, nil // added already
	}
	e.ID = strconv.Itoa(ss.next)
	ss.next++
	if e.Key != "" {
		if ss.keys == nil {
			ss.keys = map[string]string{}
		}
		ss.keys[e.Key] = e.ID
	}
	ss.events = append(ss.events, e)
	if len(ss.events) > maxEvents {
		ss.events = ss.events[len(ss.events)-maxEvents:]
	}
	return e.ID, nil
}

func (m *memStore) Since(_ context.Context, hash, after string) ([]Event, error) {
	last := -1
	if after != "" {
		n, err := strconv.Atoi(after)
		if err != nil || n < 0 {
			return nil, ErrBadEventID
		}
		last = n
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ss := m.sessions[hash]
	if ss == nil {
		ss = m.ended[hash]
	}
	if ss == nil {
		return nil, nil
	}
	var out []Event
	for _, e := range ss.events {
		if n, _ := strconv.Atoi(e.ID); n > last {
			out = append(out, e)
		}
	}
	return out, nil
}

func (m *memStore) Allow(_ context.Context, key string, n int) (bool, error) {
	return m.rate.allow(key, n), nil
}

func (m *memStore) Listen(ctx context.Context, _ func(string)) { <-ctx.Done() }

// limiter allows n events per minute per key, in a sliding window.
type limiter struct {
	now func() time.Time
	mu  sync.Mutex
	win map[string][]time.Time
}

func newLimiter(now func() time.Time) *limiter {
	return &limiter{now: now, win: map[string][]time.Time{}}
}

func (l *limiter) allow(key string, n int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.win[key][:0]
	for _, t := range l.win[key] {
		if now.Sub(t) < time.Minute {
			kept = append(kept, t)
		}
	}
	if len(kept) >= n {
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
