// Package memstore keeps conversations in the process's memory. It is the
// embedded default for trying safecontact out: nothing outlives the process
// and nothing is shared between processes. Production runs on redisstore.
package memstore

import (
	"context"
	"encoding/json"
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
	return &Store{now: now, convs: make(map[bot.ConversationID]*entry), seen: make(map[bot.ConversationID]*seenIDs)}
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
	return nil
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
