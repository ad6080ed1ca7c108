package ledger

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBatch is how many ledger ids Read takes from the sorted set at once,
// and so how many hashes one pipeline fetches.
const readBatch = 500

// Read returns the entries of the cases opened from from (inclusive) to to
// (exclusive), oldest first, reading the sorted set a batch of ids at a
// time and each batch's hashes in one pipeline. An id whose hash has
// expired is skipped. An entry without its hour gets the id's score. A
// field that can't be read fails the whole read with an error wrapping
// ErrMalformed and naming the ledger id.
func Read(ctx context.Context, rdb redis.UniversalClient, prefix string, from, to time.Time) ([]Entry, error) {
	var entries []Entry
	args := redis.ZRangeArgs{
		Key:     prefix + "ledger",
		ByScore: true,
		Start:   strconv.FormatInt(from.UnixMilli(), 10),
		Stop:    "(" + strconv.FormatInt(to.UnixMilli(), 10),
		Count:   readBatch,
	}
	for {
		ids, err := rdb.ZRangeArgsWithScores(ctx, args).Result()
		if err != nil {
			return nil, fmt.Errorf("ledger: read ids: %w", err)
		}
		if len(ids) == 0 {
			return entries, nil
		}
		pipe := rdb.Pipeline()
		cmds := make([]*redis.MapStringStringCmd, len(ids))
		for i, z := range ids {
			cmds[i] = pipe.HGetAll(ctx, prefix+"led:"+z.Member.(string))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("ledger: read entries: %w", err)
		}
		for i, cmd := range cmds {
			h := cmd.Val()
			if len(h) == 0 {
				continue // expired
			}
			e, err := Parse(h)
			if err != nil {
				return nil, fmt.Errorf("ledger %s: %w", ids[i].Member, err)
			}
			if e.Hour.IsZero() {
				e.Hour = time.UnixMilli(int64(ids[i].Score)).UTC()
			}
			entries = append(entries, e)
		}
		if len(ids) < readBatch {
			return entries, nil
		}
		args.Offset += readBatch
	}
}
