package handoff_test

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

var _ handoff.FeedLog = (*eventLog)(nil)

// eventLog is an event log as a store keeps one, in memory: each entry
// has a stream id ("ms-seq"), increasing within its conversation. Events
// returns those not taken, oldest first; Taken drops them. With replay
// set it returns every entry ever logged and Taken fails, as if taking
// were lost every time.
type eventLog struct {
	mu      sync.Mutex
	entries []bot.LoggedEvent
	taken   map[string]bool
	seq     int
	replay  bool
	woken   chan struct{}
}

func newEventLog() *eventLog {
	return &eventLog{taken: map[string]bool{}, woken: make(chan struct{})}
}

// log adds the event with the id ms-<next seq>.
func (l *eventLog) log(ms int64, ev bot.Event) {
	l.add(ms, bot.LoggedEvent{Conversation: ev.Conversation, Event: ev})
}

// damaged adds an entry of the conversation that cannot be read.
func (l *eventLog) damaged(ms int64, id bot.ConversationID) {
	l.add(ms, bot.LoggedEvent{Conversation: id, Err: errors.New("damaged")})
}

func (l *eventLog) add(ms int64, le bot.LoggedEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.seq++
	le.ID = fmt.Sprintf("%d-%d", ms, l.seq)
	l.entries = append(l.entries, le)
	close(l.woken)
	l.woken = make(chan struct{})
}

func (l *eventLog) Events(_ context.Context, n int) ([]bot.LoggedEvent, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []bot.LoggedEvent
	for _, le := range l.entries {
		if len(out) == n {
			break
		}
		if l.replay || !l.taken[le.ID] {
			out = append(out, le)
		}
	}
	return out, nil
}

func (l *eventLog) Taken(_ context.Context, evs []bot.LoggedEvent) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.replay {
		return errors.New("not taken")
	}
	for _, le := range evs {
		l.taken[le.ID] = true
	}
	return nil
}

func (l *eventLog) Logged() <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.woken
}

// left is how many entries are not taken.
func (l *eventLog) left() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries) - len(l.taken)
}

func (l *eventLog) setReplay(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.replay = on
}
