// Package keys derives safecontact's secrets, and keeps the data key they
// come from in Redis, wrapped under the master key (SAFECONTACT_KEY) so
// that the master can be changed without losing anything.
//
// Each secret is derived with HKDF-SHA256 under its own label, so that
// one never stands in for another: changing a label changes the secret,
// and data kept under the old one can no longer be read.
//
// Without Redis the secrets come from the master key itself (Derive).
// With Redis they come from the data key (Open): 32 bytes kept in the
// hash DataKey, once per master key that may open it, each sealed
// (AES-256-GCM) under a key-encrypting key derived from that master. A
// deployment older than the hash has its master as its data key, so that
// its secrets, and so every conversation id and sealed value, stay the
// same.
package keys

import (
	"crypto/hkdf"
	"crypto/sha256"
	"fmt"
	"log/slog"

	"github.com/safecontact/safecontact/seal"
)

// Keys are the secrets derived from the data key (or, without Redis, the
// master key).
type Keys struct {
	// Seal encrypts conversations, cases and events at rest.
	Seal []byte
	// ID turns addresses into conversation ids (bot.NewKeyer).
	ID []byte
	// WebChat turns web chat session tokens into addresses.
	WebChat []byte
}

// Derive parses the master key (seal.ParseKey) and derives the keys from
// it, for the in-memory store. An empty master generates a random one for
// this process, with a warning to log: that suits only the in-memory
// store, where nothing outlives the process anyway. A master key that
// does not parse is an error naming SAFECONTACT_KEY.
func Derive(master string, log *slog.Logger) (Keys, error) {
	var secret []byte
	var err error
	if master == "" {
		if secret, err = seal.GenerateKey(); err != nil {
			return Keys{}, err
		}
		log.Warn("SAFECONTACT_KEY is not set: using a random key for this run only")
	} else if secret, err = seal.ParseKey(master); err != nil {
		return Keys{}, fmt.Errorf("SAFECONTACT_KEY: %w", err)
	}
	return derive(secret)
}

// derive derives the keys from a secret: the master key without Redis,
// the data key with it.
func derive(secret []byte) (Keys, error) {
	var k Keys
	var err error
	if k.Seal, err = hkdf.Key(sha256.New, secret, nil, "safecontact seal v1", 32); err != nil {
		return Keys{}, err
	}
	if k.ID, err = hkdf.Key(sha256.New, secret, nil, "safecontact conversation id v1", 32); err != nil {
		return Keys{}, err
	}
	if k.WebChat, err = hkdf.Key(sha256.New, secret, nil, "safecontact webchat session v1", 32); err != nil {
		return Keys{}, err
	}
	return k, nil
}
