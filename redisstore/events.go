package redisstore

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/redisconn"
)

// The events of a turn are written with the turn into the conversation's
// own stream (sc:{id}:ev), on the conversation's cluster slot, and the
// conversation is marked in an index every process reads, on the index's
// own slot. No script can change both slots at once, so a turn with events
// takes three steps, each safe to repeat:
//
//  1. mark.lua: the conversation joins the index (due now), with the
//     deadline of the save about to run;
//  2. save.lua: the turn and its events, refused after that deadline;
//  3. mark.lua again: a reader that looked between 1 and 2 looks again.
//
// A crash after 1 leaves a mark with no events: the reader finds none and
// forgets it. A crash after 2 leaves events with their mark: they are
// taken. A crash after 3 loses nothing. The reader (Events, Taken) takes
// a conversation's events, trims them, and then settles its mark
// (settle.lua): it is forgotten only once no save that marked it can still
// write, and set aside until then. On one server the three steps go in one
// pipeline (one round trip, run in order); on a cluster, one after another.

//go:embed mark.lua
var markSource string

//go:embed settle.lua
var settleSource string

//go:embed trim.lua
var trimSource string

var (
	markScript   = redis.NewScript(markSource)
	settleScript = redis.NewScript(settleSource)
	trimScript   = redis.NewScript(trimSource)
)

// settleMargin is how long after a save's deadline its mark may be
// forgotten: Redis has by then applied or refused the save, even with the
// processes' and Redis's clocks a few seconds apart.
const settleMargin = 10 * time.Second

// emptyStreamKeep is how long a conversation's stream is kept once the
// queue has taken all its events (trim.lua): long enough for any clock
// step or replica's clock lag a deployment can have, short enough that
// an idle case's empty stream (about 370 bytes) does not stay for its
// thirty days.
const emptyStreamKeep = 10 * time.Minute

// eventSaveLimit bounds a save with events whose caller set no deadline:
// a mark must know when its save can no longer write.
const eventSaveLimit = 30 * time.Second

// EventKey names a conversation's stream of events waiting for the queue.
func (s *Store) EventKey(id bot.ConversationID) string {
	return s.opts.Prefix + "{" + string(id) + "}:ev"
}

// indexKeys are the index of conversations with waiting events and its
// hash, both under one hash tag made from Options.EventLog.
func (s *Store) indexKeys() []string {
	tag := "{" + strings.Trim(s.opts.EventLog, "{}") + "}"
	return []string{tag + ":due", tag + ":marks"}
}

// An event is sealed bound to its conversation: one copied into another
// conversation's stream does not open.
func eventAD(id bot.ConversationID) []byte { return []byte("event\x00" + string(id)) }

// legacyEventAD is what events in the single event stream of earlier
// versions were sealed with (Options.EventLog named that stream).
var legacyEventAD = []byte("event")

// marks remembers, per conversation, the number of its latest mark when
// the reader last read the index: Taken settles with it. It also
// remembers which ids Events returned from an earlier version's stream.
// Their ids are stream ids of the same server, in time order with the
// conversations' own.
type marks struct {
	mu      sync.Mutex
	seen    map[bot.ConversationID]string
	legacys map[string]bool
}

func (m *marks) legacy(id string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.legacys == nil {
		m.legacys = make(map[string]bool)
	}
	m.legacys[id] = true
}

func (m *marks) wasLegacy(id string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok := m.legacys[id]
	delete(m.legacys, id)
	return ok
}

func (m *marks) set(id bot.ConversationID, w string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = make(map[bot.ConversationID]string)
	}
	m.seen[id] = w
}

func (m *marks) take(id bot.ConversationID) (string, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	w, ok := m.seen[id]
	delete(m.seen, id)
	return w, ok
}

// markArgs are mark.lua's arguments.
func (s *Store) markArgs(id bot.ConversationID, now time.Time, deadline int64) []any {
	return []any{string(id), now.UnixMilli(), deadline}
}

