package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"sort"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/redisconn"
)

// Redis returns a client on the Redis named by REDIS_URL and REDIS_MODE,
// as safecontact reads them (scripts/test starts one server, and a
// cluster and a sentinel set for the Redis suites). Without REDIS_URL the
// test is skipped, except under CI (CI set), where a missing server is a
// failure rather than a silent pass.
func Redis(t testing.TB) redis.UniversalClient {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_URL is not set under CI: run the tests with scripts/test")
		}
		t.Skip("REDIS_URL is not set; scripts/test starts a Redis server")
	}
	rdb, err := redisconn.Open(context.Background(), os.Getenv("REDIS_MODE"), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return rdb
}

// Keys returns every key matching the pattern, sorted, from every primary
// (a cluster's keys are spread over its nodes).
func Keys(t testing.TB, rdb redis.UniversalClient, pattern string) []string {
	t.Helper()
	var keys []string
	var mu = make(chan struct{}, 1)
	err := redisconn.ForEachPrimary(context.Background(), rdb, func(ctx context.Context, c *redis.Client) error {
		iter := c.Scan(ctx, 0, pattern, 1000).Iterator()
		var found []string
		for iter.Next(ctx) {
			found = append(found, iter.Val())
		}
		mu <- struct{}{}
		keys = append(keys, found...)
		<-mu
		return iter.Err()
	})
	if err != nil {
		t.Fatalf("keys %s: %v", pattern, err)
	}
	sort.Strings(keys)
	return keys
}

// Prefix returns a key prefix unique to this test, so that tests sharing
// one server never see each other's keys.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}
