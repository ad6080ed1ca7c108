package slackboard

import (
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"safecontact/bot"
	"safecontact/handoff"
)

// Action ids on the case card.
const (
	actionClaim   = "claim"
	actionContact = "contact"
	actionClose   = "close"
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

// blocks draws the case card: priority, area, channel and deadline at a
// glance, the tenant's answers, and what an officer can do now.
func blocks(c *handoff.Case, loc *time.Location) []slack.Block {
	head := fmt.Sprintf("%s %s priority · %s", priorityMark[c.Priority], strings.ToUpper(c.Priority.String()), escape(areaName(c)))
	out := []slack.Block{
		slack.NewSectionBlock(mrkdwn("*"+head+"*"), nil, nil),
		slack.NewSectionBlock(nil, []*slack.TextBlockObject{
			mrkdwn("*Status*\n" + status(c)),
			mrkdwn("*Contact by*\n" + c.Deadline.In(loc).Format("Mon 2 Jan, 15:04")),
			mrkdwn("*Channel*\n" + channelName(c.Channel) + " · " + c.Lang),
			mrkdwn("*Case*\n" + c.Short()),
		}, nil),
	}
	if c.Reason == bot.ReasonDanger {
		out = append(out, slack.NewSectionBlock(mrkdwn(":rotating_light: *Opened on the tenant's words of danger, before the questions ended.* The answers below fill in as the tenant goes on."), nil, nil))
	}
	if c.Exited {
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
	if private {
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
	for _, l := range c.Summary {
		if l.Action != "" && c.State != handoff.StateClosed {
			out = append(out, slack.NewSectionBlock(mrkdwn(":pushpin: *"+escape(l.Action)+"*"), nil, nil))
		}
	}
	switch c.State {
	case handoff.StateQueued:
		out = append(out, slack.NewActionBlock("actions",
			slack.NewButtonBlockElement(actionClaim, string(c.ID), plain("Claim")).WithStyle(slack.StylePrimary)))
	case handoff.StateClaimed:
		var opts []*slack.OptionBlockObject
		for _, o := range Outcomes {
			opts = append(opts, slack.NewOptionBlockObject(o, plain(o), nil))
		}
		out = append(out, slack.NewActionBlock("actions",
			slack.NewButtonBlockElement(actionReply, string(c.ID), plain("Reply to tenant")).WithStyle(slack.StylePrimary),
			slack.NewButtonBlockElement(actionContact, string(c.ID), plain("Show contact")),
			slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Close with outcome"), actionClose, opts...)))
	}
	out = append(out, slack.NewContextBlock("help", mrkdwn(
		"Replies in this thread stay in Slack: the tenant never sees them. To write to the tenant, the officer who claimed the case presses *Reply to tenant*, or uses More actions → *Send to tenant* on their own reply.")))
	return out
}
