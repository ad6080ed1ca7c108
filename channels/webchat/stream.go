package webchat

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

const (
	// streamPoll is how often an open stream reads its events without
	// being woken: a lost notification only delays a message this long.
	streamPoll = 3 * time.Second

	// streamWrite bounds each write to a stream: a client that stops
	// reading does not hold the handler.
	streamWrite = 10 * time.Second
)

// streamHeartbeat keeps proxies from closing a quiet stream, and is when
// an open stream keeps its chat open (a variable, so that a test need not
// wait 25 seconds).
var streamHeartbeat = 25 * time.Second

// hub wakes this process's open event streams: the one place a session's
// new event (added here, or announced by another process) is passed on.
type hub struct {
	mu      sync.Mutex
	waiters map[string]map[chan struct{}]struct{} // by token hash
	total   int
}

func newHub() *hub { return &hub{waiters: map[string]map[chan struct{}]struct{}{}} }

// join registers a stream of the session, within the caps on streams per
// session and in all; ok is false over them.
func (h *hub) join(hash string, perSession, total int) (ch chan struct{}, leave func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.waiters[hash]) >= perSession || h.total >= total {
		return nil, nil, false
	}
	ch = make(chan struct{}, 1)
	if h.waiters[hash] == nil {
		h.waiters[hash] = map[chan struct{}]struct{}{}
	}
	h.waiters[hash][ch] = struct{}{}
	h.total++
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		delete(h.waiters[hash], ch)
		if len(h.waiters[hash]) == 0 {
			delete(h.waiters, hash)
		}
		h.total--
	}, true
}

// wake tells the session's streams here to read.
func (h *hub) wake(hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.waiters[hash] {
		select {
		case ch <- struct{}{}:
		default: // already woken
		}
	}
}

// events streams the session's messages as Server-Sent Events. The page
// reads them with fetch (so the token travels in a header, not the URL)
// and reconnects with Last-Event-ID, to this process or any other;
// nothing is lost or repeated.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if ss == nil {
		return
	}
	wake, leave, ok := s.hub.join(ss.Hash, s.cfg.StreamsPerChat, s.cfg.Streams)
	if !ok {
		w.Header().Set("Retry-After", "5")
		jsonError(w, http.StatusTooManyRequests, "too many open streams")
		return
	}
	defer leave()
	// Read once joined, so that no wake-up is missed.
	last := r.Header.Get("Last-Event-ID")
	evs, err := s.store.Since(r.Context(), ss.Hash, last)
	if errors.Is(err, ErrBadEventID) {
		jsonError(w, http.StatusBadRequest, "Last-Event-ID is not an event id")
		return
	}
	if err != nil {
		s.cfg.Log.Error("webchat: events not read", "conversation", ss.Conv, "err", err)
		jsonError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	rc.SetWriteDeadline(time.Now().Add(streamWrite))
	w.WriteHeader(http.StatusOK)
	poll := time.NewTicker(streamPoll)
	defer poll.Stop()
	heartbeat := time.NewTicker(streamHeartbeat)
	defer heartbeat.Stop()
	for {
		rc.SetWriteDeadline(time.Now().Add(streamWrite))
		for _, e := range evs {
			data, _ := json.Marshal(e)
			fmt.Fprintf(w, "id: %s\ndata: %s\n\n", e.ID, data)
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
		case <-poll.C:
		case <-heartbeat.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			// An open page keeps its chat open: a tenant waiting for an
			// officer's reply sends nothing, and must not find the chat
			// silently expired. A chat ended or expired meanwhile (read
			// its end below, or) ends the stream with an end event.
			if _, err := s.store.Touch(r.Context(), ss.Hash, s.cfg.SessionIdle); errors.Is(err, ErrNoSession) {
				if evs, err = s.store.Since(r.Context(), ss.Hash, last); err == nil && len(evs) > 0 {
					continue
				}
				data, _ := json.Marshal(Event{From: "end"})
				fmt.Fprintf(w, "data: %s\n\n", data)
				rc.Flush()
				return
			}
		}
		if evs, err = s.store.Since(r.Context(), ss.Hash, last); err != nil {
			// The page reconnects, here or elsewhere, from last.
			return
		}
	}
}
