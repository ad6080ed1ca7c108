// Package keys derives safecontact's secrets from its one master key
// (SAFECONTACT_KEY), and checks that a Redis holds data sealed with it.
//
// Each secret is derived with HKDF-SHA256 under its own label, so that
// one never stands in for another: changing a label changes the secret,
// and data kept under the old one can no longer be read.
package keys

import (
	"context"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot/seal"
)

// Keys are the secrets derived from the master key.
type Keys struct {
	// Seal encrypts conversations, cases and events at rest.
	Seal []byte
	// ID turns addresses into conversation ids (bot.NewKeyer).
	ID []byte
	// WebChat turns web chat session tokens into addresses.
	WebChat []byte
}

// Derive parses the master key (seal.ParseKey) and derives the keys from
// it. An empty master generates a random one for this process, with a
// warning to log: that suits only the in-memory store, where nothing
// outlives the process anyway. A master key that does not parse is an
// error naming SAFECONTACT_KEY.
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
	var k Keys
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

// CheckKey names the Redis key that holds a value sealed with the key the
// data in that Redis was written with.
const CheckKey = "sc:keycheck"

// ErrWrongKey is returned by Check when the Redis's data was sealed with
// another master key.
var ErrWrongKey = errors.New("SAFECONTACT_KEY is not the key this Redis's data was written with: every process must have the same key (refusing to start rather than lose cases it could not read)")

// Check refuses (ErrWrongKey) a Redis whose data was sealed with another
// SAFECONTACT_KEY: a process with it could read nothing, and the officer
// queue would pass over every case it could not open. The first process
// on a new Redis writes the check, at key: CheckKey, or a test's own.
func Check(ctx context.Context, rdb redis.UniversalClient, sealer *seal.Sealer, key string) error {
	const plain = "safecontact key check v1"
	sealed := sealer.Seal([]byte(plain), []byte(key))
	if err := rdb.SetNX(ctx, key, sealed, 0).Err(); err != nil {
		return fmt.Errorf("redis: key check: %w", err)
	}
	stored, err := rdb.Get(ctx, key).Bytes()
	if err != nil {
		return fmt.Errorf("redis: key check: %w", err)
	}
	if got, err := sealer.Open(stored, []byte(key)); err != nil || string(got) != plain {
		return ErrWrongKey
	}
	return nil
}
