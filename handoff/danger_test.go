package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// alerts returns the alerts among posts.
func alerts(posts []string) []string {
	var out []string
	for _, p := range posts {
		if strings.HasPrefix(p, "alert ") {
			out = append(out, p)
		}
	}
	return out
}

// A case opened on words of danger tells on-call at once. After the
// handoff, each time the tenant writes words of danger the officer's
// thread says so, and on-call is told again if its last alert about the
// case was DangerRealert or more ago: never twice within it, however
// often the tenant writes.
func TestWordsOfDangerAlertOnCallAtMostEveryFifteenMinutes(t *testing.T) {
	t0 := at(2026, 12, 1, 21, 0) // out of hours; urgent alerts at any hour
	f := newFixture(t, t0)
	q := f.queue()
	ctx := context.Background()
	const id = "case-danger-0001"
	deliver := func(t *testing.T, ev bot.Event) {
		t.Helper()
		ev.Conversation = id
		require.NoError(t, q.Deliver(ctx, ev))
	}
	handoffAt := func(reason string, opened, at time.Time, area string) *bot.Handoff {
		return &bot.Handoff{
			Reason: reason, Priority: bot.Urgent, Area: area, Lang: "en", Channel: bot.ChannelSMS,
			Address: "+447700900123", At: at, Opened: opened, Deadline: f.hours.Deadline(opened),
			Summary: []bot.SummaryLine{{Step: "danger", Label: "In danger now", Value: "Yes"}},
		}
	}
	danger := bot.Event{Kind: bot.EventEmergency, Priority: bot.Urgent, Text: "he's back"}
	note := "thread case-dan Tenant wrote words of danger and was told to call 999."

	steps := []struct {
		label string
		after time.Duration // since t0
		event bot.Event
		// alert is the on-call alert the step raises, "" for none.
		alert handoff.Alert
		// thread is a line the step adds to the case's thread.
		thread string
	}{
		{"words of danger open the case", 0,
			bot.Event{Kind: bot.EventHandoff, Priority: bot.Urgent, Handoff: handoffAt(bot.ReasonDanger, t0, t0, "")},
			handoff.AlertOnCall, ""},
		{"the intake ends: the same case, no new alert", 5 * time.Minute,
			bot.Event{Kind: bot.EventHandoff, Priority: bot.Urgent, Handoff: handoffAt(bot.ReasonComplete, t0, t0.Add(5*time.Minute), "shropshire")},
			"", "thread case-dan [tenant] The tenant finished the questions:"},
		{"danger 10 minutes after the alert", 10 * time.Minute, danger, "", note},
		{"danger 20 minutes after the alert", 20 * time.Minute, danger, handoff.AlertDanger, note},
		{"danger again 5 minutes later", 25 * time.Minute, danger, "", note},
		{"16 minutes after the last alert", 36 * time.Minute, danger, handoff.AlertDanger, note},
		{"14 minutes after the last alert", 50 * time.Minute, danger, "", note},
		{"15 minutes after the last alert, to the second", 51 * time.Minute, danger, handoff.AlertDanger, note},
	}
	for _, s := range steps {
		t.Run(s.label, func(t *testing.T) {
			now := t0.Add(s.after)
			f.clock.Set(now)
			s.event.At = now
			before := f.board.Posts()
			deliver(t, s.event)
			f.stepAt(t, q, now)
			posts := f.board.Posts()[len(before):]
			var want []string
			if s.alert != "" {
				want = []string{"alert case-dan " + string(s.alert)}
			}
			assert.Equal(t, want, alerts(posts), "on-call alerts at +%s", s.after)
			if s.thread != "" {
				assert.True(t, containsPrefix(posts, s.thread), "%q in the thread: %q", s.thread, posts)
			}
		})
	}
	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, bot.Urgent, c.Priority)
	assert.Equal(t, handoff.StateQueued, c.State)
	assert.Len(t, filterPrefix(f.board.Posts(), "card "), 1, "one card for the case")
	assert.Contains(t, handoff.AlertDanger.Describe(c, london, nil), "URGENT case case-dan: the tenant wrote words of danger again")
	assert.True(t, handoff.AlertDanger.OnCall(), "the alert goes to on-call")
}

// A case that opened without alerting on-call (standard, in office
// hours) alerts on-call as urgent at the tenant's first words of danger,
// and then keeps to the same fifteen minutes.
func TestWordsOfDangerOnAStandardCaseAlertOnCallFirst(t *testing.T) {
	t0 := at(2026, 12, 1, 11, 0)
	f := newFixture(t, t0)
	q := f.queue()
	ctx := context.Background()
	f.handoff(t, q, "case-standard-danger", bot.Standard)
	f.stepAt(t, q, t0)
	require.Empty(t, alerts(f.board.Posts()))
	for _, s := range []struct {
		after time.Duration
		want  []string
	}{
		{time.Minute, []string{"alert case-sta oncall"}},
		{10 * time.Minute, nil},
		{16 * time.Minute, []string{"alert case-sta danger"}},
	} {
		now := t0.Add(s.after)
		f.clock.Set(now)
		before := len(f.board.Posts())
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventEmergency, Conversation: "case-standard-danger", Priority: bot.Urgent, At: now}))
		f.stepAt(t, q, now)
		assert.Equal(t, s.want, alerts(f.board.Posts()[before:]), "+%s", s.after)
	}
}

func containsPrefix(list []string, prefix string) bool {
	return len(filterPrefix(list, prefix)) > 0
}

func filterPrefix(list []string, prefix string) []string {
	var out []string
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			out = append(out, s)
		}
	}
	return out
}
