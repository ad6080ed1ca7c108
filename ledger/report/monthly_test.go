package report_test

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/ledger"
	"github.com/safecontact/safecontact/ledger/report"
)

func TestMonthlySummaryGoesOnceOnTheFirstWorkingDay(t *testing.T) {
	hours, problems := flows.LoadHours(os.DirFS("../../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	rdb, prefix := storetest.Redis(t), storetest.Prefix(t)
	ctx := context.Background()
	t.Cleanup(func() { deleteAll(rdb, prefix) })
	require.NoError(t, ledger.Write(ctx, rdb, prefix, ledger.Fixture(2026, first, end, 500), time.Hour))

	var mu sync.Mutex
	var now time.Time
	var posts []string
	fail := false
	newMonthly := func() *report.Monthly {
		return &report.Monthly{
			Redis: rdb, Prefix: prefix, Hours: hours, Log: slog.New(slog.DiscardHandler),
			Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now },
			Post: func(_ context.Context, text string) error {
				mu.Lock()
				defer mu.Unlock()
				if fail {
					return errors.New("slack is down")
				}
				posts = append(posts, text)
				return nil
			},
		}
	}
	a, b := newMonthly(), newMonthly() // two processes
	tick := func(m *report.Monthly, at time.Time) bool {
		t.Helper()
		mu.Lock()
		now = at
		mu.Unlock()
		posted, err := m.Tick(ctx)
		if err != nil {
			assert.ErrorContains(t, err, "slack is down")
		}
		return posted
	}

	// Tuesday 1 December 2026 is a working day: before the office opens,
	// nothing; once it has, November's summary, once between the two.
	assert.False(t, tick(a, time.Date(2026, 12, 1, 7, 0, 0, 0, london)))
	fail = true
	assert.False(t, tick(a, time.Date(2026, 12, 1, 9, 1, 0, 0, london)), "Slack down: not posted")
	fail = false
	assert.True(t, tick(b, time.Date(2026, 12, 1, 9, 2, 0, 0, london)), "posted when Slack is back")
	assert.False(t, tick(a, time.Date(2026, 12, 1, 9, 3, 0, 0, london)))
	assert.False(t, tick(b, time.Date(2026, 12, 15, 10, 0, 0, 0, london)))
	require.Len(t, posts, 1)
	assert.Contains(t, posts[0], "*safecontact: cases in November 2026*")

	// 1 January 2027 is a bank holiday: December's waits for Monday 4th.
	assert.False(t, tick(a, time.Date(2027, 1, 1, 10, 0, 0, 0, london)))
	assert.True(t, tick(a, time.Date(2027, 1, 4, 10, 0, 0, 0, london)))
	require.Len(t, posts, 2)
	assert.Contains(t, posts[1], "*safecontact: cases in December 2026*")
	assert.NotContains(t, posts[1], "abuse", "nothing on a lock screen says what the cases are")
}
