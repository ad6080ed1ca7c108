// Package redisstore keeps conversations in Redis, shared by every
// safecontact process. It is the production store.
//
// Each conversation has three keys, named by its id (a keyed hash, never a
// phone number), with a hash tag so that all live on one cluster slot:
//
//	sc:{id}:state  hash: v = version, d = sealed conversation
//	sc:{id}:log    list of sealed transcript lines, oldest first
//	sc:{id}:seen   sorted set of the message ids applied in the replay
//	               window: member = digest of the id (bot.SeenDigest),
//	               score = Unix seconds when seen
//
// Everything stored is sealed with AES-256-GCM (package seal), bound to the
// conversation id and the key's role, except the seen ids, which are
// digests of the channel's message ids and nothing else. A turn is saved
// by one Lua script that refuses a message id already seen, checks the
// version, writes the state, appends the lines, records the message id
// and sets the TTLs (the seen ids have their own, the replay window, and
// survive an erasure), so a turn is applied whole or not at all. The script
// also refuses a save that reaches Redis after the caller's context
// deadline (by Redis's clock), so a turn the caller gave up on is never
// applied late.
package redisstore

import (
	"bytes"
	"compress/flate"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/seal"
)

// Options tune the store. The zero value is usable.
type Options struct {
	// Prefix begins every key; default "sc:".
	Prefix string
	// MaxTranscript is how many transcript lines a conversation keeps,
	// newest last; default 500. An intake is about 40 lines.
	MaxTranscript int
	// EventLog names a Redis stream that receives each turn's events,
	// sealed, in the same script as the turn: a handoff is then never
	// lost between the turn and its delivery. Empty: events are not
	// logged. The stream is one key, so the store with an event log needs
	// a single Redis, not a cluster.
	EventLog string
	// MaxEvents is roughly how many events the log keeps; default 100,000.
	// The officer queue trims what it has taken.
	MaxEvents int
}

// Store is a bot.Store on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	opts   Options
}

//go:embed save.lua
var saveSource string

var saveScript = redis.NewScript(saveSource)

// New returns a store on rdb that seals with sealer.
func New(rdb redis.UniversalClient, sealer *seal.Sealer, opts Options) *Store {
	if opts.Prefix == "" {
		opts.Prefix = "sc:"
	}
	if opts.MaxTranscript <= 0 {
		opts.MaxTranscript = 500
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 100_000
	}
	return &Store{rdb: rdb, sealer: sealer, opts: opts}
}

// StateKey and LogKey name a conversation's keys.
func (s *Store) StateKey(id bot.ConversationID) string {
	return s.opts.Prefix + "{" + string(id) + "}:state"
}

// LogKey names a conversation's transcript key.
func (s *Store) LogKey(id bot.ConversationID) string {
	return s.opts.Prefix + "{" + string(id) + "}:log"
}

// SeenKey names a conversation's seen message ids.
func (s *Store) SeenKey(id bot.ConversationID) string {
	return s.opts.Prefix + "{" + string(id) + "}:seen"
}

var _ bot.Store = (*Store)(nil)

// The associated data binds a sealed value to its conversation and role:
// a state copied into another conversation, or a transcript line passed off
// as state, does not open.
func stateAD(id bot.ConversationID) []byte { return []byte("state\x00" + string(id)) }
func lineAD(id bot.ConversationID) []byte  { return []byte("line\x00" + string(id)) }

var eventAD = []byte("event")

// eventKey is the event log's key. Without a log it names a key the save
// script is given but never writes.
func (s *Store) eventKey() string {
	if s.opts.EventLog == "" {
		return s.opts.Prefix + "events"
	}
	return s.opts.EventLog
}

// Events returns up to n logged events after the id ("" for the start),
// oldest first. An entry that cannot be read comes back with Err set.
func (s *Store) Events(ctx context.Context, after string, n int64) ([]bot.LoggedEvent, error) {
	start := "-"
	if after != "" {
		start = "(" + after
	}
	msgs, err := s.rdb.XRangeN(ctx, s.eventKey(), start, "+", n).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: events: %w", err)
	}
	out := make([]bot.LoggedEvent, 0, len(msgs))
	for _, m := range msgs {
		le := bot.LoggedEvent{ID: m.ID}
		sealed, _ := m.Values["e"].(string)
		plain, err := s.sealer.Open([]byte(sealed), eventAD)
		if err == nil {
			err = json.Unmarshal(plain, &le.Event)
		}
		if err != nil {
			le.Err = fmt.Errorf("redisstore: event %s: %w", m.ID, err)
		}
		out = append(out, le)
	}
	return out, nil
}

// TrimEvents drops the logged events up to and including the id: they
// have been taken.
func (s *Store) TrimEvents(ctx context.Context, through string) error {
	// MINID keeps ids >= its argument; everything before the next
	// possible id goes.
	ms, seq, ok := strings.Cut(through, "-")
	if !ok {
		return fmt.Errorf("redisstore: trim events: bad id %q", through)
	}
	n, err := strconv.ParseUint(seq, 10, 64)
	if err != nil {
		return fmt.Errorf("redisstore: trim events: bad id %q", through)
	}
	return s.rdb.XTrimMinID(ctx, s.eventKey(), ms+"-"+strconv.FormatUint(n+1, 10)).Err()
}

