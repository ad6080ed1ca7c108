package slackboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// Action ids on the case card; the rest are in manage.go.
const (
	actionClaim   = "claim"
	actionContact = "contact"
)

// Outcomes an officer closes a case with, from the landlords' policies:
// contact made and support arranged (seed 001 §3.0), referral on (seed 004
// §6), no safe way to reach the tenant, or not a case for this team.
var Outcomes = []string{
	"Contacted: safety plan agreed",
	"Contacted: referred to support services",
	"Contacted: housing options given",
	"Could not contact safely",
	"Tenant declined support",
	"Not domestic abuse: passed on",
}

var priorityMark = map[bot.Priority]string{
	bot.Urgent:   ":red_circle:",
	bot.High:     ":large_orange_circle:",
	bot.Standard: ":white_circle:",
}

// escape makes text safe for Slack's mrkdwn: a tenant cannot mention
// @channel or forge a link.
func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

// areaName is the area as the tenant's summary names it ("Telford &
// Wrekin"), or its id.
func areaName(c *handoff.Case) string {
	for _, l := range c.Summary {
		if l.Step == "area" && l.Value != bot.Skipped {
			return l.Value
		}
	}
	return handoff.AreaName(c.Area)
}

func channelName(ch bot.Channel) string {
	switch ch {
	case bot.ChannelSMS:
		return "SMS"
	case bot.ChannelWebChat:
		return "Web chat"
	}
	return string(ch)
}

// cardText is the card's notification text: no personal data, and
// nothing that would say what the case is about on an officer's lock
// screen either.
func cardText(c *handoff.Case) string {
	return fmt.Sprintf("%s case %s: %s", strings.ToUpper(c.Priority.String()[:1])+c.Priority.String()[1:], c.Short(), status(c))
}

func status(c *handoff.Case) string {
	switch c.State {
	case handoff.StateClaimed:
		return "claimed by <@" + c.ClaimedBy + ">"
	case handoff.StateClosed:
		return "closed by <@" + c.ClosedBy + ">: " + escape(c.Outcome)
	}
	if c.Reopened {
		return "reopened, waiting to be claimed"
	}
	return "waiting to be claimed"
}

// when is a time as officers read it on a card.
func when(t time.Time, loc *time.Location) string { return t.In(loc).Format("Mon 2 Jan, 15:04") }

// left says how long is left until t, or how long it is overdue, in
// hours and minutes, as of now.
func left(t, now time.Time) string {
	d := t.Sub(now).Round(time.Minute)
	word := "left"
	if d < 0 {
		d, word = -d, "overdue"
	}
	h, m := int(d.Hours()), int(d.Minutes())%60
	switch {
	case h >= 48:
		return fmt.Sprintf("%d days %s", h/24, word)
	case h > 0:
		return fmt.Sprintf("%dh %02dm %s", h, m, word)
	}
	return fmt.Sprintf("%dm %s", m, word)
}

// contactField is the card's promise: when contact is due and how long is
// left, or when and how it was made.
func contactField(c *handoff.Case, loc *time.Location, now time.Time) (due, made string) {
	due = when(c.Deadline, loc)
	if c.Contacted() {
		made = ":white_check_mark: " + when(c.ContactedAt, loc) + ", " + escape(c.ContactHow)
		if c.ContactedAt.After(c.Deadline) {
			made += " (after the deadline)"
		}
		return due, made
	}
	made = ":hourglass_flowing_sand: Not yet"
	if c.State == handoff.StateClosed {
		return due, "No"
	}
	mark := ""
	if now.After(c.Deadline) {
		mark = ":red_circle: "
	}
	return due + "\n" + mark + left(c.Deadline, now) + " (at " + now.In(loc).Format("15:04") + ")", made
}

// dutyLine is one duty on the card: done (by whom, when, what was
// recorded), due (by when, and the policy), or a standing caution.
func dutyLine(d *handoff.Duty, loc *time.Location, now time.Time) string {
	switch {
	case d.Reminder:
		return fmt.Sprintf(":warning: *%s* (%s)", escape(d.Title), escape(d.Source))
	case d.Done():
		line := fmt.Sprintf(":white_check_mark: ~%s~ done by <@%s>, %s", escape(d.Title), d.DoneBy, when(d.DoneAt, loc))
		if d.Value != "" {
			line += " (" + escape(d.Value) + ")"
		}
		if d.Late(now) {
			line += ", after it was due"
		}
		return line
	}
	mark := ":black_square_button:"
	if d.Late(now) {
		mark = ":red_circle:"
	}
	line := fmt.Sprintf("%s *%s*", mark, escape(d.Title))
	if !d.Due.IsZero() {
		line += " due " + when(d.Due, loc) + " (" + left(d.Due, now) + ")"
	} else {
		line += " before closing"
	}
	return line + " · " + escape(d.Source)
}

