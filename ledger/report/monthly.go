package report

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/ledger"
)

// Hours is the office's working time, as flows.Hours gives it: the
// monthly summary goes out when the office first opens in a month.
type Hours interface {
	Location() *time.Location
	NextOpen(t time.Time) time.Time
}

// Monthly posts last month's summary (MonthlySummary) once, on the first
// working day of each month, from whichever process gets there first.
// Seed 004 §11 asks for monthly monitoring.
type Monthly struct {
	Redis redis.UniversalClient
	// Prefix is the officer queue's key prefix, where the ledger is
	// (ledger.DefaultPrefix).
	Prefix string
	Hours  Hours
	// Post sends the summary to the managers (SLACK_REPORT_CHANNEL).
	Post func(ctx context.Context, text string) error
	Now  func() time.Time
	Log  *slog.Logger
}

// monthlyLock is how long one process holds the month's post while it
// builds and sends it; another tries after it lapses.
const monthlyLock = 5 * time.Minute

// monthlyMemory is how long a month is remembered as posted: past the
// next month's first working day.
const monthlyMemory = 62 * 24 * time.Hour

// due returns the month whose summary is due at now (the month before
// now's), and whether it is: the office has opened this month.
func (m *Monthly) due(now time.Time) (time.Time, bool) {
	loc := m.Hours.Location()
	now = now.In(loc)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc)
	if now.Before(m.Hours.NextOpen(first)) {
		return time.Time{}, false
	}
	return first.AddDate(0, -1, 0), true
}

// Tick posts last month's summary if it is due and not yet posted, and
// reports whether it did.
func (m *Monthly) Tick(ctx context.Context) (bool, error) {
	month, ok := m.due(m.Now())
	if !ok {
		return false, nil
	}
	done := m.Prefix + "monthly:" + month.Format("2006-01")
	lock := done + ":lock"
	if n, err := m.Redis.Exists(ctx, done).Result(); err != nil || n > 0 {
		return false, err
	}
	got, err := m.Redis.SetNX(ctx, lock, 1, monthlyLock).Result()
	if err != nil || !got {
		return false, err
	}
	last := month.AddDate(0, 1, -1)
	entries, err := ledger.Read(ctx, m.Redis, m.Prefix, month, last.AddDate(0, 0, 1))
	if err != nil {
		m.Redis.Del(ctx, lock)
		return false, err
	}
	if err := m.Post(ctx, MonthlySummary(Build(entries, month, last, m.Now()))); err != nil {
		m.Redis.Del(ctx, lock)
		return false, fmt.Errorf("monthly summary: %w", err)
	}
	if err := m.Redis.Set(ctx, done, 1, monthlyMemory).Err(); err != nil {
		// The lock holds off a second post for its five minutes; after
		// that, a second post is possible, and is logged.
		return true, fmt.Errorf("monthly summary posted, but not recorded: %w", err)
	}
	return true, nil
}

// Run ticks every minute until ctx ends, logging what fails.
func (m *Monthly) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		posted, err := m.Tick(ctx)
		switch {
		case err != nil && !errors.Is(err, context.Canceled):
			m.Log.Warn("report: monthly summary", "err", err)
		case posted:
			m.Log.Info("report: monthly summary posted")
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
