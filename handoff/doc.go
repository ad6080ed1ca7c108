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
//
// The board's jobs are done in the order of what a person needs first:
// alerts (on-call first of all), then urgent cases' cards and card
// updates, then other cases' cards and updates, then urgent cases'
// thread lines, then the rest. Each case's own posts keep their order,
// its card before its thread; an alert goes right after its case's card
// when that can go at once, and without it when it cannot. A Slack
// channel that is rate limited holds back only its own posts. So an
// urgent case's alert and card wait for no other case's backlog, however
// long: they go within a pass of the worker (a second) and the wait, if
// any, that Slack asks of their own channel.
//
// A tenant's flood while Slack is slow is coalesced: once a case has
// MergeAfter (4) posts of thread lines waiting, new lines join the newest
// waiting post, up to MaxPostText (4 KiB) of sealed lines a post and
// MaxLinePosts (8) posts; past that the newest post keeps its first and
// its latest lines and counts those left out between. However many
// texts come while Slack is down, a case's waiting lines take at most 8
// × (4 KiB + about 300 bytes of fields) ≈ 35 KiB of Redis (posts.go).
// The words stay sealed, and every Slack message that held them is
// listed (tl:<id>) for DELETE to redact, including one posted as the
// tenant asked, and one tried before it whose answer was lost (found
// then by its job's key).
//
// A card update or thread line the board fails MaxAttempts times, or
// refuses for good, goes to a dead list (at most DeadMax, default 1,000,
// each kept DeadTTL, default 7 days); Jobs lists the dead and waiting
// jobs without their words, RetryDead puts a dead one back, Drop removes
// one, and DeadCount counts them.
package handoff
