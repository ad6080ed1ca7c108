// Package flowstest helps tests build an engine on the default flows and
// watch the events it emits.
package flowstest

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
)

// Engine returns an engine on the embedded default flows over store, with
// its clock fixed at now.
func Engine(t testing.TB, store bot.Store, now time.Time) *bot.Engine {
	t.Helper()
	bundle, problems := flows.Load("", now)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte("flowstest-conversation-key-01234")), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return eng
}

// Events is a bot.Sink that records every event, safe for concurrent use.
type Events struct {
	mu   sync.Mutex
	list []bot.Event
}

// Deliver implements bot.Sink.
func (e *Events) Deliver(_ context.Context, ev bot.Event) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.list = append(e.list, ev)
	return nil
}

// All returns the events so far, oldest first.
func (e *Events) All() []bot.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.list)
}

// Kinds returns the kinds of the events so far, oldest first.
func (e *Events) Kinds() []bot.EventKind {
	var out []bot.EventKind
	for _, ev := range e.All() {
		out = append(out, ev.Kind)
	}
	return out
}

// Last returns the newest event of the kind, and whether there is one.
func (e *Events) Last(kind bot.EventKind) (bot.Event, bool) {
	all := e.All()
	for i := len(all) - 1; i >= 0; i-- {
		if all[i].Kind == kind {
			return all[i], true
		}
	}
	return bot.Event{}, false
}
