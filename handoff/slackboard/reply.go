package slackboard

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// Writing to the tenant is a deliberate act, never a side effect of
// talking in the case's thread: the claiming officer presses Reply to
// tenant on the card, or uses the Send to tenant shortcut on a reply of
// their own in the thread. Either opens a modal that shows how the
// message will reach the tenant and how it is safe to contact them; the
// message goes only when the modal is submitted, and is then marked in
// the thread.
const (
	// actionReply is the card's Reply to tenant button; its value is the
	// case id.
	actionReply = "reply"
	// ShortcutSendToTenant is the callback id of the message shortcut
	// (More actions → Send to tenant), as the app manifest declares it.
	ShortcutSendToTenant = "send_to_tenant"
	// callbackReply names the reply modal, and blockReply and inputReply
	// its message input. A refused submission names blockReply.
	callbackReply = "reply_to_tenant"
	blockReply    = "reply"
	inputReply    = "text"
	// maxReply is the longest message the modal takes: Twilio's limit
	// for one message body.
	maxReply = 1600
)

// Time budgets of the reply's steps.
const (
	// openBudget bounds opening the modal: Slack's trigger id is good for
	// three seconds.
	openBudget = 3 * time.Second
	// submitBudget bounds the checks of a submission, which Slack must
	// have its answer to within three seconds.
	submitBudget = 2 * time.Second
	// sentMemory is how long a submission is remembered as sent, so that
	// Slack's retry of it sends nothing more.
	sentMemory = 24 * time.Hour
)

// replyMeta is the modal's private_metadata: the case, the channel to
// answer the officer in, and for the shortcut the message it was used
// on, marked 📤 once sent.
type replyMeta struct {
	Case    bot.ConversationID `json:"case"`
	Channel string             `json:"channel"`
	TS      string             `json:"ts,omitempty"`
}

// soon runs f at once on its own goroutine rather than in its turn on
// the worker: a modal must open within its trigger id's three seconds,
// whatever work is queued. Like later, it runs nothing once Close began.
func (s *Slack) soon(f func(context.Context)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.cfg.Log.Warn("slack: shutting down; a request's work is dropped")
		return
	}
	s.wg.Go(func() {
		ctx, cancel := context.WithTimeout(s.ctx, openBudget)
		defer cancel()
		f(ctx)
	})
}

// atOnce reports whether the interaction is handled at once rather than
// in its turn on the worker: one that opens a form (Reply to tenant,
// Contacted, Close, a duty that records something, the shortcut), which
// must open within its trigger id's three seconds, and Claim, which those
// forms check: a claim waiting behind other work would have them refused.
func atOnce(cb slack.InteractionCallback) bool {
	if cb.Type == slack.InteractionTypeMessageAction {
		return true
	}
	for _, a := range cb.ActionCallback.BlockActions {
		switch a.ActionID {
		case actionClaim, actionReply, actionContacted, actionClose, actionDuty:
			return true
		}
	}
	return false
}

// dispatch hands an acknowledged interaction to the background: at once,
// or to the worker, in order.
func (s *Slack) dispatch(cb slack.InteractionCallback) {
	if atOnce(cb) {
		s.soon(func(ctx context.Context) { s.interaction(ctx, cb) })
		return
	}
	s.later(func(ctx context.Context) { s.interaction(ctx, cb) })
}

// whyNot says why the officer may not write to the tenant now, or "".
func whyNot(c *handoff.Case, user string) string {
	switch {
	case c.State == handoff.StateClosed:
		return "the case is closed. It opens again if the tenant writes."
	case c.State != handoff.StateClaimed || c.ClaimedBy != user:
		return "only the officer who claimed the case writes to the tenant."
	case c.Exited:
		return "the tenant ended the chat. Do not text unless they write again."
	}
	return ""
}

// replyButton answers Reply to tenant on a card.
func (s *Slack) replyButton(ctx context.Context, cb slack.InteractionCallback, channel, user string, id bot.ConversationID) {
	tell := func(text string) { s.ephemeral(ctx, channel, user, text) }
	s.openReply(ctx, cb.TriggerID, user, replyMeta{Case: id, Channel: channel}, "", tell)
}

