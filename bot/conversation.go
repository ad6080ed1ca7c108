package bot

import (
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"time"
)

// ConversationID identifies a conversation in the store. It is a keyed hash
// of the channel and address (see Keyer) and never contains a phone number.
type ConversationID string

// MaxSeen bounds how many message ids a store remembers for one
// conversation within the replay window (Options.ReplayWindow): a tenant
// who sends more in a day has the oldest forgotten first. An intake is
// about 16 texts.
const MaxSeen = 500

// Conversation is the bot-side record of one tenant's conversation. It is
// what a Store keeps, encrypted at rest by the Redis store.
type Conversation struct {
	Channel Channel `json:"ch"`
	// Address is kept so that an officer's reply can reach the tenant later.
	Address string `json:"ad,omitempty"`
	Lang    string `json:"lg"`
	// State is the current step of the flow.
	State string `json:"st"`
	// History holds the steps answered before State, for BACK.
	History []string `json:"hi,omitempty"`
	// Answers maps a step id to the option id chosen or the text given.
	// A skipped step has the answer Skipped.
	Answers map[string]string `json:"an,omitempty"`
	// Area is the support area chosen or found from a postcode.
	Area string `json:"ar,omitempty"`
	// AreaChoices holds the candidate areas while the tenant is asked to
	// choose between areas a postcode district straddles.
	AreaChoices []string `json:"ac,omitempty"`
	Priority    Priority `json:"pr,omitempty"`
	// ReturnTo is the step to go back to after changing one answer from the
	// confirmation step.
	ReturnTo string `json:"rt,omitempty"`
	// HandedOff is when the intake ended and the case went to an
	// officer; zero until then.
	HandedOff time.Time `json:"ho,omitzero"`
	// Opened is when the officers' case was opened, which is before the
	// handoff when the tenant signalled danger: an urgent case does not
	// wait for the questions to end.
	Opened time.Time `json:"op,omitzero"`
	// WantsOfficer is set when the first text asked for an officer: the
	// case is handed off once the tenant says it is safe to message.
	WantsOfficer bool `json:"wo,omitempty"`
	// AreaAsked counts the area answers that named no place, so an
	// unknown answer is asked once more before the national numbers.
	AreaAsked int `json:"aa,omitempty"`
	// Said holds the tenant's messages that answered no question (words of
	// danger), for the officer, at most MaxSaid of them.
	Said []string `json:"sd,omitempty"`
	// Signposted lists the signposts already sent.
	Signposted []string `json:"sp,omitempty"`
	// Deadline is when an officer will have contacted the tenant.
	Deadline time.Time `json:"dl,omitzero"`
	// Noticed is when the tenant was last told, after the handoff, when
	// an officer will be in touch; they are told at most once a day.
	Noticed time.Time `json:"no,omitzero"`
	Started time.Time `json:"sa"`
	Updated time.Time `json:"up"`
	// LastID is the digest (SeenDigest) of the newest message id applied,
	// and LastReplies the replies it got, so that a redelivery of it gets
	// the same answer. Older ids are not in the state: the store keeps
	// them apart, for the replay window (Commit.Seen).
	LastID      string  `json:"li,omitempty"`
	LastReplies []Reply `json:"lr,omitempty"`
	// Seen is what a previous version kept instead: the digests of up to
	// eight recent message ids, oldest first, the newest being the one
	// LastReplies answer. It is read, never written: the next save moves
	// it into the store's seen ids (Commit.Seen.Earlier).
	Seen []string `json:"se,omitempty"`
	// Erased marks a tombstone: the tenant exited or asked to delete, and
	// nothing but the last message's id and replies is kept.
	Erased bool `json:"er,omitempty"`
}

// MaxSaid bounds Conversation.Said, and maxSaidRunes each of its lines.
const (
	MaxSaid      = 5
	maxSaidRunes = 200
)

// Skipped is the answer recorded for a question the tenant skipped.
const Skipped = "-"

// replayOf reports whether the message with the digest d (SeenDigest) is
// one the state knows as applied, and whether it is the latest, whose
// replies are LastReplies. The store knows the older ones (ErrDuplicate).
func (c *Conversation) replayOf(d string) (seen, latest bool) {
	if d == "" {
		return false, false
	}
	if c.LastID != "" {
		if c.LastID == d {
			return true, true
		}
	} else if n := len(c.Seen); n > 0 && c.Seen[n-1] == d {
		// Stored by the previous version: the newest of Seen is the latest.
		return true, true
	}
	for _, s := range c.Seen {
		if s == d {
			return true, false
		}
	}
	return false, false
}

// SeenDigest shortens a message id for the seen ids: a Twilio MessageSid
// is 34 characters, its digest 12. 72 bits make two of one conversation's
// ids colliding by chance negligible, even at MaxSeen of them.
func SeenDigest(id string) string {
	if id == "" {
		return ""
	}
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// legacySeen returns the message ids a previous version kept in the
// state (nil for none, or no conversation), for the commit to move into
// the store's seen ids.
func (c *Conversation) legacySeen() []string {
	if c == nil {
		return nil
	}
	return c.Seen
}

// remember records the message with the digest d as the latest applied,
// with its replies, and drops a previous version's Seen (the commit hands
// it to the store).
func (c *Conversation) remember(d string, replies []Reply) {
	c.Seen = nil
	c.LastID = d
	if d == "" {
		c.LastReplies = nil
		return
	}
	c.LastReplies = replies
}

// keep adds the tenant's words to Said, shortened, dropping the oldest past
// MaxSaid. It reports whether anything was kept.
func (c *Conversation) keep(words string) bool {
	words = truncate(strings.Join(strings.Fields(words), " "), maxSaidRunes)
	if words == "" {
		return false
	}
	c.Said = append(c.Said, words)
	if len(c.Said) > MaxSaid {
		c.Said = append([]string(nil), c.Said[len(c.Said)-MaxSaid:]...)
	}
	return true
}
