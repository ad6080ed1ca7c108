package ledger

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBatch is how many ledger ids Read takes from the index at once,
// and so how many entries one pipeline fetches.
const readBatch = 500

// Read returns the entries of the cases opened from from (inclusive) to to
// (exclusive), oldest first, reading the index a batch of ids at a time
// and each batch's entries, with their expiry, in one pipeline. An entry
// that is gone or has expired (on Redis's clock) is skipped. An entry
// without its hour gets the id's score. A field that can't be read fails
// the whole read with an error wrapping ErrMalformed and naming the
// ledger id.
func Read(ctx context.Context, rdb redis.UniversalClient, prefix string, from, to time.Time) ([]Entry, error) {
	keys := KeysFor(prefix)
	var entries []Entry
	args := redis.ZRangeArgs{
		Key:     keys.Index,
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
		lids := make([]string, len(ids))
		for i, z := range ids {
			lids[i] = z.Member.(string)
		}
		pipe := rdb.Pipeline()
		raws := pipe.HMGet(ctx, keys.Entries, lids...)
		expiry := pipe.ZMScore(ctx, keys.Expiry, lids...)
		clock := pipe.Time(ctx)
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("ledger: read entries: %w", err)
		}
		now := clock.Val().UnixMilli()
		for i, raw := range raws.Val() {
			s, ok := raw.(string)
			if !ok {
				continue // removed
			}
			if exp := expiry.Val()[i]; exp != 0 && int64(exp) <= now {
				continue // expired, not yet removed
			}
			e, err := parseJSON(s)
			if err != nil {
				return nil, fmt.Errorf("ledger %s: %w", lids[i], err)
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

// parseJSON reads one stored entry.
func parseJSON(s string) (Entry, error) {
	var h map[string]string
	if err := json.Unmarshal([]byte(s), &h); err != nil {
		return Entry{}, fmt.Errorf("%w: not a JSON object of strings", ErrMalformed)
	}
	return Parse(h)
}
