// Package flowstest helps tests build an engine on the default flows and
// watch the events it emits.
package flowstest

import (
	"context"
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

// EventLog is a store's log of every turn's events (memstore, redisstore
// with an event log).
type EventLog interface {
	Events(ctx context.Context, n int) ([]bot.LoggedEvent, error)
}

// Events reads the events a store logged with its turns, for tests that
// check what the officer queue would take. Nothing trims the log under it.
type Events struct {
	t   testing.TB
	log EventLog
}

// EventsIn returns the events logged in log; a failure to read it fails
// the test.
func EventsIn(t testing.TB, log EventLog) *Events {
	return &Events{t: t, log: log}
}

// All returns the events so far, oldest conversation first and each
// conversation's in order.
func (e *Events) All() []bot.Event {
	e.t.Helper()
	evs, err := e.log.Events(context.Background(), maxEvents)
	if err != nil {
		e.t.Errorf("event log: %v", err)
		return nil
	}
	out := make([]bot.Event, 0, len(evs))
	for _, le := range evs {
		if le.Err != nil {
			e.t.Errorf("event log: %v", le.Err)
			continue
		}
		out = append(out, le.Event)
	}
	return out
}

// maxEvents is more events than any test logs.
const maxEvents = 100_000

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
