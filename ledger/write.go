package ledger

import (
	"context"
	"crypto/rand"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// writeBatch is how many entries Write sends in one pipeline.
const writeBatch = 200

// Write adds entries to the ledger under prefix in the layout Read reads
// (see the package comment), each under a new random ledger id, in
// pipelines of a batch of entries. Each hash expires after ttl; 0 keeps
// it. The officer queue writes its own entries; Write is for tests and for
// loading a Fixture.
func Write(ctx context.Context, rdb redis.UniversalClient, prefix string, entries []Entry, ttl time.Duration) error {
	for start := 0; start < len(entries); start += writeBatch {
		pipe := rdb.Pipeline()
		for _, e := range entries[start:min(start+writeBatch, len(entries))] {
			lid := rand.Text()
			key := prefix + "led:" + lid
			pipe.HSet(ctx, key, e.fields())
			if ttl > 0 {
				pipe.PExpire(ctx, key, ttl)
			}
			hour := e.Hour.UTC().Truncate(time.Hour)
			pipe.ZAdd(ctx, prefix+"ledger", redis.Z{Score: float64(hour.UnixMilli()), Member: lid})
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return fmt.Errorf("ledger: write: %w", err)
		}
	}
	return nil
}
