package redisstore

import (
	"container/list"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// recent keeps, for the conversations this process saved or loaded last,
// the state and its version, so that a turn loads without a round trip
// to Redis. Another process may have changed a conversation since: the
// save script's version check refuses a turn computed from a stale state,
// and gives the current one back (Save), so a stale entry costs no more
// round trips than no entry. Entries are keyed by conversation id and
// hold only that conversation's state; they are dropped after a short
// lifetime, or as newer ones need the room. A nil *recent keeps nothing.
type recent struct {
	mu      sync.Mutex
	size    int
	life    time.Duration
	entries map[bot.ConversationID]*list.Element
	order   list.List // of *recentEntry, most recently used first
}

type recentEntry struct {
	id      bot.ConversationID
	version int64
	ident   []byte // the sealed state's identity (seal.ID), nil for a hash
	// plain is the record (stateRecord first), uncompressed and opened;
	// each Load decodes its own conversation from it.
	plain string
	until time.Time
}

func newRecent(size int, life time.Duration) *recent {
	if size <= 0 || life <= 0 {
		return nil
	}
	return &recent{size: size, life: life, entries: make(map[bot.ConversationID]*list.Element, size)}
}

// get returns the entry for id unless it has expired by now.
func (r *recent) get(id bot.ConversationID, now time.Time) (recentEntry, bool) {
	if r == nil {
		return recentEntry{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	el, ok := r.entries[id]
	if !ok {
		return recentEntry{}, false
	}
	e := el.Value.(*recentEntry)
	if !now.Before(e.until) {
		r.order.Remove(el)
		delete(r.entries, id)
		return recentEntry{}, false
	}
	r.order.MoveToFront(el)
	return *e, true
}

// put records the conversation's state at version, from now until the
// lifetime or ttl (how long Redis keeps it), whichever is first.
func (r *recent) put(id bot.ConversationID, version int64, ident []byte, plain string, now time.Time, ttl time.Duration) {
	if r == nil {
		return
	}
	until := now.Add(min(r.life, ttl))
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[id]; ok {
		*el.Value.(*recentEntry) = recentEntry{id: id, version: version, ident: ident, plain: plain, until: until}
		r.order.MoveToFront(el)
		return
	}
	r.entries[id] = r.order.PushFront(&recentEntry{id: id, version: version, ident: ident, plain: plain, until: until})
	for r.order.Len() > r.size {
		last := r.order.Back()
		r.order.Remove(last)
		delete(r.entries, last.Value.(*recentEntry).id)
	}
}

// forget drops the entry for id.
func (r *recent) forget(id bot.ConversationID) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if el, ok := r.entries[id]; ok {
		r.order.Remove(el)
		delete(r.entries, id)
	}
}
