package bot

import "time"

// Channel names the transport a conversation uses.
type Channel string

// The channels safecontact serves.
const (
	ChannelSMS     Channel = "sms"
	ChannelWebChat Channel = "webchat"
	ChannelConsole Channel = "console"
)

// Inbound is one message from a tenant.
type Inbound struct {
	Channel Channel
	// Address identifies the tenant on the channel: a phone number in E.164
	// for SMS, a session token for web chat. It is never used as a key in
	// clear and never logged.
	Address string
	// MessageID is the channel's id for this message (Twilio's MessageSid).
	// A message id already applied to the conversation is not applied again.
	// Empty means the channel has no ids and every message is new.
	MessageID string
	Text      string
	// Attachments is how many pictures or other files came with the
	// message (Twilio's NumMedia). The engine never sees or keeps them:
	// it tells the tenant they cannot be received here (MsgAttachment)
	// and tells the officers one was sent and not kept (AttachmentNote).
	Attachments int
	// Lang and Area are hints for a new conversation: the language to start
	// in and the tenant's area (a web chat on an area's own page knows it).
	// Unknown values are ignored; an existing conversation keeps its own.
	Lang string
	Area string
	// Continue is set on a message that can only continue a conversation
	// the channel started (the web chat's messages after its first). If
	// there is none, or it was erased (the tenant left by the quick exit,
	// perhaps through another process, while this message was on its
	// way), Handle applies nothing and returns ErrNoConversation rather
	// than start a conversation from words the tenant left behind.
	Continue bool
}

// Reply is one message from safecontact to the tenant.
type Reply struct {
	Text string `json:"t"`
	// Choices are the answers the question in Text takes, for a channel
	// that can offer them as buttons (the web chat). Typing still works;
	// SMS ignores them. Only the last reply of a turn carries them.
	Choices []Choice `json:"c,omitempty"`
}

// Choice is one answer a channel may offer as a button: Label is what the
// button reads, in the conversation's language, and Send is the text the
// button sends, as if the tenant had typed it.
type Choice struct {
	Label string `json:"l"`
	Send  string `json:"s"`
}

// Line is one entry of a conversation's transcript: what the tenant wrote
// at which step. The bot's own lines follow from the flow and are not kept.
type Line struct {
	At   time.Time `json:"at"`
	Step string    `json:"s"`
	Text string    `json:"x"`
}
