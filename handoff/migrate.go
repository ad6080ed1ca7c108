package handoff

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// Before the queue's keys carried its hash tag, they were directly under
// the prefix: c:<id>, d:<id>, tl:<id>, card:<ts>, open, timers, a key per
// job (job:<n>, its text sealed as it is, its attempts in n) listed in
// jobs, seq, a key per ledger entry (led:<lid>, with its TTL) listed in
// ledger, and one event position for every conversation (evpos). That
// queue ran on one Redis server (or a Sentinel set), never on a Cluster.
//
// migrate moves such a queue into the present layout, once, before the
// process that holds the lease first does the queue's work: every case,
// its duties, its list of messages to redact and its card's index keep
// their TTL; the open cases and the clocks join the present ones; each
// job keeps its order among the old jobs, after any queued since; each
// ledger entry keeps its time to live. evpos stays for the store: it
// drops what the old queue had taken from the old single event stream,
// then evpos (redisstore.Options.LegacyTaken).
//
// Every step is atomic on its own (RENAMENX, or MULTI), and each moves
// what it moves and removes it from the old layout together, so a
// process that stops part way leaves the rest for the next, and nothing
// is moved twice. The old seq and ledger, which say there is something
// to move, go last. Old processes must be stopped before new ones start:
// what an old process wrote after the move would not be seen.
func (q *Queue) migrate(ctx context.Context) error {
	old := q.opts.Prefix
	found := false
	for _, k := range []string{"seq", "ledger", "open"} {
		n, err := q.rdb.Exists(ctx, old+k).Result()
		if err != nil {
			return fmt.Errorf("queue: migrate: %w", err)
		}
		found = found || n > 0
	}
	if !found {
		return nil
	}
	if _, ok := q.rdb.(*redis.ClusterClient); ok {
		// The old layout never ran on a cluster: what is there is debris.
		q.opts.Log.Warn("queue: keys of the old layout on a cluster are left as they are", "prefix", old)
		return nil
	}
	q.opts.Log.Info("queue: moving the queue into the present layout", "prefix", old)
	steps := []func(context.Context) error{q.migrateCases, q.migrateSets, q.migrateJobs, q.migrateLedger}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return fmt.Errorf("queue: migrate: %w", err)
		}
	}
	if err := q.rdb.Del(ctx, old+"lease", old+"jobs", old+"seq", old+"ledger").Err(); err != nil {
		return fmt.Errorf("queue: migrate: %w", err)
	}
	q.opts.Log.Info("queue: the queue is in the present layout")
	return nil
}

// migrateCases renames each case's keys and each card's index key. A
// case already in the present layout (opened again since) is kept, and
// the old one left to expire, with a warning.
func (q *Queue) migrateCases(ctx context.Context) error {
	old := q.opts.Prefix
	iter := q.rdb.Scan(ctx, 0, old+"*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		rest := strings.TrimPrefix(k, old)
		if strings.HasPrefix(k, q.keys.base) || !hasAnyPrefix(rest, "c:", "d:", "tl:", "card:") {
			continue
		}
		moved, err := q.rdb.RenameNX(ctx, k, q.keys.of(rest)).Result()
		if err != nil && !strings.Contains(err.Error(), "no such key") {
			return err
		}
		if err == nil && !moved {
			kind, id, _ := strings.Cut(rest, ":")
			q.opts.Log.Warn("queue: a key of the old layout is left to expire: the present one is newer", "kind", kind, "case", ShortRef(bot.ConversationID(id)))
		}
	}
	return iter.Err()
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// migrateSets adds the old open cases and clocks to the present ones.
func (q *Queue) migrateSets(ctx context.Context) error {
	for _, name := range []string{"open", "timers"} {
		from, to := q.opts.Prefix+name, q.keys.of(name)
		_, err := q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZUnionStore(ctx, to, &redis.ZStore{Keys: []string{to, from}, Aggregate: "MAX"})
			p.Del(ctx, from)
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// migrateJobs moves the old jobs, oldest first, each under a new number.
func (q *Queue) migrateJobs(ctx context.Context) error {
	from := q.opts.Prefix + "jobs"
	for {
		ns, err := q.rdb.ZRange(ctx, from, 0, 99).Result()
		if err != nil || len(ns) == 0 {
			return err
		}
		for _, n := range ns {
			if err := q.migrateJob(ctx, n); err != nil {
				return err
			}
		}
	}
}

func (q *Queue) migrateJob(ctx context.Context, n string) error {
	from, list := q.opts.Prefix+"job:"+n, q.opts.Prefix+"jobs"
	m, err := q.rdb.HGetAll(ctx, from).Result()
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return q.rdb.ZRem(ctx, list, n).Err()
	}
	s := storedJob{Kind: m["k"], Case: m["c"], Alert: m["a"], Officer: m["o"], Tenant: m["w"], Officer2: m["o2"],
		Extra: m["x"], Tries: m["n"], At: m["at"]}
	if m["t"] != "" {
		s.Text = base64.StdEncoding.EncodeToString([]byte(m["t"]))
	}
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	seq, err := q.rdb.Incr(ctx, q.keys.of("seq")).Result()
	if err != nil {
		return err
	}
	num := strconv.FormatInt(seq, 10)
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, q.keys.of("job"), num, b)
		p.ZAdd(ctx, q.keys.of("jobs"), redis.Z{Score: float64(seq), Member: num})
		p.Del(ctx, from)
		p.ZRem(ctx, list, n)
		return nil
	})
	return err
}

// migrateLedger moves the old ledger entries, each with the time it had
// left to live.
func (q *Queue) migrateLedger(ctx context.Context) error {
	index := q.opts.Prefix + "ledger"
	now, err := q.rdb.Time(ctx).Result()
	if err != nil {
		return err
	}
	for {
		lids, err := q.rdb.ZRangeWithScores(ctx, index, 0, 499).Result()
		if err != nil || len(lids) == 0 {
			return err
		}
		for _, z := range lids {
			if err := q.migrateEntry(ctx, z, now); err != nil {
				return err
			}
		}
	}
}

func (q *Queue) migrateEntry(ctx context.Context, z redis.Z, now time.Time) error {
	lid := z.Member.(string)
	from, index := q.opts.Prefix+"led:"+lid, q.opts.Prefix+"ledger"
	m, err := q.rdb.HGetAll(ctx, from).Result()
	if err != nil {
		return err
	}
	if len(m) == 0 {
		return q.rdb.ZRem(ctx, index, lid).Err() // expired
	}
	ttl, err := q.rdb.PTTL(ctx, from).Result()
	if err != nil {
		return err
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	_, err = q.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, q.keys.ledger.Entries, lid, b)
		if ttl > 0 {
			p.ZAdd(ctx, q.keys.ledger.Expiry, redis.Z{Score: float64(now.Add(ttl).UnixMilli()), Member: lid})
		}
		p.ZAdd(ctx, q.keys.ledger.Index, z)
		p.Del(ctx, from)
		p.ZRem(ctx, index, lid)
		return nil
	})
	return err
}

// migrateRetry is how long after a failed move the next is tried.
const migrateRetry = time.Minute
