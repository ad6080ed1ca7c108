// Package redisstore keeps conversations in Redis, shared by every
// safecontact process. It is the production store.
//
// Each conversation has three keys, named by its id (a keyed hash, never a
// phone number), with a hash tag so that all live on one cluster slot:
//
//	sc:{id}:state  string "<version>:<sealed state>": the conversation and
//	               its newest transcript lines (state.go)
//	sc:{id}:log    list of sealed chunks of older transcript lines, oldest
//	               first (transcript.go)
//	sc:{id}:seen   sorted set of the message ids applied in the replay
//	               window: member = digest of the id (bot.SeenDigest),
//	               score = Unix seconds when seen
//
// Everything stored is sealed with AES-256-GCM (package seal), bound to the
// conversation id and the key's role, except the versions and the seen
// ids, which are digests of the channel's message ids and nothing else. A
// turn is saved by one Lua script that refuses a message id already seen,
// checks the version, writes the state, appends a chunk to the log when
// one is due, records the message id and sets the TTLs (the seen ids have
// their own, the replay window, and survive an erasure), so a turn is
// applied whole or not at all. The script also refuses a save that reaches
// Redis after the caller's context deadline (by Redis's clock), so a turn
// the caller gave up on is never applied late.
//
// The store remembers the state it last saved or loaded for a few thousand
// conversations, for a short while (Options.Recent), and Load answers from
// it: most turns make one round trip, the save. A state another process
// has changed since is caught by the save's version check, which returns
// the current state for the retry. Earlier versions' states (a hash of
// JSON) and transcripts (a list of lines sealed one by one) are read as
// they are, and rewritten in this form by the next turn.
package redisstore

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	// newest last; default 500. An intake is about 16. The log is
	// trimmed a chunk at a time, so it may hold up to ChunkLines more;
	// Transcript returns the newest MaxTranscript.
	MaxTranscript int
	// ChunkLines is how many transcript lines wait in the state before
	// they move to the log as one sealed chunk; default 16. It bounds
	// what a turn carries, however long the transcript.
	ChunkLines int
	// Recent is how many conversations' states the store remembers
	// (the ones it saved or loaded last), so that Load needs no round
	// trip; default 4,096; negative: none. RecentFor is how long each is
	// remembered; default 2 minutes.
	Recent    int
	RecentFor time.Duration
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
	recent *recent
	// now is the clock of the memory of recent states; Redis keeps
	// its own for the keys' TTLs.
	now func() time.Time
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
	if opts.ChunkLines <= 0 {
		opts.ChunkLines = 16
	}
	if opts.Recent == 0 {
		opts.Recent = 4096
	}
	if opts.RecentFor <= 0 {
		opts.RecentFor = 2 * time.Minute
	}
	if opts.MaxEvents <= 0 {
		opts.MaxEvents = 10_000
	}
	return &Store{rdb: rdb, sealer: sealer, opts: opts, recent: newRecent(opts.Recent, opts.RecentFor), now: time.Now}
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

var (
	_ bot.Store     = (*Store)(nil)
	_ bot.Forgetter = (*Store)(nil)
)

// The associated data binds a sealed value to its conversation and role:
// a state copied into another conversation, or a transcript line passed off
// as state, does not open.
func stateAD(id bot.ConversationID) []byte { return []byte("state\x00" + string(id)) }
func lineAD(id bot.ConversationID) []byte  { return []byte("line\x00" + string(id)) }

// Load implements bot.Store. It answers from the state this process
// last saved or loaded for the conversation when it has one (Options.Recent),
// which another process may have changed since: Save refuses a commit
// computed from it with bot.ErrConflict, and Forget makes the next Load
// read Redis.
func (s *Store) Load(ctx context.Context, id bot.ConversationID) (*bot.Conversation, int64, error) {
	if e, ok := s.recent.get(id, s.now()); ok {
		r, err := parseRecord(e.plain)
		if err == nil {
			var c *bot.Conversation
			if c, err = decodeConversation(r.conv); err == nil {
				return c, e.version, nil
			}
		}
		// Never expected: what is remembered was written by this
		// process. Read Redis instead.
		s.recent.forget(id)
	}
	st, err := s.read(ctx, id)
	if err != nil || st == nil {
		return nil, 0, err
	}
	return st.conv, st.version, nil
}

