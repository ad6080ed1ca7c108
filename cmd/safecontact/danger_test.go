package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
)

// onCallWithin is how soon on-call must hear of a tenant's danger.
const onCallWithin = 5 * time.Second

// hoursFile writes an hours.yaml open round the clock every day, closed
// on the given dates, into a flows directory of its own, and returns the
// directory.
func hoursFile(t *testing.T, closed ...time.Time) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\ntimezone: Europe/London\nweek:\n")
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		fmt.Fprintf(&b, "  %s: \"00:00-24:00\"\n", d)
	}
	b.WriteString("holidays: none\nclosed:\n")
	for _, d := range closed {
		fmt.Fprintf(&b, "  - {date: %s, note: closed for the test}\n", d.Format("2006-01-02"))
	}
	if len(closed) == 0 {
		b.WriteString("  []\n")
	}
	b.WriteString("open: []\n")
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hours.yaml"), []byte(b.String()), 0o644))
	return dir
}

// topLevel returns the posts in the channel that are not in a thread
// (cards and alerts) and mention s.
func (r *officersRig) topLevel(channel, s string) []slackfake.Call {
	var out []slackfake.Call
	for _, c := range r.slack.Calls("chat.postMessage") {
		if c.Channel() == channel && c.ThreadTS() == "" && strings.Contains(c.Text()+c.Blocks(), s) {
			out = append(out, c)
		}
	}
	return out
}

// waitThread waits until the card's thread has a line containing s.
func (r *officersRig) waitThread(ts, s string) {
	r.t.Helper()
	require.Eventually(r.t, func() bool {
		for _, l := range r.threadTexts(ts) {
			if strings.Contains(l, s) {
				return true
			}
		}
		return false
	}, 10*time.Second, 20*time.Millisecond, "%q in the thread: %q", s, r.threadTexts(ts))
}

// A tenant in danger before the intake ends: their case opens at once,
// urgent, in the catch-all channel (the area is not known yet), and
// on-call is told within seconds, in office hours and out of them. The
// rest of the intake updates that case rather than opening another, and
// words of danger soon after the last on-call alert go to the thread
// without alerting again.
func TestDangerBeforeTheHandoffReachesOnCall(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	today := time.Now().In(london)
	tests := []struct {
		label string
		// closed are the office's closed days: none is office hours all
		// the time.
		closed []time.Time
		// danger answers "Are you in danger right now?".
		danger string
		// contactBy is the card's deadline: a day of open time on.
		contactBy string
	}{
		{
			label: "in office hours, yes to the danger question", danger: "y",
			contactBy: today.Add(24 * time.Hour).Format("Mon 2 Jan"),
		},
		{
			label: "out of hours, words of danger", danger: "he's here and he's got a knife",
			closed:    []time.Time{today, today.AddDate(0, 0, 1)},
			contactBy: time.Date(today.Year(), today.Month(), today.Day()+3, 0, 0, 0, 0, london).Format("Mon 2 Jan, 15:04"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			r := newOfficersRigWith(t, map[string]string{"SAFECONTACT_FLOWS": hoursFile(t, tt.closed...)})
			r.text("hi")
			assert.Contains(t, r.text("y"), "Are you in danger right now?")

			sent := time.Now()
			twiml := r.text(tt.danger)
			assert.Contains(t, twiml, "If you are in danger now, call 999.", "the emergency reply")
			assert.Contains(t, twiml, "Which area is the home in?", "then the next question")

			// The card, urgent, in the catch-all channel, and on-call told:
			// both within seconds of the text.
			var card slackfake.Call
			require.Eventually(t, func() bool {
				cards := r.topLevel("C-ALL", `"action_id":"claim"`)
				if len(cards) > 0 {
					card = cards[0]
				}
				return len(cards) > 0
			}, onCallWithin, 20*time.Millisecond, "the case's card in the catch-all channel")
			short := caseID(t, card)[:8]
			require.Eventually(t, func() bool { return len(r.topLevel("C-ONCALL", short)) > 0 },
				onCallWithin-time.Since(sent), 20*time.Millisecond, "on-call told of case %s", short)
			t.Logf("on-call told %s after the text", time.Since(sent).Round(time.Millisecond))
			alert := r.topLevel("C-ONCALL", short)[0]
			assert.Contains(t, alert.Text(), "URGENT case "+short+" needs on-call now.")
			assert.Contains(t, card.Blocks(), "URGENT priority")
			assert.Contains(t, card.Blocks(), "Opened on the tenant's words of danger")
			assert.Contains(t, card.Blocks(), tt.contactBy, "contact by a day of open time on")
			assert.NotContains(t, card.Blocks(), r.number[3:], "the number is never in a channel")

			// The tenant goes on: Shropshire, an officer to contact them,
			// how, and send.
			assert.Contains(t, r.text("2"), "What would you like to do now?")
			assert.Contains(t, r.text("2"), "How and when is it safe for us to contact you?")
			assert.Contains(t, r.text("text only after 6pm"), "Reply 1 to send this to us")
			assert.Contains(t, r.text("1"), "An officer will")
			r.waitThread(card.TS, "The tenant finished the questions:")
			require.Eventually(t, func() bool {
				for _, u := range r.slack.Calls("chat.update") {
					if u.Form.Get("ts") == card.TS && strings.Contains(u.Blocks(), "Shropshire") {
						return true
					}
				}
				return false
			}, 10*time.Second, 20*time.Millisecond, "the card is redrawn with the area")
			assert.Len(t, r.topLevel("C-ALL", short), 1, "one card for the case")
			assert.Empty(t, r.topLevel("C-SHROP", short), "the card stays where it was posted")

			// Words of danger again, minutes after on-call was told: the
			// tenant gets the emergency reply and the officer's thread has
			// it, but on-call is not told twice within DangerRealert.
			assert.Contains(t, r.text("help me now"), "call 999")
			r.waitThread(card.TS, "Tenant wrote words of danger and was told to call 999.")
			r.text("are you there")
			r.waitThread(card.TS, "Tenant: are you there") // posted after any alert the danger raised
			assert.Len(t, r.topLevel("C-ONCALL", short), 1, "on-call told once")
		})
	}
}
