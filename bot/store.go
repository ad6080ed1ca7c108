package bot

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned by Store.Save when the conversation changed since
// it was loaded. The engine loads it again and retries the turn.
var ErrConflict = errors.New("conversation changed since it was loaded")

// ErrDuplicate is returned by Store.Save when the commit's message id
// (Commit.Seen.ID) was recorded within the replay window: the message was
// applied before, and nothing of the commit is. The engine answers it as
// a redelivery.
var ErrDuplicate = errors.New("message already applied")

// Store keeps conversations. Implementations: memstore (the embedded
// default) and redisstore (production, shared by many processes).
//
// Turns are serialised by optimistic concurrency: Load returns a version,
// and Save applies only if the version is unchanged, atomically with the
// transcript lines and the TTL. A turn that loses the race is retried from
// a fresh Load, so concurrent messages are applied one at a time and none
// is lost.
//
// Apart from the state, a store keeps the ids of the messages applied in
// the replay window (Commit.Seen), with their own expiry: they outlive an
// erasure, and Save refuses a message already among them, so a replayed
// message is never applied twice, however many came since.
//
// A store may answer Load from memory (Forgetter): then the state may be
// stale, another process having changed the conversation since, and only
// a Save can tell.
type Store interface {
	// Load returns the conversation and its version, or (nil, 0, nil) when
	// the store holds none. Each call returns a conversation of its own,
	// which the caller may change.
	Load(ctx context.Context, id ConversationID) (*Conversation, int64, error)
	// Save stores the commit if the conversation's version is still
	// version (0: still absent), and its message id is not among the ids
	// seen in the window. It returns ErrDuplicate when the id was seen
	// (checked first), ErrConflict when the version changed.
	Save(ctx context.Context, id ConversationID, version int64, c Commit) error
	// Transcript returns the conversation's transcript, oldest first.
	Transcript(ctx context.Context, id ConversationID) ([]Line, error)
}

// Forgetter is implemented by a store whose Load may answer from what
// this process last saved or loaded, without asking the store shared with
// other processes. Such a state may be stale, which is safe for a turn:
// Save refuses a commit computed from it (ErrConflict) and the engine
// loads again. Where the engine acts on a state without saving (a
// redelivery answered, an erasure found done, a conversation read for a
// channel), it calls Forget first, so that Load reads the shared store.
type Forgetter interface {
	// Forget drops what the store remembers of the conversation.
	Forget(id ConversationID)
}

// Commit is what one turn writes.
type Commit struct {
	// Conversation is the new state. When it is a tombstone (Erased), the
	// store drops the transcript.
	Conversation *Conversation
	// Append holds the transcript lines this turn adds.
	Append []Line
	// TTL is how long the conversation is kept from now if nothing else
	// happens; it applies to every key of the conversation.
	TTL time.Duration
	// Seen records the message the turn applies as seen, in the same
	// atomic step.
	Seen SeenIDs
	// Events are the turn's events. A store with an event log (memstore;
	// redisstore with Options.EventLog) writes them with the turn,
	// atomically, so that a crash after the turn cannot lose a handoff:
	// the officer queue takes them from the log, and channels deliver
	// nothing themselves.
	Events []Event
}

// SeenIDs are the message ids a commit records, so that a redelivered or
// replayed message is not applied again: Twilio's signatures carry no
// timestamp, so a replayed webhook can come at any time. Ids are digests
// (SeenDigest) of the channel's message ids: no personal data.
//
// A store keeps a conversation's ids apart from its state, at most
// MaxSeen, each for Window after its At; the record itself expires Window
// after the last commit that wrote to it, and an erasure (a tombstone)
// leaves it in place.
type SeenIDs struct {
	// ID is the message the commit applies; "" for none. Save refuses the
	// commit with ErrDuplicate when ID was recorded less than Window
	// before At.
	ID string
	// Earlier are ids applied before, recorded with ID without that
	// check: a previous version's Conversation.Seen, moved to the store.
	Earlier []string
	// At is when the ids are seen, by the engine's clock. Ids recorded
	// Window or more before At are forgotten.
	At time.Time
	// Window is how long an id is remembered, and the expiry of the
	// record. Zero records and checks nothing.
	Window time.Duration
}