// shortcut answers Send to tenant on a message: the claiming officer's
// own reply in a case's thread.
func (s *Slack) shortcut(ctx context.Context, cb slack.InteractionCallback) {
	if cb.CallbackID != ShortcutSendToTenant {
		return
	}
	user, channel, msg := cb.User.ID, cb.Channel.ID, cb.Message
	tell := func(text string) { s.answer(ctx, cb.ResponseURL, channel, user, text) }
	if !s.officer(user) {
		s.cfg.Log.Warn("slack: shortcut refused: not on the officers' list", "user", user)
		tell("Only officers on safecontact's list can act on cases. Ask your manager to add you.")
		return
	}
	if msg.ThreadTimestamp == "" || msg.ThreadTimestamp == msg.Timestamp {
		tell("Send to tenant works on a reply of yours in a case's thread.")
		return
	}
	id, err := s.cfg.Queue.CaseByCard(ctx, msg.ThreadTimestamp)
	switch {
	case errors.Is(err, handoff.ErrNoCase):
		tell("Send to tenant works on a reply of yours in a case's thread.")
		return
	case err != nil:
		s.cfg.Log.Error("slack: case for a shortcut", "err", err)
		tell("The case could not be read. Please try again.")
		return
	}
	if msg.User != user || msg.BotID != "" {
		tell("You can only send your own message to the tenant. Write it in the thread first, or press Reply to tenant on the card.")
		return
	}
	// The modal shows the message in an input, filled in, rather than
	// as a read-only confirmation: a refused start (a lock-screen word)
	// can then be put right where it is, and the thread records what
	// was sent in the end.
	s.openReply(ctx, cb.TriggerID, user, replyMeta{Case: id, Channel: channel, TS: msg.Timestamp}, fromSlack(msg.Text), tell)
}

// answer tells the officer something privately: through the shortcut's
// response_url when there is one (it works in any channel), otherwise
// as an ephemeral message.
func (s *Slack) answer(ctx context.Context, responseURL, channel, user, text string) {
	if responseURL == "" {
		s.ephemeral(ctx, channel, user, text)
		return
	}
	if err := slack.PostWebhookContext(ctx, responseURL, &slack.WebhookMessage{Text: text, ResponseType: slack.ResponseTypeEphemeral}); err != nil {
		s.cfg.Log.Warn("slack: private answer not posted", "user", user, "err", err)
	}
}

// openReply opens the reply modal for the claiming officer, with text
// filled in. Reading the case through ShowContact records in the thread
// that the officer saw how to contact the tenant.
func (s *Slack) openReply(ctx context.Context, trigger, user string, m replyMeta, text string, tell func(string)) {
	c, err := s.cfg.Queue.Get(ctx, m.Case)
	if err != nil {
		s.cfg.Log.Error("slack: case for a reply", "case", handoff.ShortRef(m.Case), "err", err)
		tell("The case could not be read. Please try again.")
		return
	}
	if why := whyNot(c, user); why != "" {
		tell("You cannot write to the tenant: " + why)
		return
	}
	c, err = s.cfg.Queue.ShowContact(ctx, m.Case, user)
	switch {
	case errors.Is(err, handoff.ErrNotClaimer), errors.Is(err, handoff.ErrNotQueued), errors.Is(err, handoff.ErrClosed):
		tell("You cannot write to the tenant: only the officer who claimed the case writes to the tenant.")
		return
	case err != nil:
		s.cfg.Log.Error("slack: case for a reply", "case", handoff.ShortRef(m.Case), "err", err)
		tell("The case could not be read. Please try again.")
		return
	}
	meta, _ := json.Marshal(m)
	if _, err := s.api.OpenViewContext(ctx, trigger, replyView(c, string(meta), text, m.TS != "")); err != nil {
		s.cfg.Log.Warn("slack: reply form not opened", "case", c.Short(), "err", err)
		tell("The reply form could not be opened. Please try again.")
	}
}

// howSent says how a reply reaches the tenant.
func howSent(c *handoff.Case) string {
	switch c.Channel {
	case bot.ChannelSMS:
		return "By text to the tenant's phone"
	case bot.ChannelWebChat:
		return "In the tenant's open web chat"
	}
	return channelName(c.Channel)
}

// replyView is the modal: how the reply goes and how it is safe to
// contact the tenant (seen only by the claiming officer, who opened it),
// then the message.
func replyView(c *handoff.Case, meta, text string, shortcut bool) slack.ModalViewRequest {
	title := "Reply to tenant"
	if shortcut {
		title = "Send to tenant"
	}
	var contact strings.Builder
	for _, l := range c.Summary {
		if l.Private {
			fmt.Fprintf(&contact, "*%s:* %s\n", escape(l.Label), escape(l.Value))
		}
	}
	if contact.Len() == 0 {
		contact.WriteString("_The tenant did not say how it is safe to contact them._")
	}
	input := slack.NewPlainTextInputBlockElement(plain("Write to the tenant"), inputReply).
		WithMultiline(true).WithMaxLength(maxReply)
	if text != "" {
		input = input.WithInitialValue(text)
	}
	return slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      callbackReply,
		PrivateMetadata: meta,
		Title:           plain(title),
		Submit:          plain("Send"),
		Close:           plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: []slack.Block{
			slack.NewContextBlock("how", mrkdwn(fmt.Sprintf("Case %s · *%s*", c.Short(), howSent(c)))),
			slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, strings.TrimSpace(contact.String()), false, true), nil, nil),
			slack.NewContextBlock("private", mrkdwn("Only you see this; it is recorded in the thread that you looked.")),
			slack.NewInputBlock(blockReply, plain("Message to the tenant"),
				plain("Sent as written, and marked in the thread. Do not begin with a word that would show what it is about on a lock screen."),
				input),
		}},
	}
}

