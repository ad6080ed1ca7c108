package keys

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/redisconn"
	"github.com/safecontact/safecontact/seal"
)

// Prefix is where serve keeps DataKey and CheckKey; a test passes its own.
const Prefix = "sc:"

// DataKey names (after a prefix) the hash that holds the data key, once
// per master key that opens it: field = the master's fingerprint (hex of
// the first 8 bytes of HMAC-SHA256(wrapping key, "safecontact key id
// v1")), value = the data key sealed under the master's wrapping key
// (HKDF, "safecontact key wrap v1"); and field "newest" = the fingerprint
// of the master whose wrap was added last.
const DataKey = "datakey"

// newest is the DataKey field naming the master added last. A process
// with only an older master does not remove the newer one's wrap: one
// still on the old key, restarting while the key is being changed, must
// not undo the change.
const newest = "newest"

// CheckKey names (after a prefix) a value sealed with the keys derived
// from the data key. Builds from before the data key read only it: one
// refuses to start on a Redis whose data key is not its master, rather
// than misread it.
const CheckKey = "keycheck"

// ErrWrongKey is returned by Open when neither SAFECONTACT_KEY nor
// SAFECONTACT_KEY_PREVIOUS opens the Redis's data key, or the data key
// does not open the data in it. The error Open returns says which.
var ErrWrongKey = errors.New("SAFECONTACT_KEY is not the key this Redis's data was written with")

// refusing ends every ErrWrongKey, saying why the process stops.
const refusing = "refusing to start rather than lose cases it could not read"

// Masters are the master keys a process was given, as written in its
// settings (seal.ParseKey).
type Masters struct {
	// Current is SAFECONTACT_KEY. It is required.
	Current string
	// Previous is SAFECONTACT_KEY_PREVIOUS, set only while changing the
	// key: the old master, which still opens the data key. While it is
	// set, Open keeps every wrap; once it is not, Open removes every
	// wrap but Current's.
	Previous string
}

// master is one master key, ready to wrap and unwrap the data key.
type master struct {
	setting string // the setting it came from, for errors
	secret  []byte
	wrapper *seal.Sealer
	id      string // its fingerprint: its field in the DataKey hash
}

// wrapAD binds a wrapped data key to its purpose.
var wrapAD = []byte("safecontact data key v1")

func parseMaster(setting, s string) (*master, error) {
	secret, err := seal.ParseKey(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", setting, err)
	}
	kek, err := hkdf.Key(sha256.New, secret, nil, "safecontact key wrap v1", 32)
	if err != nil {
		return nil, err
	}
	wrapper, err := seal.New(kek)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(sha256.New, kek)
	mac.Write([]byte("safecontact key id v1"))
	return &master{setting: setting, secret: secret, wrapper: wrapper, id: hex.EncodeToString(mac.Sum(nil)[:8])}, nil
}

func (m *master) wrap(dataKey []byte) string {
	return string(m.wrapper.Seal(dataKey, wrapAD))
}

func (m *master) unwrap(wrapped string) ([]byte, error) {
	dk, err := m.wrapper.Open([]byte(wrapped), wrapAD)
	if err != nil || len(dk) != seal.KeySize {
		return nil, fmt.Errorf("%w: %s does not open the data key wrapped under its fingerprint; %s", ErrWrongKey, m.setting, refusing)
	}
	return dk, nil
}

//go:embed create.lua
var createSource string

var createScript = redis.NewScript(createSource)

// addScript adds a master's wrap and names it the newest in one step, so
// that a process with only the older master never sees the new wrap
// without knowing it is the newest (and prunes it).
var addScript = redis.NewScript(`
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[1], ARGV[3], ARGV[1])
return 1`)

// pruneScript removes the wraps named in ARGV[3..] only while ARGV[2]
// (the current master) is still the newest, or none is named: a newer
// master's wrap added meanwhile is never removed.
var pruneScript = redis.NewScript(`
local newest = redis.call('HGET', KEYS[1], ARGV[1])
if newest and newest ~= ARGV[2] then return 0 end
for i = 3, #ARGV do redis.call('HDEL', KEYS[1], ARGV[i]) end
return 1`)

