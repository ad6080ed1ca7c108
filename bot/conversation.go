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
	// ReturnTo is the step to go back to after changing one answer from the
	// confirmation step.
	ReturnTo string `json:"rt,omitempty"`
	// HandedOff is when the intake ended and the case went to an
	// officer; zero until then.
	HandedOff time.Time `json:"ho,omitempty"`
	// Opened is when the officers' case was opened, which is before the
	// handoff when the tenant signalled danger: an urgent case does not
	// wait for the questions to end.
	Opened time.Time `json:"op,omitempty"`
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

// MaxSaid bounds Conversation.Said, and maxSaidRunes each of its lines.
const (
	MaxSaid      = 5
	maxSaidRunes = 200
)

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