// Load implements bot.Store.
func (s *Store) Load(ctx context.Context, id bot.ConversationID) (*bot.Conversation, int64, error) {
	vals, err := s.rdb.HMGet(ctx, s.StateKey(id), "v", "d").Result()
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: load: %w", err)
	}
	v, _ := vals[0].(string)
	d, _ := vals[1].(string)
	if v == "" && d == "" {
		return nil, 0, nil
	}
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: load %s: bad version %q", id, v)
	}
	plain, err := s.sealer.Open([]byte(d), stateAD(id))
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: load %s: %w", id, err)
	}
	c, err := decodeState(plain)
	if err != nil {
		return nil, 0, fmt.Errorf("redisstore: load %s: %w", id, err)
	}
	return c, version, nil
}

// Save implements bot.Store.
func (s *Store) Save(ctx context.Context, id bot.ConversationID, version int64, c bot.Commit) error {
	if c.TTL <= 0 {
		return errors.New("redisstore: save without a TTL")
	}
	state, err := encodeState(c.Conversation)
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	erase := "0"
	if c.Conversation.Erased {
		erase = "1"
	}
	var deadline int64
	if d, ok := ctx.Deadline(); ok {
		deadline = d.UnixMilli()
	}
	var events []any
	if s.opts.EventLog != "" {
		for _, ev := range c.Events {
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("redisstore: save: %w", err)
			}
			events = append(events, s.sealer.Seal(b, eventAD))
		}
	}
	var window, at int64
	if c.Seen.Window > 0 {
		// Whole seconds: the scores stay small integers, which Redis
		// stores in a few bytes.
		window, at = max(int64(c.Seen.Window/time.Second), 1), c.Seen.At.Unix()
	}
	args := make([]any, 0, 13+len(c.Seen.Earlier)+len(events)+len(c.Append))
	args = append(args, version, s.sealer.Seal(state, stateAD(id)), c.TTL.Milliseconds(), erase, s.opts.MaxTranscript, deadline,
		len(events), s.opts.MaxEvents, c.Seen.ID, at, window, bot.MaxSeen, len(c.Seen.Earlier))
	for _, d := range c.Seen.Earlier {
		args = append(args, d)
	}
	args = append(args, events...)
	if !c.Conversation.Erased {
		for _, l := range c.Append {
			line, err := encodeLine(l)
			if err != nil {
				return fmt.Errorf("redisstore: save: %w", err)
			}
			args = append(args, s.sealer.Seal(line, lineAD(id)))
		}
	}
	keys := []string{s.StateKey(id), s.LogKey(id), s.eventKey(), s.SeenKey(id)}
	n, err := saveScript.Run(ctx, s.rdb, keys, args...).Int64()
	if err != nil {
		return fmt.Errorf("redisstore: save: %w", err)
	}
	switch n {
	case 0:
		return bot.ErrConflict
	case -1:
		return fmt.Errorf("redisstore: save reached Redis after its deadline and was not applied: %w", context.DeadlineExceeded)
	case -2:
		return bot.ErrDuplicate
	}
	return nil
}

// Transcript implements bot.Store.
func (s *Store) Transcript(ctx context.Context, id bot.ConversationID) ([]bot.Line, error) {
	vals, err := s.rdb.LRange(ctx, s.LogKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	lines := make([]bot.Line, 0, len(vals))
	for _, v := range vals {
		plain, err := s.sealer.Open([]byte(v), lineAD(id))
		if err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		l, err := decodeLine(plain)
		if err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		lines = append(lines, l)
	}
	return lines, nil
}

// A transcript line is stored as the JSON array [unix ms, step, text]:
// half the size of the JSON object, which counts over a whole transcript.
// stateDeflated marks a state compressed with DEFLATE. A state that does
// not start with it is plain JSON (it starts with '{').
const stateDeflated = 1

// compressFrom is the size of state JSON worth compressing. Most turns of
// an intake write less and are stored as they are: compressing them cost
// an eighth of a turn's CPU (docs/benchmarks.md). The larger states, from
// the handoff on, carry the replies with the numbers and halve.
const compressFrom = 1024

// deflaters reuse compressors: a new one allocates hundreds of kilobytes.
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.BestSpeed)
	return w
}}

// encodeState writes the conversation as JSON, compressed with DEFLATE
// (fastest level) when it is large (compressFrom).
func encodeState(c *bot.Conversation) ([]byte, error) {
	js, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	if len(js) < compressFrom {
		return js, nil
	}
	var buf bytes.Buffer
	buf.WriteByte(stateDeflated)
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&buf)
	if _, err := w.Write(js); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// inflaters reuse decompressors, for the same reason.
var inflaters = sync.Pool{New: func() any { return flate.NewReader(bytes.NewReader(nil)) }}

func decodeState(b []byte) (*bot.Conversation, error) {
	if len(b) > 0 && b[0] == stateDeflated {
		r := inflaters.Get().(io.ReadCloser)
		defer inflaters.Put(r)
		if err := r.(flate.Resetter).Reset(bytes.NewReader(b[1:]), nil); err != nil {
			return nil, err
		}
		js, err := io.ReadAll(r)
		if err != nil {
			return nil, fmt.Errorf("inflate state: %w", err)
		}
		b = js
	}
	var c bot.Conversation
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

func encodeLine(l bot.Line) ([]byte, error) {
	return json.Marshal([]any{l.At.UnixMilli(), l.Step, l.Text})
}

func decodeLine(b []byte) (bot.Line, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(b, &parts); err != nil {
		return bot.Line{}, err
	}
	if len(parts) != 3 {
		return bot.Line{}, fmt.Errorf("transcript line has %d parts, want 3", len(parts))
	}
	var ms int64
	var l bot.Line
	for i, dst := range []any{&ms, &l.Step, &l.Text} {
		if err := json.Unmarshal(parts[i], dst); err != nil {
			return bot.Line{}, err
		}
	}
	l.At = time.UnixMilli(ms).UTC()
	return l, nil
}