// saveWithEvents runs a save whose turn has events: mark, save, mark. It
// returns save.lua's reply.
func (s *Store) saveWithEvents(ctx context.Context, id bot.ConversationID, keys []string, a *saveArgs) (any, error) {
	now := time.Now()
	if a.deadline == 0 {
		a.deadline = now.Add(eventSaveLimit).UnixMilli()
	}
	mark := s.markArgs(id, now, a.deadline)
	if _, ok := s.rdb.(*redis.ClusterClient); ok {
		if err := markScript.Run(ctx, s.rdb, s.indexKeys(), mark...).Err(); err != nil {
			return nil, fmt.Errorf("redisstore: mark events: %w", err)
		}
		reply, err := saveScript.Run(ctx, s.rdb, keys, a.list()...).Result()
		if err != nil {
			return nil, err
		}
		if n, _ := saveReply(reply); n > 0 {
			// The events are safe with their mark; a failure here
			// only delays them (settle.lua).
			markScript.Run(ctx, s.rdb, s.indexKeys(), mark...)
		}
		return reply, nil
	}
	return s.pipelined(ctx, id, mark, keys, a)
}

// pipelined runs the three steps in one pipeline. The first mark is sent
// whole, so that it runs even on a Redis that has not seen it (restarted,
// failed over): a save must never run without a mark before it, or a
// crash before a later mark would leave its events where no reader looks,
// and a resend would be refused as seen. The save and the second mark are
// called by their digest; a save refused with NOSCRIPT did not run: the
// scripts are loaded and the pipeline sent again. A second mark refused
// around a save that ran is made again (without it a reader that looked
// in between takes the events up to 40 s late, settle.lua).
func (s *Store) pipelined(ctx context.Context, id bot.ConversationID, mark []any, keys []string, a *saveArgs) (any, error) {
	for attempt := 0; ; attempt++ {
		var marks [2]*redis.Cmd
		var save *redis.Cmd
		// Each step's error is read from its own command below.
		_, _ = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			marks[0] = markScript.Eval(ctx, p, s.indexKeys(), mark...)
			save = saveScript.EvalSha(ctx, p, keys, a.list()...)
			marks[1] = markScript.EvalSha(ctx, p, s.indexKeys(), mark...)
			return nil
		})
		if err := save.Err(); err != nil {
			if attempt == 0 && redis.HasErrorPrefix(err, "NOSCRIPT") {
				if err := s.loadScripts(ctx); err != nil {
					return nil, err
				}
				continue
			}
			return nil, err
		}
		reply := save.Val()
		if n, _ := saveReply(reply); n > 0 && (marks[0].Err() != nil || marks[1].Err() != nil) {
			if err := markScript.Run(ctx, s.rdb, s.indexKeys(), mark...).Err(); err != nil {
				// The turn is saved and cannot be taken back:
				// its events wait for the next mark or a later turn.
				return reply, fmt.Errorf("redisstore: mark events of %s: %w", id, err)
			}
		}
		return reply, nil
	}
}

func (s *Store) loadScripts(ctx context.Context) error {
	for _, sc := range []*redis.Script{markScript, saveScript} {
		if err := sc.Load(ctx, s.rdb).Err(); err != nil {
			return fmt.Errorf("redisstore: load scripts: %w", err)
		}
	}
	return nil
}

