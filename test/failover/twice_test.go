package failover_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
)

// TestAppliedTwiceIsTheLostAnswerOnly checks the failover test's own
// reading of a transcript: a text applied twice is put down to a lost
// answer only when the text was in flight at the kill, got the fallback,
// and its line stands at its own step and at the next.
func TestAppliedTwiceIsTheLostAnswerOnly(t *testing.T) {
	ref := references(t, toHandoff)[len(toHandoff)]
	kill := time.Now()
	f := &figures{killedAt: kill}
	const k = 2 // "n", read again as the answer to the question after
	twice := append(slices.Clone(ref.lines[:k+1]), bot.Line{Step: ref.lines[k+1].Step, Text: toHandoff[k]})
	fallback := attempt{sent: kill.Add(-10 * time.Millisecond), answered: kill.Add(time.Second), status: http.StatusOK, messages: []string{sms.Fallback}}
	resent := attempt{sent: kill.Add(3 * time.Second), answered: kill.Add(3 * time.Second), status: http.StatusOK, messages: []string{"not the script's answer"}}
	conv := func(first attempt) *conversation {
		c := &conversation{script: toHandoff, ref: ref, diverged: k, turns: make([][]attempt, len(toHandoff))}
		c.turns[k] = []attempt{first, resent}
		return c
	}
	afterTheKill := fallback
	afterTheKill.sent = kill.Add(10 * time.Millisecond)
	answered := fallback
	answered.messages = []string{"an answer"}
	for _, tc := range []struct {
		name  string
		c     *conversation
		lines []bot.Line
		want  int
	}{
		{"in flight at the kill, fallback, applied again", conv(fallback), twice, k},
		{"sent after the kill", conv(afterTheKill), twice, -1},
		{"answered, not the fallback", conv(answered), twice, -1},
		{"applied once", conv(fallback), ref.lines[:k+1], -1},
		{"applied again at another step", conv(fallback), append(slices.Clone(ref.lines[:k+1]), bot.Line{Step: ref.lines[k].Step, Text: toHandoff[k]}), -1},
		{"another text applied next", conv(fallback), append(slices.Clone(ref.lines[:k+1]), bot.Line{Step: ref.lines[k+1].Step, Text: "2"}), -1},
	} {
		if got := appliedTwice(tc.c, tc.lines, f); got != tc.want {
			t.Errorf("%s: appliedTwice = %d, want %d", tc.name, got, tc.want)
		}
	}
}
