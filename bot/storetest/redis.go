package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// Redis returns a client on the server named by REDIS_URL (scripts/test
// starts one). Without REDIS_URL the test is skipped, except under CI (CI
// set), where a missing server is a failure rather than a silent pass.
func Redis(t testing.TB) *redis.Client {
	t.Helper()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("REDIS_URL is not set under CI: run the tests with scripts/test")
		}
		t.Skip("REDIS_URL is not set; scripts/test starts a Redis server")
	}
	opts, err := redis.ParseURL(url)
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { rdb.Close() })
	if err := rdb.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at REDIS_URL: %v", err)
	}
	return rdb
}

// Prefix returns a key prefix unique to this test, so that tests sharing
// one server never see each other's keys.
func Prefix(t testing.TB) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "test:" + hex.EncodeToString(b) + ":"
}