// Events returns up to n events waiting for the officer queue, oldest
// conversation first and each conversation's in order. Each has its
// conversation; its ID orders it within that conversation only. An entry
// that cannot be read comes back with Err set, to be passed over.
// Events also settles the marks of conversations with none waiting.
func (s *Store) Events(ctx context.Context, n int) ([]bot.LoggedEvent, error) {
	out, err := s.legacyEvents(ctx, n)
	if err != nil {
		return nil, err
	}
	keys := s.indexKeys()
	now := time.Now()
	// Conversations are read a batch at a time until n events are found
	// or none is due.
	var offset int64
	const batch = 100
	for len(out) < n {
		ids, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
			Key: keys[0], Start: "-inf", Stop: strconv.FormatInt(now.UnixMilli(), 10),
			ByScore: true, Offset: offset, Count: batch,
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: events: %w", err)
		}
		if len(ids) == 0 {
			break
		}
		offset += int64(len(ids))
		fields := make([]string, len(ids))
		for i, id := range ids {
			fields[i] = id + ":w"
		}
		ws, err := s.rdb.HMGet(ctx, keys[1], fields...).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: events: %w", err)
		}
		streams := make([]*redis.XMessageSliceCmd, len(ids))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range ids {
				streams[i] = p.XRange(ctx, s.EventKey(bot.ConversationID(id)), "-", "+")
			}
			return nil
		}); err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisstore: events: %w", err)
		}
		for i, raw := range ids {
			id := bot.ConversationID(raw)
			w, _ := ws[i].(string)
			msgs := streams[i].Val()
			if len(msgs) == 0 {
				if err := s.settle(ctx, id, w); err != nil {
					return nil, err
				}
				continue
			}
			s.marks.set(id, w)
			for _, m := range msgs {
				out = append(out, s.openEvent(id, m, eventAD(id)))
			}
		}
		if len(ids) < batch {
			break
		}
	}
	return out, nil
}

func (s *Store) openEvent(id bot.ConversationID, m redis.XMessage, ad []byte) bot.LoggedEvent {
	le := bot.LoggedEvent{ID: m.ID, Conversation: id}
	sealed, _ := m.Values["e"].(string)
	plain, err := s.sealer.Open([]byte(sealed), ad)
	if err == nil {
		err = json.Unmarshal(plain, &le.Event)
	}
	if err != nil {
		le.Err = fmt.Errorf("redisstore: event %s of %s: %w", m.ID, id, err)
	} else if le.Conversation == "" {
		le.Conversation = le.Event.Conversation
	}
	return le
}

