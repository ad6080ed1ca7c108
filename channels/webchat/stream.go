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
	waiters map[string][]*waiter // by token hash, oldest first
	total   int
}

// waiter is one open stream: wake tells it to read, and kick, closed,
// ends it to make room for a newer stream of its session.
type waiter struct {
	wake chan struct{}
	kick chan struct{}
}

func newHub() *hub { return &hub{waiters: map[string][]*waiter{}} }

// join registers a stream of the session. Over the cap on streams per
// session, the session's oldest stream is ended to make room: a phone
// that changed networks leaves half-open streams behind, and its newest
// one is the one being read. Over the cap in all, ok is false.
func (h *hub) join(hash string, perSession, total int) (w *waiter, leave func(), ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(h.waiters[hash]) >= perSession && len(h.waiters[hash]) > 0 {
		old := h.waiters[hash][0]
		close(old.kick)
		h.waiters[hash] = h.waiters[hash][1:]
		h.total--
	}
	if h.total >= total {
		return nil, nil, false
	}
	w = &waiter{wake: make(chan struct{}, 1), kick: make(chan struct{})}
	h.waiters[hash] = append(h.waiters[hash], w)
	h.total++
	return w, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		ws := h.waiters[hash]
		for n, x := range ws {
			if x == w {
				h.waiters[hash] = append(ws[:n:n], ws[n+1:]...)
				h.total--
				break
			}
		}
		if len(h.waiters[hash]) == 0 {
			delete(h.waiters, hash)
		}
	}, true
}

// wake tells the session's streams here to read.
func (h *hub) wake(hash string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, w := range h.waiters[hash] {
		select {
		case w.wake <- struct{}{}:
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
	waiter, leave, ok := s.hub.join(ss.Hash, s.cfg.StreamsPerChat, s.cfg.Streams)
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
	// A stream whose writes cannot be bounded could hold a connection
	// for ever behind a reader that stopped: refuse it.
	if err := rc.SetWriteDeadline(time.Now().Add(streamWrite)); err != nil {
		s.cfg.Log.Error("webchat: a stream without a write deadline is refused", "err", err)
		jsonError(w, http.StatusServiceUnavailable, "try again")
		return
	}
	w.WriteHeader(http.StatusOK)
	poll := time.NewTicker(streamPoll)
	defer poll.Stop()
	heartbeat := time.NewTicker(streamHeartbeat)
	defer heartbeat.Stop()
	for {
		if rc.SetWriteDeadline(time.Now().Add(streamWrite)) != nil {
			return
		}
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
		case <-waiter.kick:
			return // a newer stream of the chat took this one's place
		case <-waiter.wake:
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
