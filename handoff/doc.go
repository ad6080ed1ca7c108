// Package handoff takes cases from the dialogue engine to officers.
//
// Queue is the officer queue in Redis: each handoff becomes a case (queued,
// claimed, closed, reopened), ordered by priority then age, with its
// escalation clocks and the jobs that show it to officers on a Board. The
// Slack board is in handoff/slackboard; Console is the board for an
// operator at a terminal. Without Redis, ConsoleFeed takes the events
// from the in-memory store's log and prints them on the Console.
//
// Each change to the queue is one Lua script (lua/<operation>.lua), which
// declares every key it touches in KEYS: the queue names them (keys.go)
// and no script builds one. Every key of the queue begins with
// "<prefix>{queue}:", the default prefix being "sc:case:", so that a Redis
// Cluster keeps the whole queue on one slot: a case, the index of open
// cases, the clocks, the jobs and the ledger change together, in one
// script, and must be on one node for that. One slot is enough: the
// queue's load is cases and officers' actions, a few a minute at a
// landlord's busiest, far below what one node serves. The conversations,
// which are most of the traffic, are spread over the cluster by their own
// hash tags (package redisstore).
package handoff
