// Package relay takes officers' words to tenants and tells officers what
// became of them. Relay sends an officer's reply on the channel the
// tenant used: a text through the SMS outbox, a message in the open web
// chat. Texts tells the officer queue what the outbox learns of those
// texts: delivered, late, undelivered, or refused because the tenant
// opted out with the carrier.
//
// It joins the officer queue (handoff) to the channels (channels/sms,
// channels/webchat), which know nothing of each other.
package relay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/handoff"
)

// Outbox queues a text to a tenant (sms.Outbox).
type Outbox interface {
	Enqueue(ctx context.Context, m sms.OutMessage) error
	// Status returns the state of the text queued with the key; "" for
	// none.
	Status(ctx context.Context, key string) (state, delivery string, err error)
}

// Chat shows a message in a tenant's open web chat (webchat.Server). It
// returns webchat.ErrNoSession when the chat is closed.
type Chat interface {
	Push(ctx context.Context, id bot.ConversationID, key, text string) error
}

// Queue is what the relay and Texts tell the officer queue
// (handoff.Queue).
type Queue interface {
	// Delivered records that an officer's message reached the tenant;
	// handoff.ErrNoCase when there is no case.
	Delivered(ctx context.Context, id bot.ConversationID, how string) error
	// Note adds a line to the case's thread.
	Note(ctx context.Context, id bot.ConversationID, text string) error
	// Deliver applies an event to the case.
	Deliver(ctx context.Context, ev bot.Event) error
}

var (
	_ Outbox = (*sms.Outbox)(nil)
	_ Chat   = (*webchat.Server)(nil)
	_ Queue  = (*handoff.Queue)(nil)
)

// Relay takes an officer's reply to the tenant on the channel they used.
// A reply shown in the open web chat has reached the tenant: the first
// is the case's first contact. A text's arrival is known later, from
// Twilio's delivery status (Texts.Delivered).
type Relay struct {
	// Outbox sends texts; nil when Twilio's REST API is not configured,
	// and then a reply to a texting tenant is refused.
	Outbox Outbox
	Chat   Chat
	Queue  Queue
	Log    *slog.Logger
}

// Send sends the officer's reply text to the case's tenant. key is unique
// to the officer's submission, so a reply sent twice is sent once. Its
// errors are for the officer to read: they name no tenant.
func (r Relay) Send(ctx context.Context, c *handoff.Case, key, text string) error {
	switch c.Channel {
	case bot.ChannelSMS:
		if r.Outbox == nil {
			return errors.New("texts cannot be sent: Twilio's REST API is not configured (TWILIO_ACCOUNT_SID)")
		}
		err := r.Outbox.Enqueue(ctx, sms.OutMessage{Key: key, Conversation: c.ID, To: c.Address, Body: text})
		if err == nil || errors.Is(err, sms.ErrConversationEnded) || errors.Is(err, sms.ErrNotQueued) {
			return err
		}
		return r.queuedAnyway(ctx, c, key, err)
	case bot.ChannelWebChat:
		if err := r.Chat.Push(ctx, c.ID, key, text); errors.Is(err, webchat.ErrNoSession) {
			return errors.New("the tenant's web chat is closed; they can only be reached if they open it again")
		} else if err != nil {
			return err
		}
		// The reply has reached the tenant: whatever happens to the
		// record of it, it must not be reported unsent (and sent again).
		if err := r.Queue.Delivered(ctx, c.ID, "shown in the web chat"); err != nil {
			r.log().Error("officers: a reply shown in the web chat was not recorded as the first contact", "case", c.Short(), "err", err)
		}
		return nil
	}
	return fmt.Errorf("replies cannot reach the %s channel", c.Channel)
}

// queuedAnyway looks for a text whose Enqueue failed: its answer may
// have been lost (a deadline, a connection) after the text was queued,
// and an officer told it was not sent would write it again, and the
// tenant get both. It returns nil when the text is queued, the error
// when it is not, and when nobody can tell, an error saying so.
func (r Relay) queuedAnyway(ctx context.Context, c *handoff.Case, key string, err error) error {
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), lookupLimit)
	defer cancel()
	state, _, serr := r.Outbox.Status(lctx, key)
	switch {
	case serr != nil:
		r.log().Error("officers: a reply's text may or may not be queued", "case", c.Short(), "err", err, "lookup", serr)
		return errors.New("it is not known whether the text was queued, as safecontact's store did not answer: it may still go. Wait a minute and look at the case's thread and card before sending it again")
	case state == sms.StateQueued || state == sms.StateSending || state == sms.StateSent:
		r.log().Warn("officers: a reply's text was queued though queueing it failed", "case", c.Short(), "err", err)
		return nil
	}
	return err
}

// lookupLimit bounds the look for a text whose queueing failed.
const lookupLimit = 2 * time.Second

func (r Relay) log() *slog.Logger {
	if r.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return r.Log
}
