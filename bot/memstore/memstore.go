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

// Store is an in-memory bot.Store. The zero value is not usable; call New.
type Store struct {
	now func() time.Time

	mu    sync.Mutex
	convs map[bot.ConversationID]*entry
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
	return &Store{now: now, convs: make(map[bot.ConversationID]*entry)}
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
	e := s.live(id)
	var current int64
	if e != nil {
		current = e.version
	}
	if current != version {
		return bot.ErrConflict
	}
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

// Sweep drops every expired conversation and returns how many it dropped.
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
	return n
}

// Len returns how many conversations the store holds, expired or not.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.convs)
}
