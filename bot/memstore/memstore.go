// Package memstore keeps conversations in the process's memory. It is the
// embedded default for trying safecontact out: nothing outlives the process
// and nothing is shared between processes. Production runs on redisstore.
//
// Like redisstore with an event log, the store logs every turn's events
// with the turn (Events, Taken): the officer queue takes them from
// there, and the channels deliver nothing themselves.
package memstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
)

var _ bot.Store = (*Store)(nil)

// Store is an in-memory bot.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu    sync.Mutex
	convs map[bot.ConversationID]*entry
	// seen holds each conversation's seen message ids apart from its
	// state, as redisstore does: they outlive an erasure and expire on
	// their own.
	seen map[bot.ConversationID]*seenIDs
	// events is the event log, oldest first; lastEvent numbers the
	// newest entry ever logged. logged is closed and replaced whenever
	// events are logged.
	events    []loggedEvent
	lastEvent uint64
	logged    chan struct{}
}

// MaxEvents is how many events the log keeps when nobody takes them: the
// oldest are dropped past it, as redisstore's stream is trimmed.
const MaxEvents = 100_000

// loggedEvent is an event in the log, as JSON so that readers never share
// it with the engine.
type loggedEvent struct {
	seq   uint64
	conv  bot.ConversationID
	event []byte
}

// seenIDs are one conversation's seen message ids with when each was seen
// (by the engine's clock, bot.SeenIDs.At), and when the record expires (by
// the store's).
type seenIDs struct {
	at      map[string]time.Time
	expires time.Time
}

type entry struct {
	version int64
	state   []byte // the conversation as JSON, so callers never share it
	lines   []bot.Line
	expires time.Time
}

// New returns an empty store that reads the time from now (time.Now if nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{
		now: now, convs: make(map[bot.ConversationID]*entry), seen: make(map[bot.ConversationID]*seenIDs),
		logged: make(chan struct{}),
	}
}

// live returns the entry for id unless it has expired. Callers hold mu.
func (s *Store) live(id bot.ConversationID) *entry {
	e := s.convs[id]
	if e != nil && !s.now().Before(e.expires) {
		delete(s.convs, id)
		return nil
	}
	return e
}

// liveSeen returns the seen ids for id unless they have expired. Callers
// hold mu.
func (s *Store) liveSeen(id bot.ConversationID) *seenIDs {
	ids := s.seen[id]
	if ids != nil && !s.now().Before(ids.expires) {
		delete(s.seen, id)
		return nil
	}
	return ids
}

// duplicate reports whether the commit's message id was seen within its
// window. Callers hold mu.
func (s *Store) duplicate(id bot.ConversationID, c bot.SeenIDs) bool {
	if c.Window <= 0 || c.ID == "" {
		return false
	}
	ids := s.liveSeen(id)
	if ids == nil {
		return false
	}
	at, ok := ids.at[c.ID]
	return ok && c.At.Sub(at) < c.Window
}

// record adds the commit's seen ids, forgets those seen a window or more
// ago and the oldest past bot.MaxSeen, and moves the expiry on. Callers
// hold mu.
func (s *Store) record(id bot.ConversationID, c bot.SeenIDs) {
	if c.Window <= 0 {
		return
	}
	ids := s.liveSeen(id)
	if ids == nil {
		if c.ID == "" && len(c.Earlier) == 0 {
			return
		}
		ids = &seenIDs{at: map[string]time.Time{}}
		s.seen[id] = ids
	}
	for _, d := range c.Earlier {
		if _, ok := ids.at[d]; !ok && d != "" {
			ids.at[d] = c.At
		}
	}
	if c.ID != "" {
		ids.at[c.ID] = c.At
	}
	for d, at := range ids.at {
		if c.At.Sub(at) >= c.Window {
			delete(ids.at, d)
		}
	}
	for len(ids.at) > bot.MaxSeen {
		var oldest string
		for d, at := range ids.at {
			if oldest == "" || at.Before(ids.at[oldest]) || (at.Equal(ids.at[oldest]) && d < oldest) {
				oldest = d
			}
		}
		delete(ids.at, oldest)
	}
	ids.expires = s.now().Add(c.Window)
}

