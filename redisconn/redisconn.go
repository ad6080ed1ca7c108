// Package redisconn opens the Redis client every safecontact process
// shares, from the settings a landlord's IT gives it: one Redis server, a
// primary with replicas watched by Sentinel, or a Redis Cluster. The rest of
// safecontact sees a redis.UniversalClient and does not care which.
package redisconn

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Modes a Redis deployment can be in (REDIS_MODE).
const (
	// Single is one Redis server, with or without replicas:
	// REDIS_URL=redis://[user:password@]host:port[/db].
	Single = "single"
	// Sentinel is a primary and its replicas watched by Sentinel:
	// REDIS_URL=redis://sentinel1:26379?master_name=NAME&addr=sentinel2:26379&addr=…
	// The URL's user and password are the sentinels' own, when they have
	// one; the data nodes' are the query parameters username and password.
	Sentinel = "sentinel"
	// Cluster is a Redis Cluster:
	// REDIS_URL=redis://[user:password@]node1:6379?addr=node2:6379&addr=…
	// (any of its nodes; the rest are found from them).
	Cluster = "cluster"
)

// Open returns a client for the Redis that rawURL names in mode ("" is
// Single). A turn's context deadline bounds every call it makes, so that a
// slow Redis gets the tenant a fallback reply in time. Open checks the
// client reaches Redis.
func Open(ctx context.Context, mode, rawURL string) (redis.UniversalClient, error) {
	rdb, err := New(mode, rawURL)
	if err != nil {
		return nil, err
	}
	if err := rdb.Ping(ctx).Err(); err != nil {
		rdb.Close()
		return nil, fmt.Errorf("redis (%s, %s): %w", modeName(mode), Redact(rawURL), err)
	}
	return rdb, nil
}

// Retries: a command whose connection failed (a restart, a failover) is
// tried again until the caller's context ends, not given up after
// go-redis's three tries (about a second). A turn then waits out a short
// outage and gets its answer; and a save that Redis applied but whose
// answer was lost is tried again, found applied (the message id is
// seen), and answered with its replies rather than the fallback, which
// would have had the tenant send the same words again, to be read as the
// answer to the next question. REDIS_URL's max_retries and
// max_retry_backoff override these.
const (
	defaultMaxRetries      = 30
	defaultMaxRetryBackoff = 250 * time.Millisecond
)

// New returns a client as Open does, without reaching Redis.
func New(mode, rawURL string) (redis.UniversalClient, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("REDIS_URL: %w", err)
	}
	q := u.Query()
	retries := func(maxRetries *int, backoff *time.Duration) {
		if !q.Has("max_retries") {
			*maxRetries = defaultMaxRetries
		}
		if !q.Has("max_retry_backoff") {
			*backoff = defaultMaxRetryBackoff
		}
	}
	switch modeName(mode) {
	case Single:
		o, err := redis.ParseURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL: %w", err)
		}
		o.ContextTimeoutEnabled = true
		retries(&o.MaxRetries, &o.MaxRetryBackoff)
		return redis.NewClient(o), nil
	case Sentinel:
		o, err := redis.ParseFailoverURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL (sentinel): %w", err)
		}
		if o.MasterName == "" {
			return nil, fmt.Errorf("REDIS_URL (sentinel): master_name=… is required, naming the primary the sentinels watch")
		}
		o.ContextTimeoutEnabled = true
		retries(&o.MaxRetries, &o.MaxRetryBackoff)
		return redis.NewFailoverClient(o), nil
	case Cluster:
		o, err := redis.ParseClusterURL(rawURL)
		if err != nil {
			return nil, fmt.Errorf("REDIS_URL (cluster): %w", err)
		}
		o.ContextTimeoutEnabled = true
		retries(&o.MaxRetries, &o.MaxRetryBackoff)
		return redis.NewClusterClient(o), nil
	}
	return nil, fmt.Errorf("REDIS_MODE %q: want %s, %s or %s", mode, Single, Sentinel, Cluster)
}

func modeName(mode string) string {
	if mode == "" {
		return Single
	}
	return strings.ToLower(mode)
}

// Redact returns the URL with any password replaced, for logs and errors.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unreadable URL)"
	}
	return u.Redacted()
}

// ForEachPrimary calls fn with a client on each primary holding data: the
// one server, or every primary of a cluster. Scans (SCAN, KEYS) must visit
// each, since a cluster's nodes each hold only their own slots.
func ForEachPrimary(ctx context.Context, rdb redis.UniversalClient, fn func(context.Context, *redis.Client) error) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("redisconn: a %T cannot be scanned node by node", rdb)
}