// Forget implements bot.Forgetter: the next Load of the conversation
// reads Redis.
func (s *Store) Forget(id bot.ConversationID) { s.recent.forget(id) }

// stored is a conversation's state as read from Redis.
type stored struct {
	version int64
	ident   []byte // the sealed state's identity (seal.ID); nil for a hash
	plain   string // the record, uncompressed (stateRecord first)
	rec     record
	conv    *bot.Conversation
}

// read reads the conversation's state from Redis, in this version's form
// or an earlier one's, and remembers it. It returns nil when there is
// none.
func (s *Store) read(ctx context.Context, id bot.ConversationID) (*stored, error) {
	at := s.now()
	raw, err := s.rdb.Get(ctx, s.StateKey(id)).Result()
	switch {
	case errors.Is(err, redis.Nil):
		s.recent.forget(id)
		return nil, nil
	case err != nil && redis.HasErrorPrefix(err, "WRONGTYPE"):
		return s.readLegacy(ctx, id, at)
	case err != nil:
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	st, err := s.parse(id, raw)
	if err != nil {
		return nil, err
	}
	s.recent.put(id, st.version, st.ident, st.plain, at, s.opts.RecentFor)
	return st, nil
}

// readLegacy reads a state an earlier version kept as a hash.
func (s *Store) readLegacy(ctx context.Context, id bot.ConversationID, at time.Time) (*stored, error) {
	vals, err := s.rdb.HMGet(ctx, s.StateKey(id), "v", "d").Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: load: %w", err)
	}
	v, _ := vals[0].(string)
	d, _ := vals[1].(string)
	if v == "" && d == "" {
		s.recent.forget(id)
		return nil, nil
	}
	st, err := s.open(id, v, d)
	if err != nil {
		return nil, err
	}
	// The script checks a hash's version alone.
	st.ident = nil
	s.recent.put(id, st.version, st.ident, st.plain, at, s.opts.RecentFor)
	return st, nil
}

// parse reads the state key's string: the version, a colon and the
// sealed state.
func (s *Store) parse(id bot.ConversationID, raw string) (*stored, error) {
	v, sealed, ok := strings.Cut(raw, ":")
	if !ok {
		return nil, fmt.Errorf("redisstore: load %s: state without a version", id)
	}
	return s.open(id, v, sealed)
}

func (s *Store) open(id bot.ConversationID, v, sealed string) (*stored, error) {
	version, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redisstore: load %s: bad version %q", id, v)
	}
	b := []byte(sealed)
	opened, err := s.sealer.Open(b, stateAD(id))
	if err != nil {
		return nil, fmt.Errorf("redisstore: load %s: %w", id, err)
	}
	plain, rec, c, err := decodeState(opened)
	if err != nil {
		return nil, fmt.Errorf("redisstore: load %s: %w", id, err)
	}
	return &stored{version: version, ident: bytes.Clone(s.sealer.ID(b)), plain: plain, rec: rec, conv: c}, nil
}