// Open reads the data key from rdb (at prefix+DataKey: Prefix, or a
// test's own) with the master keys, and returns the keys derived from it.
// On the way it:
//
//   - on a Redis with neither DataKey nor CheckKey, makes a random data
//     key and wraps it under Current;
//   - on a Redis from before the data key (CheckKey only), takes as the
//     data key the master that opens CheckKey, so that every derived key
//     stays the same, and wraps it (under Current, and under Previous when
//     that is the one);
//   - when only Previous opens the data key, adds the wrap under Current;
//   - without Previous, when Current's is the newest wrap, removes every
//     other, so that old masters no longer open anything in Redis (with
//     an older master than the newest, it removes nothing and warns).
//
// It then writes CheckKey if it is missing, and checks it opens. Two
// processes starting at once agree on one data key. A master that does
// not parse is an error naming its setting; when neither master opens the
// data key, or the data key does not open CheckKey, the error is
// ErrWrongKey (errors.Is) and names both settings. No error or log line
// holds key material.
func Open(ctx context.Context, rdb redis.UniversalClient, m Masters, prefix string, log *slog.Logger) (Keys, error) {
	cur, err := parseMaster("SAFECONTACT_KEY", m.Current)
	if err != nil {
		return Keys{}, err
	}
	var prev *master
	if m.Previous != "" {
		if prev, err = parseMaster("SAFECONTACT_KEY_PREVIOUS", m.Previous); err != nil {
			return Keys{}, err
		}
		log.Warn("SAFECONTACT_KEY_PREVIOUS is set: the old key still opens this Redis's data; unset it once every process has the new SAFECONTACT_KEY")
	}
	dataName, checkName := prefix+DataKey, prefix+CheckKey
	// Twice at most: a process that loses the race to create the hash
	// reads the winner's.
	for range 2 {
		wraps, err := rdb.HGetAll(ctx, dataName).Result()
		if err != nil {
			return Keys{}, fmt.Errorf("redis: data key: %w", err)
		}
		var dk []byte
		if len(wraps) == 0 {
			created := false
			if dk, created, err = create(ctx, rdb, dataName, checkName, cur, prev, log); err != nil {
				return Keys{}, err
			}
			if !created {
				continue
			}
		} else if dk, err = unwrap(ctx, rdb, dataName, wraps, cur, prev, m.Previous == "", log); err != nil {
			return Keys{}, err
		}
		k, err := derive(dk)
		if err != nil {
			return Keys{}, err
		}
		if err := check(ctx, rdb, checkName, k); err != nil {
			return Keys{}, err
		}
		return k, nil
	}
	return Keys{}, errors.New("redis: data key: the hash was created and then removed while starting")
}

// create makes the data key of a Redis without one: the master that
// opens its CheckKey, if it has one; random otherwise. It reports false
// when another process created the hash first.
func create(ctx context.Context, rdb redis.UniversalClient, dataName, checkName string, cur, prev *master, log *slog.Logger) ([]byte, bool, error) {
	stored, err := rdb.Get(ctx, checkName).Bytes()
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, false, fmt.Errorf("redis: key check: %w", err)
	}
	// Another process may have made the data key (and then its key check)
	// since this one found no data key: read that one instead of taking
	// its key check for another key's.
	if n, err := rdb.Exists(ctx, dataName).Result(); err != nil {
		return nil, false, fmt.Errorf("redis: data key: %w", err)
	} else if n == 1 {
		return nil, false, nil
	}
	var dk []byte
	var args []any
	var note string // logged once the hash is ours
	missing, used := errors.Is(err, redis.Nil), false
	if missing {
		// No key check: a new Redis, or one written before the key check
		// existed. Only an empty one gets a random data key: data written
		// without a check was sealed with keys from the master itself.
		if used, err = holdsData(ctx, rdb, prefixOf(dataName), dataName, checkName); err != nil {
			return nil, false, err
		}
	}
	switch {
	case missing && used && prev != nil:
		return nil, false, errors.New("redis: this Redis holds safecontact's data but no key check, so it cannot tell which key wrote it: start once with SAFECONTACT_KEY alone (the key it was written with), then change the key")
	case missing && used:
		dk = cur.secret
		args = append(args, cur.id, cur.wrap(dk), newest, cur.id)
		note = "keys: this Redis's data was written before the key check: SAFECONTACT_KEY is kept as its data key, wrapped under itself"
	case missing:
		if dk, err = seal.GenerateKey(); err != nil {
			return nil, false, err
		}
		args = append(args, cur.id, cur.wrap(dk), newest, cur.id)
		note = "keys: new data key, wrapped under SAFECONTACT_KEY"
	case opensCheck(cur.secret, stored, checkName):
		dk = cur.secret
		args = append(args, cur.id, cur.wrap(dk), newest, cur.id)
		note = "keys: this Redis's data was written before the data key: SAFECONTACT_KEY is kept as its data key, wrapped under itself"
	case prev != nil && opensCheck(prev.secret, stored, checkName):
		// Old processes may restart with the old key alone until every
		// one has the new: keep a wrap it opens, as for any rotation.
		dk = prev.secret
		args = append(args, cur.id, cur.wrap(dk), prev.id, prev.wrap(dk), newest, cur.id)
		note = "keys: this Redis's data was written before the data key: SAFECONTACT_KEY_PREVIOUS is kept as its data key, wrapped under both keys"
	default:
		return nil, false, wrongKey(prev)
	}
	created, err := createScript.Run(ctx, rdb, []string{dataName}, args...).Int()
	if err != nil {
		return nil, false, fmt.Errorf("redis: data key: %w", err)
	}
	if created == 1 {
		log.Info(note)
	}
	return dk, created == 1, nil
}

