package slackboard

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// interaction handles a button press or an option picked on a card, and
// the Send to tenant shortcut on a message.
func (s *Slack) interaction(ctx context.Context, cb slack.InteractionCallback) {
	switch cb.Type {
	case slack.InteractionTypeMessageAction:
		s.shortcut(ctx, cb)
		return
	case slack.InteractionTypeBlockActions:
	default:
		return
	}
	user := cb.User.ID
	channel := cb.Channel.ID
	if channel == "" {
		channel = cb.Container.ChannelID
	}
	for _, a := range cb.ActionCallback.BlockActions {
		if !s.officer(user) {
			s.cfg.Log.Warn("slack: action refused: not on the officers' list", "user", user, "action", a.ActionID)
			s.ephemeral(ctx, channel, user, "Only officers on safecontact's list can act on cases. Ask your manager to add you.")
			return
		}
		switch a.ActionID {
		case actionClaim:
			s.claim(ctx, channel, user, caseID(a.Value))
		case actionReply:
			s.replyButton(ctx, cb, channel, user, caseID(a.Value))
		case actionContact:
			s.showContact(ctx, channel, user, caseID(a.Value))
		default:
			s.manage(ctx, cb, channel, user, a)
		}
	}
}

func (s *Slack) claim(ctx context.Context, channel, user string, id bot.ConversationID) {
	by, err := s.cfg.Queue.Claim(ctx, id, user)
	switch {
	case err == nil:
		s.cfg.Log.Info("slack: case claimed", "case", handoff.ShortRef(id), "officer", user)
	case errors.Is(err, handoff.ErrClaimed):
		s.ephemeral(ctx, channel, user, fmt.Sprintf("<@%s> has already claimed case %s.", by, handoff.ShortRef(id)))
	case errors.Is(err, handoff.ErrClosed):
		s.ephemeral(ctx, channel, user, fmt.Sprintf("Case %s is closed.", handoff.ShortRef(id)))
	default:
		s.cfg.Log.Error("slack: claim failed", "case", handoff.ShortRef(id), "err", err)
		s.ephemeral(ctx, channel, user, "The claim did not go through. Please press Claim again.")
	}
}

// showContact answers the claiming officer alone with the tenant's
// number and how it is safe to contact them; the queue records it.
func (s *Slack) showContact(ctx context.Context, channel, user string, id bot.ConversationID) {
	c, err := s.cfg.Queue.ShowContact(ctx, id, user)
	if err != nil {
		if errors.Is(err, handoff.ErrNotClaimer) || errors.Is(err, handoff.ErrNotQueued) || errors.Is(err, handoff.ErrClosed) {
			s.ephemeral(ctx, channel, user, "Only the officer who claimed the case can see the tenant's contact.")
			return
		}
		s.cfg.Log.Error("slack: show contact failed", "case", handoff.ShortRef(id), "err", err)
		s.ephemeral(ctx, channel, user, "The contact could not be shown. Please try again.")
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Case %s, only you can see this (it is recorded that you asked).\n", c.Short())
	switch c.Channel {
	case bot.ChannelSMS:
		fmt.Fprintf(&b, "*Number:* %s\n", escape(c.Address))
	default:
		fmt.Fprintf(&b, "*Channel:* %s: write with Reply to tenant while their chat is open; there is no number.\n", channelName(c.Channel))
	}
	for _, l := range c.Summary {
		if l.Private {
			fmt.Fprintf(&b, "*%s:* %s\n", escape(l.Label), escape(l.Value))
		}
	}
	if c.Exited {
		b.WriteString(":warning: The tenant ended the chat — do not text unless they write again.\n")
	}
	s.ephemeral(ctx, channel, user, strings.TrimSpace(b.String()))
}

// hintEvery is how often the claiming officer is reminded, on a reply in
// a case's thread, that it stays in Slack.
const hintEvery = 24 * time.Hour

// message handles a message in a channel. Nothing written in a case's
// thread reaches the tenant, whoever writes it: the claiming officer
// writes to the tenant with Reply to tenant, or Send to tenant on the
// message (reply.go). Their first thread reply on a case in a day brings
// them a private reminder of that.
func (s *Slack) message(ctx context.Context, ev *slackevents.MessageEvent) {
	if ev.BotID != "" || ev.User == "" || ev.User == s.botID || ev.SubType != "" ||
		ev.ThreadTimeStamp == "" || ev.ThreadTimeStamp == ev.TimeStamp {
		return
	}
	id, err := s.cfg.Queue.CaseByCard(ctx, ev.ThreadTimeStamp)
	if err != nil {
		return // not a case's thread
	}
	c, err := s.cfg.Queue.Get(ctx, id)
	if err != nil || c.State != handoff.StateClaimed || c.ClaimedBy != ev.User {
		return
	}
	first, err := s.cfg.Redis.SetNX(ctx, s.cfg.Prefix+"hint:"+string(id)+":"+ev.User, 1, hintEvery).Result()
	if err != nil || !first {
		return
	}
	s.ephemeral(ctx, ev.Channel, ev.User, "This stays in Slack: replies in a case's thread never reach the tenant. "+
		"To send it to them, choose More actions → Send to tenant on your message, or press Reply to tenant on the card.")
}

var slackMarkup = regexp.MustCompile(`<([^<>|]*)(?:\|([^<>]*))?>`)

// fromSlack turns Slack's message markup into the plain text a tenant
// reads: links show their label (or the address), mentions their id, and
// entities are decoded.
func fromSlack(text string) string {
	text = slackMarkup.ReplaceAllStringFunc(text, func(m string) string {
		p := slackMarkup.FindStringSubmatch(m)
		if p[2] != "" {
			return p[2]
		}
		return strings.TrimPrefix(strings.TrimPrefix(p[1], "mailto:"), "tel:")
	})
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&").Replace(text)
}