// Save implements bot.Store.
func (s *Store) Save(ctx context.Context, id bot.ConversationID, version int64, c bot.Commit) error {
	if c.TTL <= 0 {
		return errors.New("redisstore: save without a TTL")
	}
	prev, ident, err := s.previous(ctx, id, version)
	if err != nil {
		return err
	}
	next, chunk, keep := s.nextRecord(prev, c)
	plain := next.appendTo(make([]byte, 0, 64+len(next.conv)+len(next.pending)))
	newVersion := version + 1
	state := strconv.AppendInt(make([]byte, 0, 24+len(plain)+s.sealer.Overhead()), newVersion, 10)
	state = append(state, ':')
	sealedAt := len(state)
	state = s.sealer.SealTo(state, encodeState(plain, c.Conversation), stateAD(id))
	a := &saveArgs{
		version: version, ident: ident, state: state, ttl: c.TTL,
		erase: c.Conversation.Erased, keepLog: keep, keepEvents: s.opts.MaxEvents,
		seenID: c.Seen.ID, seenEarlier: c.Seen.Earlier, keepSeen: bot.MaxSeen,
	}
	if chunk != nil {
		a.chunk = s.sealer.Seal(chunk, lineAD(id))
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
	keys := []string{s.StateKey(id), s.LogKey(id), s.EventKey(id), s.SeenKey(id)}
	at := s.now()
	var reply any
	if len(a.events) > 0 {
		reply, err = s.saveWithEvents(ctx, id, keys, a)
	} else {
		reply, err = saveScript.Run(ctx, s.rdb, keys, a.list()...).Result()
	}
	if err != nil {
		// Applied or not, nobody knows: read Redis next time.
		s.recent.forget(id)
		return fmt.Errorf("redisstore: save: %w", err)
	}
	switch n, current := saveReply(reply); n {
	case 1:
		s.recent.put(id, newVersion, bytes.Clone(s.sealer.ID(state[sealedAt:])), string(plain), at, c.TTL)
		return nil
	case 0:
		s.conflicted(id, current, at)
		return bot.ErrConflict
	case -1:
		s.recent.forget(id)
		return fmt.Errorf("redisstore: save reached Redis after its deadline and was not applied: %w", context.DeadlineExceeded)
	case -2:
		s.recent.forget(id)
		return bot.ErrDuplicate
	}
	s.recent.forget(id)
	return fmt.Errorf("redisstore: save: unexpected reply %v", reply)
}

// saveReply reads save.lua's reply: its code, and on a conflict the
// current state when the script gave it (a string, or nil when there is
// none).
func saveReply(v any) (int64, any) {
	switch v := v.(type) {
	case int64:
		return v, nil
	case []any:
		if len(v) == 0 {
			break
		}
		n, _ := v[0].(int64)
		if n != 0 {
			break
		}
		if len(v) < 2 {
			return 0, false
		}
		return 0, v[1]
	}
	return -100, nil
}

// conflicted remembers the current state save.lua returned with a
// conflict, so that the engine's retry loads it without a round trip:
// raw is the state's string, nil when the conversation is gone, false
// when the script did not give it.
func (s *Store) conflicted(id bot.ConversationID, raw any, at time.Time) {
	str, ok := raw.(string)
	if !ok {
		s.recent.forget(id)
		return
	}
	st, err := s.parse(id, str)
	if err != nil {
		// Load will read it, and report what is wrong with it.
		s.recent.forget(id)
		return
	}
	s.recent.put(id, st.version, st.ident, st.plain, at, s.opts.RecentFor)
}

// previous returns the record the commit follows, and its sealed
// state's identity (seal.ID, nil for an earlier version's hash): the one
// this process remembers at that version, or else the one in Redis. It
// returns bot.ErrConflict when Redis holds another version.
func (s *Store) previous(ctx context.Context, id bot.ConversationID, version int64) (record, []byte, error) {
	if version == 0 {
		// New: the script checks that nothing is there.
		return record{}, nil, nil
	}
	if e, ok := s.recent.get(id, s.now()); ok && e.version == version {
		if r, err := parseRecord(e.plain); err == nil {
			return r, e.ident, nil
		}
	}
	st, err := s.read(ctx, id)
	if err != nil {
		return record{}, nil, err
	}
	if st == nil || st.version != version {
		return record{}, nil, bot.ErrConflict
	}
	return st.rec, st.ident, nil
}

// nextRecord returns the record a commit makes of prev, and the chunk of
// transcript lines to append to the log (nil for none, opened) with how
// many of the log's newest elements to keep (0: all; -1: there is no log,
// nothing to keep or expire).
func (s *Store) nextRecord(prev record, c bot.Commit) (next record, chunk []byte, keep int) {
	next.conv = string(appendConversation(make([]byte, 0, 512), c.Conversation))
	if c.Conversation.Erased {
		// The transcript goes with the tombstone.
		return next, nil, 0
	}
	next.flags, next.chunks = prev.flags, prev.chunks
	next.npending = prev.npending + len(c.Append)
	next.pending = prev.pending
	if len(c.Append) > 0 {
		b := append(make([]byte, 0, len(prev.pending)+64*len(c.Append)), prev.pending...)
		for _, l := range c.Append {
			b = appendLine(b, l)
		}
		next.pending = string(b)
	}
	if over := next.npending - s.opts.MaxTranscript; over > 0 {
		next.pending = skipLines(next.pending, over)
		next.npending -= over
	}
	if next.npending < s.opts.ChunkLines {
		if len(next.chunks) == 0 && next.flags&flagLegacyLog == 0 {
			return next, nil, -1
		}
		return next, nil, 0
	}
	chunk = encodeChunk(next.pending, next.npending)
	next.chunks = append(append(make([]int, 0, len(prev.chunks)+1), prev.chunks...), next.npending)
	next.pending, next.npending = "", 0
	// Keep the fewest newest chunks that hold MaxTranscript lines; until
	// there are that many, keep everything, an earlier version's lines
	// included.
	total := 0
	for i := len(next.chunks) - 1; i >= 0; i-- {
		total += next.chunks[i]
		if total >= s.opts.MaxTranscript {
			next.chunks = next.chunks[i:]
			next.flags &^= flagLegacyLog
			return next, chunk, len(next.chunks)
		}
	}
	return next, chunk, 0
}

// saveArgs are save.lua's arguments (its header says what each is).
type saveArgs struct {
	version     int64
	ident       []byte
	state       []byte
	ttl         time.Duration
	erase       bool
	keepLog     int
	deadline    int64 // Unix ms; 0: none
	events      [][]byte
	keepEvents  int
	seenID      string
	seenAt      int64 // Unix seconds
	window      int64 // seconds; 0: no replay check
	keepSeen    int
	seenEarlier []string
	chunk       []byte
}

func (a *saveArgs) list() []any {
	erase := "0"
	if a.erase {
		erase = "1"
	}
	args := make([]any, 0, 15+len(a.seenEarlier)+len(a.events))
	args = append(args, a.version, a.ident, a.state, a.ttl.Milliseconds(), erase, a.keepLog, a.deadline,
		len(a.events), a.keepEvents, a.seenID, a.seenAt, a.window, a.keepSeen, len(a.seenEarlier))
	for _, d := range a.seenEarlier {
		args = append(args, d)
	}
	for _, e := range a.events {
		args = append(args, e)
	}
	if a.chunk != nil {
		args = append(args, a.chunk)
	}
	return args
}

// Transcript implements bot.Store: the log's lines, then those waiting in
// the state, read together in one transaction; the newest MaxTranscript.
func (s *Store) Transcript(ctx context.Context, id bot.ConversationID) ([]bot.Line, error) {
	var state *redis.StringCmd
	var log *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		state = p.Get(ctx, s.StateKey(id))
		log = p.LRange(ctx, s.LogKey(id), 0, -1)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "WRONGTYPE") {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	if err := log.Err(); err != nil {
		return nil, fmt.Errorf("redisstore: transcript: %w", err)
	}
	var lines []bot.Line
	for _, v := range log.Val() {
		plain, err := s.sealer.Open([]byte(v), lineAD(id))
		if err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		chunk, err := decodeChunk(plain)
		if err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		lines = append(lines, chunk...)
	}
	// An earlier version's state (a hash, WRONGTYPE here) keeps no lines.
	if raw, err := state.Result(); err == nil {
		st, err := s.parse(id, raw)
		if err != nil {
			return nil, err
		}
		pending, err := decodeLines(st.rec.pending, st.rec.npending)
		if err != nil {
			return nil, fmt.Errorf("redisstore: transcript %s: %w", id, err)
		}
		lines = append(lines, pending...)
	}
	if over := len(lines) - s.opts.MaxTranscript; over > 0 {
		lines = lines[over:]
	}
	if lines == nil {
		lines = []bot.Line{}
	}
	return lines, nil
}