// unwrap opens the data key with the current master, or else the
// previous, adding the current's wrap. With prune, it removes every wrap
// but the current's, if the current's is the newest.
func unwrap(ctx context.Context, rdb redis.UniversalClient, dataName string, wraps map[string]string, cur, prev *master, prune bool, log *slog.Logger) ([]byte, error) {
	if w, ok := wraps[cur.id]; ok {
		dk, err := cur.unwrap(w)
		if err != nil {
			return nil, err
		}
		var old []string
		for id := range wraps {
			if id != cur.id && id != newest {
				old = append(old, id)
			}
		}
		switch {
		case !prune || len(old) == 0:
		case wraps[newest] != "" && wraps[newest] != cur.id:
			log.Warn("keys: the data key is also wrapped under a newer key than SAFECONTACT_KEY: a change of key is under way, and this process has only the old key; it removes nothing (README, \"Changing the key\")")
		default:
			args := append([]any{newest, cur.id}, toAny(old)...)
			done, err := pruneScript.Run(ctx, rdb, []string{dataName}, args...).Int()
			if err != nil {
				return nil, fmt.Errorf("redis: data key: removing old wraps: %w", err)
			}
			if done == 1 {
				log.Info("keys: SAFECONTACT_KEY_PREVIOUS is not set: removed the data key's wraps under every other key", "removed", len(old))
			}
		}
		return dk, nil
	}
	if prev != nil {
		if w, ok := wraps[prev.id]; ok {
			dk, err := prev.unwrap(w)
			if err != nil {
				return nil, err
			}
			if err := addScript.Run(ctx, rdb, []string{dataName}, cur.id, cur.wrap(dk), newest).Err(); err != nil {
				return nil, fmt.Errorf("redis: data key: adding the new key's wrap: %w", err)
			}
			log.Info("keys: the data key is now wrapped under the new SAFECONTACT_KEY as well as SAFECONTACT_KEY_PREVIOUS")
			return dk, nil
		}
	}
	return nil, wrongKey(prev)
}

func wrongKey(prev *master) error {
	if prev == nil {
		return fmt.Errorf("%w, and SAFECONTACT_KEY_PREVIOUS is not set: every process must have the same key; to change it, give every process the new key as SAFECONTACT_KEY and the old as SAFECONTACT_KEY_PREVIOUS first (README, \"Changing the key\"); %s", ErrWrongKey, refusing)
	}
	return fmt.Errorf("%w, nor is SAFECONTACT_KEY_PREVIOUS: every process must have the same key (README, \"Changing the key\"); %s", ErrWrongKey, refusing)
}

// checkPlain is what CheckKey holds, sealed with the derived seal key and
// bound to CheckKey's name.
const checkPlain = "safecontact key check v1"

// opensCheck reports whether the keys derived from secret open a CheckKey
// value.
func opensCheck(secret, stored []byte, checkName string) bool {
	k, err := derive(secret)
	if err != nil {
		return false
	}
	s, err := seal.New(k.Seal)
	if err != nil {
		return false
	}
	got, err := s.Open(stored, []byte(checkName))
	return err == nil && string(got) == checkPlain
}

// check writes CheckKey if it is missing, and checks that the keys open
// it: builds from before the data key read only CheckKey, and a process
// that found a data key in a Redis of another deployment's data stops
// here.
func check(ctx context.Context, rdb redis.UniversalClient, checkName string, k Keys) error {
	s, err := seal.New(k.Seal)
	if err != nil {
		return err
	}
	if err := rdb.SetNX(ctx, checkName, s.Seal([]byte(checkPlain), []byte(checkName)), 0).Err(); err != nil {
		return fmt.Errorf("redis: key check: %w", err)
	}
	stored, err := rdb.Get(ctx, checkName).Bytes()
	if err != nil {
		return fmt.Errorf("redis: key check: %w", err)
	}
	if got, err := s.Open(stored, []byte(checkName)); err != nil || string(got) != checkPlain {
		return fmt.Errorf("%w: the data key opens with it, but %s was sealed with another (is another deployment's data in this Redis?); %s", ErrWrongKey, checkName, refusing)
	}
	return nil
}

// holdsData reports whether the Redis holds any key under prefix besides
// the data key's and the key check's: safecontact has written there. On a
// cluster it looks on every primary, since each holds only its own slots.
func holdsData(ctx context.Context, rdb redis.UniversalClient, prefix string, skip ...string) (bool, error) {
	err := redisconn.ForEachPrimary(ctx, rdb, func(ctx context.Context, node *redis.Client) error {
		var cursor uint64
		for {
			keys, next, err := node.Scan(ctx, cursor, prefix+"*", 1000).Result()
			if err != nil {
				return err
			}
			for _, k := range keys {
				if !slices.Contains(skip, k) {
					return errFound
				}
			}
			if cursor = next; cursor == 0 {
				return nil
			}
		}
	})
	switch {
	case errors.Is(err, errFound):
		return true, nil
	case err != nil:
		return false, fmt.Errorf("redis: looking for existing data: %w", err)
	}
	return false, nil
}

// errFound ends holdsData's scan of every primary at the first key found.
var errFound = errors.New("found a key")

// prefixOf is the key prefix of the data key's name.
func prefixOf(dataName string) string { return strings.TrimSuffix(dataName, DataKey) }

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
