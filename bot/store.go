package bot

import (
	"context"
	"errors"
	"time"
)

// ErrConflict is returned by Store.Save when the conversation changed since
// it was loaded. The engine loads it again and retries the turn.
var ErrConflict = errors.New("conversation changed since it was loaded")

// Store keeps conversations. Implementations: memstore (the embedded
// default) and redisstore (production, shared by many processes).
//
// Turns are serialised by optimistic concurrency: Load returns a version,
// and Save applies only if the version is unchanged, atomically with the
// transcript lines and the TTL. A turn that loses the race is retried from
// a fresh Load, so concurrent messages are applied one at a time and none
// is lost.
type Store interface {
	// Load returns the conversation and its version, or (nil, 0, nil) when
	// the store holds none.
	Load(ctx context.Context, id ConversationID) (*Conversation, int64, error)
	// Save stores the commit if the conversation's version is still
	// version (0: still absent). It returns ErrConflict otherwise.
	Save(ctx context.Context, id ConversationID, version int64, c Commit) error
	// Transcript returns the conversation's transcript, oldest first.
	Transcript(ctx context.Context, id ConversationID) ([]Line, error)
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
	// Events are the turn's events. A store that logs them (redisstore
	// with an event log) writes them with the turn, atomically, so that a
	// crash after the turn cannot lose a handoff; others ignore them and
	// the channel delivers them to its Sink.
	Events []Event
}