// blocks draws the case card: at a glance its priority, area, who holds
// it, the contact deadline with the time left and whether contact has
// happened; then the tenant's answers, the policy's duties, and what an
// officer can do now.
func blocks(c *handoff.Case, loc *time.Location, now time.Time, offered []handoff.DutyRule) []slack.Block {
	head := fmt.Sprintf("%s %s priority · %s", priorityMark[c.Priority], strings.ToUpper(c.Priority.String()), escape(areaName(c)))
	due, made := contactField(c, loc, now)
	out := []slack.Block{
		slack.NewSectionBlock(mrkdwn("*"+head+"*"), nil, nil),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Status*\n" + status(c)),
			mrkdwn("*Contact by*\n" + due),
			mrkdwn("*Contact made*\n" + made),
			mrkdwn("*Channel*\n" + channelName(c.Channel) + " · " + c.Lang),
			mrkdwn("*Case*\n" + c.Short()),
			mrkdwn("*Opened*\n" + when(c.Opened, loc)),
		}, nil),
	}
	if c.Reason == bot.ReasonDanger {
		out = append(out, slack.NewSectionBlock(mrkdwn(":rotating_light: *Opened on the tenant's words of danger, before the questions ended.* The answers below fill in as the tenant goes on."), nil, nil))
	}
	if c.Erased {
		out = append(out, slack.NewSectionBlock(mrkdwn(":wastebasket: *The tenant asked for their words to be erased.* Their answers and messages are removed and their contact details are gone. Do not try to contact them unless they write again."), nil, nil))
	} else if c.Exited {
		out = append(out, slack.NewSectionBlock(mrkdwn(":warning: *Tenant ended the chat — do not text unless they write again.*"), nil, nil))
	}
	var sum strings.Builder
	private := false
	for _, l := range c.Summary {
		if l.Private {
			private = true
			continue
		}
		fmt.Fprintf(&sum, "*%s:* %s\n", escape(l.Label), escape(l.Value))
	}
	if private && !c.Erased {
		sum.WriteString("_How to contact the tenant safely: Show contact, once claimed._\n")
	}
	if sum.Len() == 0 && c.Reason == bot.ReasonDanger {
		sum.WriteString("_No answers yet._")
	} else if sum.Len() == 0 {
		sum.WriteString("_The tenant asked for an officer before answering the questions._")
	}
	// verbatim: Slack does not turn the tenant's words into links or
	// mentions.
	out = append(out, slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.TrimSpace(sum.String()), false, true), nil, nil))
	if len(c.Duties) > 0 {
		lines := []string{"*What the policy asks*"}
		for _, d := range c.Duties {
			lines = append(lines, dutyLine(d, loc, now))
		}
		out = append(out, slack.NewSectionBlock(mrkdwn(strings.Join(lines, "\n")), nil, nil))
	} else {
		for _, l := range c.Summary {
			if l.Action != "" && c.State != handoff.StateClosed {
				out = append(out, slack.NewSectionBlock(mrkdwn(":pushpin: *"+escape(l.Action)+"*"), nil, nil))
			}
		}
	}
	out = append(out, actionBlocks(c, offered)...)
	out = append(out, slack.NewContextBlock("help", mrkdwn(
		"Replies in this thread stay in Slack: the tenant never sees them. To write to the tenant, the officer who claimed the case presses *Reply to tenant*, or uses More actions → *Send to tenant* on their own reply.")))
	return out
}

// actionBlocks are what an officer can do with the case now. A manager
// may also assign a waiting case, and do anything the holder can.
func actionBlocks(c *handoff.Case, offered []handoff.DutyRule) []slack.Block {
	id := string(c.ID)
	switch c.State {
	case handoff.StateQueued:
		return []slack.Block{slack.NewActionBlock("actions",
			slack.NewButtonBlockElement(actionClaim, id, plain("Claim")).WithStyle(slack.StylePrimary),
			slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Assign to… (managers)"), actionReassign))}
	case handoff.StateClaimed:
	default:
		return nil
	}
	first := []slack.BlockElement{
		slack.NewButtonBlockElement(actionReply, id, plain("Reply to tenant")).WithStyle(slack.StylePrimary),
		slack.NewButtonBlockElement(actionContact, id, plain("Show contact")),
	}
	if !c.Contacted() {
		first = append(first, slack.NewButtonBlockElement(actionContacted, id, plain("Contacted")))
	}
	first = append(first, slack.NewButtonBlockElement(actionClose, id, plain("Close")))
	second := []slack.BlockElement{
		slack.NewButtonBlockElement(actionUnclaim, id, plain("Unclaim")),
		slack.NewOptionsSelectBlockElement(slack.OptTypeUser, plain("Reassign to…"), actionReassign),
	}
	var open []*slack.OptionBlockObject
	for _, d := range c.Duties {
		if !d.Reminder && !d.Done() {
			open = append(open, slack.NewOptionBlockObject(dutyValue(c.ID, d.ID), plain(clip(d.Title, 75)), nil))
		}
	}
	if len(open) > 0 {
		second = append(second, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Mark a duty done"), actionDuty, open...))
	}
	var add []*slack.OptionBlockObject
	for _, r := range offered {
		if c.Duty(r.ID) == nil {
			add = append(add, slack.NewOptionBlockObject(dutyValue(c.ID, r.ID), plain(clip(r.Title, 75)), nil))
		}
	}
	if len(add) > 0 {
		second = append(second, slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Add a duty"), actionAddDuty, add...))
	}
	return []slack.Block{slack.NewActionBlock("actions", first...), slack.NewActionBlock("manage", second...)}
}

// clip shortens s to n characters for a Slack option's text.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}