// Taken drops events the caller has applied, all of them from Events, and
// settles the marks of conversations left with none waiting.
func (s *Store) Taken(ctx context.Context, evs []bot.LoggedEvent) error {
	last := make(map[bot.ConversationID]string)
	var order []bot.ConversationID
	var legacy string
	for _, le := range evs {
		if s.marks.wasLegacy(le.ID) {
			legacy = le.ID
			continue
		}
		if _, ok := last[le.Conversation]; !ok {
			order = append(order, le.Conversation)
		}
		last[le.Conversation] = le.ID
	}
	if legacy != "" {
		if err := s.trimStream(ctx, s.opts.EventLog, legacy); err != nil {
			return err
		}
	}
	for _, id := range order {
		next, err := nextStreamID(last[id])
		if err != nil {
			return err
		}
		left, err := trimScript.Run(ctx, s.rdb, []string{s.EventKey(id)}, next, emptyStreamKeep.Milliseconds()).Int64()
		if err != nil {
			return fmt.Errorf("redisstore: events taken: %w", err)
		}
		w, ok := s.marks.take(id)
		if left == 0 && ok {
			if err := s.settle(ctx, id, w); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) settle(ctx context.Context, id bot.ConversationID, w string) error {
	err := settleScript.Run(ctx, s.rdb, s.indexKeys(), string(id), w, time.Now().UnixMilli(), settleMargin.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: settle events of %s: %w", id, err)
	}
	return nil
}

// Sweep marks again every conversation with events waiting and no mark in
// the index, and returns how many it found. A turn marks before it saves,
// so there should be none; but on a Redis Cluster the index's primary can
// fail over and lose a mark whose events survive on another, and those
// events would wait for the conversation's next ones. The officer queue
// runs it every few minutes. It scans every primary for the
// conversations' event streams: a few hundred calls per hundred thousand
// keys.
func (s *Store) Sweep(ctx context.Context) (int, error) {
	pattern := globEscape(s.opts.Prefix) + "{*}:ev"
	var mu sync.Mutex
	found := 0
	err := redisconn.ForEachPrimary(ctx, s.rdb, func(ctx context.Context, node *redis.Client) error {
		iter := node.ScanType(ctx, 0, pattern, 1000, "stream").Iterator()
		var batch []string
		flush := func() error {
			n, err := s.markUnmarked(ctx, batch)
			mu.Lock()
			found += n
			mu.Unlock()
			batch = batch[:0]
			return err
		}
		for iter.Next(ctx) {
			if batch = append(batch, iter.Val()); len(batch) == 100 {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := iter.Err(); err != nil {
			return err
		}
		return flush()
	})
	if err != nil {
		return found, fmt.Errorf("redisstore: sweep events: %w", err)
	}
	return found, nil
}

// markUnmarked marks the conversations of the event streams (keys) that
// hold events and are not in the index, and says how many it marked.
func (s *Store) markUnmarked(ctx context.Context, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	ids := make([]string, len(keys))
	lens := make([]*redis.IntCmd, len(keys))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			ids[i] = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(k, s.opts.Prefix), "{"), "}:ev")
			lens[i] = p.XLen(ctx, k)
		}
		return nil
	}); err != nil && !errors.Is(err, redis.Nil) {
		return 0, err
	}
	scores, err := s.rdb.ZMScore(ctx, s.indexKeys()[0], ids...).Result()
	if err != nil {
		return 0, err
	}
	n := 0
	now := time.Now()
	for i, id := range ids {
		// A score of 0 is no member: every mark's is a time.
		if lens[i].Val() == 0 || scores[i] != 0 {
			continue
		}
		// No save is on its way: the deadline is now.
		if err := markScript.Run(ctx, s.rdb, s.indexKeys(), s.markArgs(bot.ConversationID(id), now, now.UnixMilli())...).Err(); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// globEscape makes s match itself in a SCAN pattern.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// trimStream drops a stream's entries up to and including the id.
func (s *Store) trimStream(ctx context.Context, key, through string) error {
	next, err := nextStreamID(through)
	if err != nil {
		return err
	}
	if err := s.rdb.XTrimMinID(ctx, key, next).Err(); err != nil {
		return fmt.Errorf("redisstore: events taken: %w", err)
	}
	return nil
}

// nextStreamID returns the least stream id after the given one: XTRIM
// MINID with it keeps what comes after.
func nextStreamID(id string) (string, error) {
	ms, seq, ok := strings.Cut(id, "-")
	n, err := strconv.ParseUint(seq, 10, 64)
	if !ok || err != nil {
		return "", fmt.Errorf("redisstore: events taken: bad id %q", id)
	}
	return ms + "-" + strconv.FormatUint(n+1, 10), nil
}

// legacyEvents returns what an earlier version left in its single event
// stream (named Options.EventLog), so that an upgrade loses none: written
// before the upgrade, or by a process of the earlier version during a
// rolling one. Entries at or before LegacyTaken's position had been taken
// and are dropped without being returned, and the position with them.
func (s *Store) legacyEvents(ctx context.Context, n int) ([]bot.LoggedEvent, error) {
	key := s.opts.EventLog
	msgs, err := s.rdb.XRangeN(ctx, key, "-", "+", int64(n)).Result()
	if err != nil {
		if redis.HasErrorPrefix(err, "WRONGTYPE") {
			return nil, nil
		}
		return nil, fmt.Errorf("redisstore: events: %w", err)
	}
	if len(msgs) == 0 {
		return nil, nil
	}
	if s.opts.LegacyTaken != "" {
		// What the old queue had taken goes first, then its position.
		taken, err := s.rdb.Get(ctx, s.opts.LegacyTaken).Result()
		if err != nil && !errors.Is(err, redis.Nil) {
			return nil, fmt.Errorf("redisstore: events: %w", err)
		}
		if taken != "" {
			if err := s.trimStream(ctx, key, taken); err != nil {
				return nil, err
			}
			if err := s.rdb.Del(ctx, s.opts.LegacyTaken).Err(); err != nil {
				return nil, fmt.Errorf("redisstore: events: %w", err)
			}
			if msgs, err = s.rdb.XRangeN(ctx, key, "-", "+", int64(n)).Result(); err != nil {
				return nil, fmt.Errorf("redisstore: events: %w", err)
			}
		}
	}
	var out []bot.LoggedEvent
	for _, m := range msgs {
		s.marks.legacy(m.ID)
		out = append(out, s.openEvent("", m, legacyEventAD))
	}
	return out, nil
}
