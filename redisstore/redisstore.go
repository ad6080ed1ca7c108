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
	// EventLog names the log of every turn's events, which the officer
	// queue takes (Events, Taken). Empty: events are not logged. Each
	// turn's events are written, sealed, with the turn into the
	// conversation's own stream, and the conversation is marked in an
	// index whose keys are named by EventLog inside a hash tag
	// ("{sc:events}:due"): a handoff is never lost between the turn and
	// its delivery (events.go). Earlier versions used one stream of this
	// name; what they left in it is taken first.
	EventLog string
	// LegacyTaken names the key where the officer queue of earlier
	// versions kept the id of the last event it took from the stream
	// EventLog named: events at or before it are not taken again.
	LegacyTaken string
	// MaxEvents is roughly how many events a conversation's stream keeps;
	// default 10,000. The officer queue trims what it has taken.
	MaxEvents int
}

// Store is a bot.Store on Redis. It is safe for concurrent use.
type Store struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	opts   Options
	marks  marks
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
		opts.MaxEvents = 10_000
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
	a := &saveArgs{
		version: version, state: s.sealer.Seal(state, stateAD(id)), ttl: c.TTL,
		erase: c.Conversation.Erased, keepLines: s.opts.MaxTranscript, keepEvents: s.opts.MaxEvents,
		seenID: c.Seen.ID, seenEarlier: c.Seen.Earlier, keepSeen: bot.MaxSeen,
	}
	if d, ok := ctx.Deadline(); ok {
		a.deadline = d.UnixMilli()
	}
	if s.opts.EventLog != "" {
		for _, ev := range c.Events {
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("redisstore: save: %w", err)
			}
			a.events = append(a.events, s.sealer.Seal(b, eventAD(id)))
		}
	}
	if c.Seen.Window > 0 {
		// Whole seconds: the scores stay small integers, which Redis
		// stores in a few bytes.
		a.window, a.seenAt = max(int64(c.Seen.Window/time.Second), 1), c.Seen.At.Unix()
	}
	if !c.Conversation.Erased {
		for _, l := range c.Append {
			line, err := encodeLine(l)
			if err != nil {
				return fmt.Errorf("redisstore: save: %w", err)
			}
			a.lines = append(a.lines, s.sealer.Seal(line, lineAD(id)))
		}
	}
	keys := []string{s.StateKey(id), s.LogKey(id), s.EventKey(id), s.SeenKey(id)}
	var n int64
	if len(a.events) > 0 {
		n, err = s.saveWithEvents(ctx, id, keys, a)
	} else {
		n, err = saveScript.Run(ctx, s.rdb, keys, a.list()...).Int64()
	}
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

// saveArgs are save.lua's arguments (its header says what each is).
type saveArgs struct {
	version     int64
	state       []byte
	ttl         time.Duration
	erase       bool
	keepLines   int
	deadline    int64 // Unix ms; 0: none
	events      [][]byte
	keepEvents  int
	seenID      string
	seenAt      int64 // Unix seconds
	window      int64 // seconds; 0: no replay check
	keepSeen    int
	seenEarlier []string
	lines       [][]byte
}

func (a *saveArgs) list() []any {
	erase := "0"
	if a.erase {
		erase = "1"
	}
	args := make([]any, 0, 13+len(a.seenEarlier)+len(a.events)+len(a.lines))
	args = append(args, a.version, a.state, a.ttl.Milliseconds(), erase, a.keepLines, a.deadline,
		len(a.events), a.keepEvents, a.seenID, a.seenAt, a.window, a.keepSeen, len(a.seenEarlier))
	for _, d := range a.seenEarlier {
		args = append(args, d)
	}
	for _, e := range a.events {
		args = append(args, e)
	}
	for _, l := range a.lines {
		args = append(args, l)
	}
	return args
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
