package bot

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"strings"
)

// Keyer turns a tenant's channel address into a ConversationID with a keyed
// hash (HMAC-SHA-256), so store keys never hold a phone number and cannot be
// reversed by guessing numbers without the key.
type Keyer struct {
	key []byte
}

// NewKeyer returns a Keyer using key, which should be at least 32 random
// bytes kept apart from the store.
func NewKeyer(key []byte) Keyer {
	return Keyer{key: append([]byte(nil), key...)}
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// ID returns the conversation id for an address on a channel.
func (k Keyer) ID(ch Channel, address string) ConversationID {
	m := hmac.New(sha256.New, k.key)
	m.Write([]byte(ch))
	m.Write([]byte{0})
	m.Write([]byte(address))
	sum := m.Sum(nil)
	return ConversationID(strings.ToLower(idEncoding.EncodeToString(sum[:20])))
}
