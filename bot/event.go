package bot

import "time"

// EventKind says what happened in a turn beyond the replies.
type EventKind string

// The events a turn can produce.
const (
	// EventHandoff: the case goes to an officer (intake complete, or the
	// tenant asked for an officer). Event.Handoff holds the case.
	EventHandoff EventKind = "handoff"
	// EventPriorityRaised: the conversation's priority went up.
	EventPriorityRaised EventKind = "priority_raised"
	// EventEmergency: the tenant got the emergency reply.
	EventEmergency EventKind = "emergency"
	// EventExited: quick exit; the bot-side record is erased and nothing
	// is sent until the tenant writes again.
	EventExited EventKind = "exited"
	// EventOptedOut: a carrier opt-out word (STOP…); as EventExited, and
	// the channel must not text this tenant until they write again.
	EventOptedOut EventKind = "opted_out"
	// EventErased: DELETE; as EventExited.
	EventErased EventKind = "erased"
	// EventTenantMessage: the tenant wrote after the handoff; Event.Text is
	// for the officer's thread. A message that came with a picture or
	// file has AttachmentNote in Text, after the words if there were any:
	// the file itself was never received.
	EventTenantMessage EventKind = "tenant_message"
	// EventCaseUpdated: the tenant answered another question of a case
	// opened before the handoff; Event.Handoff holds what is known now.
	EventCaseUpdated EventKind = "case_updated"
)

// Event is something a turn did that the world outside the bot acts on.
type Event struct {
	Kind         EventKind
	Conversation ConversationID
	Channel      Channel
	Priority     Priority
	// At is when the turn happened.
	At      time.Time
	Handoff *Handoff // EventHandoff and EventCaseUpdated only
	// Text is the tenant's words: for the officer's thread on
	// EventTenantMessage, and the words that raised an EventEmergency.
	Text string
}

// Handoff is the case an officer receives.
type Handoff struct {
	// Reason is "complete" when the intake ran to the end, "officer" when
	// the tenant asked for an officer part way, "danger" when words of
	// danger opened the case before the end.
	Reason   string
	Priority Priority
	Area     string
	Lang     string
	Channel  Channel
	// Address is the tenant's phone number or chat address, for the
	// officer's replies. It must never be shown in a shared place.
	Address  string
	At       time.Time
	Deadline time.Time
	// Opened is when the case was first opened: before At when a danger
	// message opened it part way through the questions.
	Opened time.Time
	// Summary holds the answers in flow order, in English for the officer.
	Summary []SummaryLine
}

// Handoff reasons.
const (
	ReasonComplete = "complete"
	ReasonOfficer  = "officer"
	// ReasonDanger: the tenant signalled danger part way; the case is
	// opened at once and the questions go on if the tenant does.
	ReasonDanger = "danger"
)

// SummaryLine is one answer in a case summary.
type SummaryLine struct {
	Step  string
	Label string
	Value string
	// Private: shown only to the officer who claimed the case.
	Private bool
	// Action is what the policy asks of the officer given this answer.
	Action string
}

// LoggedEvent is an event as a store's event log holds it.
type LoggedEvent struct {
	// ID is the event's id in the log ("ms-seq", a Redis stream id such
	// as "1764500000000-0"). It orders the events of its conversation
	// only: two conversations' ids say nothing about which came first.
	ID string
	// Conversation is the conversation the event belongs to, set even
	// when Err is: a reader that records how far it got, per
	// conversation, passes over an unreadable entry all the same.
	Conversation ConversationID
	Event        Event
	// Err is set when the entry could not be read (sealed with another
	// key, or damaged): it is passed over, not allowed to stop the rest.
	Err error
}
