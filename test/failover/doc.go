// Package failover holds the tests of what reaches a tenant when Redis
// loses its primary. It has no code of its own.
//
// TestTextsThroughAFailover texts many tenants' conversations to two
// `safecontact serve` processes while the primary is killed and Sentinel
// promotes its replica. It runs only on the Redis set
// scripts/with-redis-sentinel starts, alone on it, since it kills that
// set's primary:
//
//	scripts/with-redis-sentinel go test -race -count=1 -v ./test/failover
//
// TestALostAnswerIsNotAppliedTwice runs on one Redis server behind a proxy
// that loses a script's answer and then refuses connections for a while,
// as a primary that died after applying it does.
package failover
