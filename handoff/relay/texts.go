package relay

import (
	"context"
	"errors"
	"log/slog"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/handoff"
)

// Texts tells the officer queue what the SMS outbox learns of officers'
// texts. A text that cannot be delivered is noted in the case's thread
// for the officer; a tenant who opted out with the carrier marks the case
// as ended. A conversation the tenant ended (exit, STOP, DELETE) is gone
// from the store and is never texted: that is the outbox's gate, not
// this.
type Texts struct {
	Queue Queue
	Log   *slog.Logger
	// Undelivered, when set, is told of each text given up, after the
	// officer is: the metrics count them.
	Undelivered func(optedOut bool)
}

// Options returns the outbox's options with o's callbacks set to t's
// methods.
func (t Texts) Options(o sms.OutboxOptions) sms.OutboxOptions {
	o.Undelivered, o.Delivered, o.Late = t.TextUndelivered, t.TextDelivered, t.TextLate
	return o
}

// TextUndelivered tells the officer a text of theirs was given up: the
// case ends when the tenant opted out, and is noted with the reason
// otherwise.
func (t Texts) TextUndelivered(ctx context.Context, conv bot.ConversationID, optedOut bool, reason string) {
	if t.Undelivered != nil {
		t.Undelivered(optedOut)
	}
	var err error
	if optedOut {
		err = t.Queue.Deliver(ctx, bot.Event{Kind: bot.EventOptedOut, Conversation: conv, Channel: bot.ChannelSMS})
	} else {
		err = t.Queue.Note(ctx, conv, "A text from an officer did not reach the tenant: "+reason+".")
	}
	if err != nil {
		t.log().Error("outbox: the officer could not be told of an undelivered text", "conversation", conv, "err", err)
	}
}

// TextDelivered records a text Twilio reports delivered: the officer's
// message reached the tenant, and the first is the case's first contact.
func (t Texts) TextDelivered(ctx context.Context, conv bot.ConversationID) {
	if err := t.Queue.Delivered(ctx, conv, "text delivered"); err != nil && !errors.Is(err, handoff.ErrNoCase) {
		t.log().Error("outbox: a delivered text was not recorded on its case", "conversation", conv, "err", err)
	}
}

// TextLate notes in the case's thread a text still not sent a minute
// after the officer wrote it: they should not wait on it unknowing.
func (t Texts) TextLate(ctx context.Context, conv bot.ConversationID, reason string) {
	if err := t.Queue.Note(ctx, conv, "A text from an officer has not gone to the tenant after a minute ("+reason+"). safecontact keeps trying, and says here if it gives up."); err != nil {
		t.log().Error("outbox: the officer could not be told of a late text", "conversation", conv, "err", err)
	}
}

func (t Texts) log() *slog.Logger {
	if t.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return t.Log
}
