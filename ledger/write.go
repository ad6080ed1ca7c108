package ledger

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// writeBatch is how many entries Write sends in one pipeline.
const writeBatch = 200

// Write adds entries to the ledger under prefix in the layout Read reads
// (see the package comment), each under a new random ledger id, in
// pipelines of a batch of entries. Each entry expires ttl after it is
// written, on Redis's clock; 0 keeps it. The officer queue writes its own
// entries; Write is for tests and for loading a Fixture.
func Write(ctx context.Context, rdb redis.UniversalClient, prefix string, entries []Entry, ttl time.Duration) error {
	keys := KeysFor(prefix)
	now, err := rdb.Time(ctx).Result()
	if err != nil {
		return fmt.Errorf("ledger: write: %w", err)
	}
	for start := 0; start < len(entries); start += writeBatch {
		pipe := rdb.Pipeline()
		for _, e := range entries[start:min(start+writeBatch, len(entries))] {
			lid := rand.Text()
			b, err := json.Marshal(e.fields())
			if err != nil {
				return fmt.Errorf("ledger: write: %w", err)
			}
			pipe.HSet(ctx, keys.Entries, lid, b)
			if ttl > 0 {
				pipe.ZAdd(ctx, keys.Expiry, redis.Z{Score: float64(now.Add(ttl).UnixMilli()), Member: lid})
			}
			hour := e.Hour.UTC().Truncate(time.Hour)
			pipe.ZAdd(ctx, keys.Index, redis.Z{Score: float64(hour.UnixMilli()), Member: lid})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("ledger: write: %w", err)
		}
	}
	return nil
}