// Seen returns the message ids the store holds as seen for the
// conversation, in no order. It is for tests.
func (s *Store) Seen(id bot.ConversationID) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := s.liveSeen(id)
	if ids == nil {
		return nil
	}
	out := make([]string, 0, len(ids.at))
	for d := range ids.at {
		out = append(out, d)
	}
	return out
}

// Load implements bot.Store.
func (s *Store) Load(ctx context.Context, id bot.ConversationID) (*bot.Conversation, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	s.mu.Lock()
	e := s.live(id)
	var state []byte
	var version int64
	if e != nil {
		state, version = e.state, e.version
	}
	s.mu.Unlock()
	if e == nil {
		return nil, 0, nil
	}
	var c bot.Conversation
	if err := json.Unmarshal(state, &c); err != nil {
		return nil, 0, err
	}
	return &c, version, nil
}

// Save implements bot.Store.
func (s *Store) Save(ctx context.Context, id bot.ConversationID, version int64, c bot.Commit) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	state, err := json.Marshal(c.Conversation)
	if err != nil {
		return err
	}
	events := make([][]byte, 0, len(c.Events))
	for _, ev := range c.Events {
		b, err := json.Marshal(ev)
		if err != nil {
			return fmt.Errorf("memstore: save: %w", err)
		}
		events = append(events, b)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.duplicate(id, c.Seen) {
		return bot.ErrDuplicate
	}
	e := s.live(id)
	var current int64
	if e != nil {
		current = e.version
	}
	if current != version {
		return bot.ErrConflict
	}
	s.record(id, c.Seen)
	if e == nil {
		e = &entry{}
		s.convs[id] = e
	}
	e.version++
	e.state = state
	e.expires = s.now().Add(c.TTL)
	if c.Conversation.Erased {
		e.lines = nil
	} else {
		e.lines = append(e.lines, c.Append...)
	}
	s.log(id, events)
	return nil
}

// log appends a turn's events to the event log and wakes whoever waits
// on Logged. Callers hold mu.
func (s *Store) log(id bot.ConversationID, events [][]byte) {
	if len(events) == 0 {
		return
	}
	for _, b := range events {
		s.lastEvent++
		s.events = append(s.events, loggedEvent{seq: s.lastEvent, conv: id, event: b})
	}
	if over := len(s.events) - MaxEvents; over > 0 {
		s.events = append([]loggedEvent(nil), s.events[over:]...)
	}
	close(s.logged)
	s.logged = make(chan struct{})
}

// Events returns up to n events not yet taken, oldest first, as
// redisstore's Events does. An id is a decimal number.
func (s *Store) Events(ctx context.Context, n int) ([]bot.LoggedEvent, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []bot.LoggedEvent
	for _, le := range s.events[:min(n, len(s.events))] {
		ev := bot.LoggedEvent{ID: strconv.FormatUint(le.seq, 10), Conversation: le.conv}
		if err := json.Unmarshal(le.event, &ev.Event); err != nil {
			ev.Err = fmt.Errorf("memstore: event %s: %w", ev.ID, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// Taken drops events the caller has applied.
func (s *Store) Taken(ctx context.Context, evs []bot.LoggedEvent) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	taken := make(map[string]bool, len(evs))
	for _, le := range evs {
		taken[le.ID] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	left := s.events[:0:0]
	for _, le := range s.events {
		if !taken[strconv.FormatUint(le.seq, 10)] {
			left = append(left, le)
		}
	}
	s.events = left
	return nil
}

// Logged returns a channel that is closed when events are next logged,
// so that a reader of the log need not poll it.
func (s *Store) Logged() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logged
}

// Transcript implements bot.Store.
func (s *Store) Transcript(ctx context.Context, id bot.ConversationID) ([]bot.Line, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.live(id)
	if e == nil {
		return nil, nil
	}
	return append([]bot.Line(nil), e.lines...), nil
}

// Sweep drops every expired conversation and returns how many it dropped;
// it drops expired seen message ids too.
// Expired conversations are also invisible without it; Sweep frees memory.
func (s *Store) Sweep() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for id := range s.convs {
		if s.live(id) == nil {
			n++
		}
	}
	for id := range s.seen {
		s.liveSeen(id)
	}
	return n
}

// Len returns how many conversations the store holds, expired or not.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}
