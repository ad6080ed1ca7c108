package handoff

import (
	"context"
	"fmt"
	"log/slog"
	"time"
)

// FeedLog is an in-memory store's event log, as the console feed reads
// it: memstore implements it.
type FeedLog interface {
	EventLog
	// Logged returns a channel closed when events are next logged.
	Logged() <-chan struct{}
}

// feedTimeout bounds one pass over the log.
const feedTimeout = 5 * time.Second

// ConsoleFeed shows cases on the console without Redis: it takes every
// turn's events from the in-memory store's event log and prints each once,
// as the officer queue does with Redis. The channels deliver nothing
// themselves on either path.
type ConsoleFeed struct {
	log     FeedLog
	console *Console
	slog    *slog.Logger
}

// NewConsoleFeed returns a feed from the events to the console, logging
// its failures to log (nil: discarded).
func NewConsoleFeed(events FeedLog, console *Console, log *slog.Logger) *ConsoleFeed {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ConsoleFeed{log: events, console: console, slog: log}
}

// Run prints events as they are logged until ctx ends, then prints what
// is left, so that nothing logged before the end is lost.
func (f *ConsoleFeed) Run(ctx context.Context) {
	for {
		woken := f.log.Logged()
		f.take(ctx)
		select {
		case <-ctx.Done():
			f.take(context.WithoutCancel(ctx))
			return
		case <-woken:
		}
	}
}

func (f *ConsoleFeed) take(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, feedTimeout)
	defer cancel()
	if err := f.Take(ctx); err != nil {
		f.slog.Error("console feed: events not shown", "err", err)
	}
}

// Take prints every event logged and not yet taken, and drops them from
// the log. Run calls it; the terminal chat calls it once more at the
// end. Calls must not overlap.
func (f *ConsoleFeed) Take(ctx context.Context) error {
	for {
		evs, err := f.log.Events(ctx, 100)
		if err != nil {
			return fmt.Errorf("console feed: %w", err)
		}
		if len(evs) == 0 {
			return nil
		}
		for _, le := range evs {
			if le.Err != nil {
				f.slog.Error("console feed: an event could not be read and is passed over", "event", le.ID, "err", le.Err)
				continue
			}
			// A console that cannot be written to will not be
			// written to by trying again: the event is logged as lost.
			if err := f.console.Deliver(ctx, le.Event); err != nil {
				f.slog.Error("console feed: event not shown", "conversation", le.Event.Conversation, "event", string(le.Event.Kind), "err", err)
			}
		}
		if err := f.log.Taken(ctx, evs); err != nil {
			return fmt.Errorf("console feed: %w", err)
		}
	}
}
