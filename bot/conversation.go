package bot

import (
	"crypto/sha256"
	"encoding/base64"
	"time"
)

// ConversationID identifies a conversation in the store. It is a keyed hash
// of the channel and address (see Keyer) and never contains a phone number.
type ConversationID string

// MaxSeen is how many recent message ids a conversation remembers to refuse
// redeliveries. Twilio redelivers within seconds, so a short memory is enough.
const MaxSeen = 8

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
	// Resume is set after an emergency reply: the intake continues only if
	// the tenant writes again, and then the current question is asked anew.
	Resume bool `json:"re,omitempty"`
	// ReturnTo is the step to go back to after changing one answer from the
	// confirmation step.
	ReturnTo string `json:"rt,omitempty"`
	// HandedOff is when the case went to an officer; zero until then.
	HandedOff time.Time `json:"ho,omitempty"`
	// Deadline is when an officer will have contacted the tenant.
	Deadline time.Time `json:"dl,omitempty"`
	// Noticed is when the tenant was last told, after the handoff, when
	// an officer will be in touch; they are told at most once a day.
	Noticed time.Time `json:"no,omitempty"`
	Started time.Time `json:"sa"`
	Updated time.Time `json:"up"`
	// Seen holds digests (see seenDigest) of the most recent message ids
	// applied, oldest first, at most MaxSeen. LastReplies are the replies to the newest of them, so that a
	// redelivery gets the same answer.
	Seen        []string `json:"se,omitempty"`
	LastReplies []Reply  `json:"lr,omitempty"`
	// Erased marks a tombstone: the tenant exited or asked to delete, and
	// nothing but Seen is kept.
	Erased bool `json:"er,omitempty"`
}

// Skipped is the answer recorded for a question the tenant skipped.
const Skipped = "-"

// seen reports whether the message id was already applied.
func (c *Conversation) seen(id string) bool {
	if id == "" {
		return false
	}
	d := seenDigest(id)
	for _, s := range c.Seen {
		if s == d {
			return true
		}
	}
	return false
}

// seenDigest shortens a message id for Seen: a Twilio MessageSid is 34
// characters, its digest 12, and a conversation keeps eight. 72 bits make
// two of a conversation's recent ids colliding by chance negligible.
func seenDigest(id string) string {
	sum := sha256.Sum256([]byte(id))
	return base64.RawURLEncoding.EncodeToString(sum[:9])
}

// remember records id as applied, with its replies.
func (c *Conversation) remember(id string, replies []Reply) {
	if id == "" {
		c.LastReplies = nil
		return
	}
	c.Seen = append(c.Seen, seenDigest(id))
	if len(c.Seen) > MaxSeen {
		c.Seen = append([]string(nil), c.Seen[len(c.Seen)-MaxSeen:]...)
	}
	c.LastReplies = replies
}
