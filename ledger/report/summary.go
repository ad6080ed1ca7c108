package report

import (
	"fmt"
	"strings"
)

// MonthlySummary is a few lines of Slack mrkdwn for the managers' channel
// about r, normally last month's report: cases opened by priority, the
// share contacted within the promise, duties not done on time, out of
// hours and left early, with small numbers hidden as in the report ("<5"
// is escaped as Slack asks, "&lt;5"). It holds no personal data, and its
// first line, which a phone's notification shows, does not say what the
// cases are about. For example:
//
//	*safecontact: cases in November 2026*
//	• Cases opened: *42* (urgent 6, high 12, standard 24)
//	• Contacted within the promised time: *88%* of those due
//	• Duties not done on time: *7*
//	• Opened out of hours: 15 · left early: &lt;5
//	_&lt;5 means fewer than five; [c] hides a figure that would give one away._
func MonthlySummary(r Report) string {
	fig := map[string]Value{}
	for _, f := range r.Summary {
		fig[f.Label] = f.Value
	}
	v := func(label string) string { return slackEscape(fig[label].String()) }
	period := fmt.Sprintf("from %s to %s", r.First.Format("2 Jan 2006"), r.Last.Format("2 Jan 2006"))
	if r.First.Day() == 1 && r.Last.Month() == r.First.Month() && r.Last.Year() == r.First.Year() &&
		r.Last.AddDate(0, 0, 1).Month() != r.Last.Month() {
		period = "in " + r.First.Format("January 2006")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*safecontact: cases %s*\n", period)
	fmt.Fprintf(&b, "• Cases opened: *%s* (urgent %s, high %s, standard %s)\n", v(figCases), v(figUrgent), v(figHigh), v(figStandard))
	fmt.Fprintf(&b, "• Contacted within the promised time: *%s* of those due\n", v(figWithin))
	fmt.Fprintf(&b, "• Duties not done on time: *%s*\n", v(figOverdue))
	fmt.Fprintf(&b, "• Opened out of hours: %s · left early: %s\n", v(figOutOfHours), v(figLeft))
	b.WriteString("_&lt;5 means fewer than five; [c] hides a figure that would give one away._\n")
	return b.String()
}

// slackEscape escapes what Slack's mrkdwn reads as markup.
func slackEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