// submitReply checks and sends a submitted reply while Slack waits (a
// few Redis calls) and answers with the refusal, shown in the modal, or
// nil: the reply is on its way (in the outbox, or shown in the chat) and
// the modal closes.
func (s *Slack) submitReply(ctx context.Context, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	refuse := func(why string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{blockReply: why})
	}
	var m replyMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &m); err != nil || m.Case == "" {
		return refuse("This form is out of date. Cancel it and start again from the card.")
	}
	user := cb.User.ID
	if !s.officer(user) {
		return refuse("Only officers on safecontact's list can write to tenants.")
	}
	var text string
	if cb.View.State != nil {
		text = strings.TrimSpace(cb.View.State.Values[blockReply][inputReply].Value)
	}
	if text == "" {
		return refuse("Write the message to send.")
	}
	c, err := s.cfg.Queue.Get(ctx, m.Case)
	if err != nil {
		s.cfg.Log.Error("slack: case for a reply", "case", handoff.ShortRef(m.Case), "err", err)
		return refuse("The case could not be read, so nothing was sent. Please press Send again.")
	}
	if why := whyNot(c, user); why != "" {
		return refuse("Not sent: " + why)
	}
	if word, _ := bot.LockScreenWord(text, s.cfg.LockScreenWords...); word != "" {
		return refuse(fmt.Sprintf("Not sent: the start would show %q on the tenant's lock screen. Please begin it another way.", word))
	}
	if why := s.send(ctx, user, m, replyKey(cb.View.ID, text), text); why != "" {
		return refuse("Not sent: " + why)
	}
	return nil
}

// replyKey names one submission: its view and its text. Slack's retry of
// the submission has the same key; a submission corrected after a
// refusal has another.
func replyKey(viewID, text string) string {
	sum := sha256.Sum256([]byte(text))
	return "slack:view:" + viewID + ":" + hex.EncodeToString(sum[:8])
}

// send relays an accepted reply, once per key, while Slack waits for the
// submission's answer: once the form closes, the reply is in the outbox
// (or shown in the open chat), and a crash cannot lose it. It returns why
// it was not sent, for the form, or "". The case is read again: it may
// have closed, or the tenant left, since the form opened.
func (s *Slack) send(ctx context.Context, user string, m replyMeta, key, text string) string {
	seen := s.cfg.Prefix + "sent:" + key
	first, err := s.cfg.Redis.SetNX(ctx, seen, 1, sentMemory).Result()
	if err != nil {
		s.cfg.Log.Error("slack: reply not checked as new", "case", handoff.ShortRef(m.Case), "err", err)
		return "it could not be checked as new. Please press Send again."
	}
	if !first {
		return "" // Slack's retry of a submission already sent
	}
	forget := func() {
		if err := s.cfg.Redis.Del(context.WithoutCancel(ctx), seen).Err(); err != nil {
			s.cfg.Log.Warn("slack: unsent reply still marked sent", "err", err)
		}
	}
	c, err := s.cfg.Queue.Get(ctx, m.Case)
	if err != nil {
		forget()
		s.cfg.Log.Error("slack: case for a reply", "case", handoff.ShortRef(m.Case), "err", err)
		return "the case could not be read. Please press Send again."
	}
	if why := whyNot(c, user); why != "" {
		forget()
		return why
	}
	if err := s.cfg.Relay.Send(ctx, c, key, text); err != nil {
		forget()
		s.cfg.Log.Warn("slack: reply not relayed", "case", c.Short(), "err", err)
		return err.Error()
	}
	s.cfg.Log.Info("slack: reply sent to the tenant", "case", c.Short(), "officer", user)
	s.later(func(ctx context.Context) { s.markSent(ctx, c, user, m, text) })
	return ""
}

// markSent shows in the case's thread what reached the tenant, and marks
// the message the shortcut was used on.
func (s *Slack) markSent(ctx context.Context, c *handoff.Case, user string, m replyMeta, text string) {
	if c.Card.TS != "" {
		if _, _, err := s.api.PostMessageContext(ctx, c.Card.Channel,
			slack.MsgOptionText("📤 Sent to the tenant by <@"+user+">: "+escape(text), false), slack.MsgOptionTS(c.Card.TS)); err != nil {
			s.cfg.Log.Warn("slack: sent reply not marked in the thread", "case", c.Short(), "err", err)
		}
	}
	if m.TS != "" {
		if err := s.api.AddReactionContext(ctx, "outbox_tray", slack.NewRefToMessage(m.Channel, m.TS)); err != nil {
			s.cfg.Log.Warn("slack: could not mark a reply as sent", "err", err)
		}
	}
}
