// Package handoff takes cases from the dialogue engine to officers.
//
// Queue is the officer queue in Redis: each handoff becomes a case (queued,
// claimed, closed, reopened), ordered by priority then age, with its
// escalation clocks and the jobs that show it to officers on a Board. The
// Slack board is in handoff/slackboard; Console is the board for an
// operator at a terminal. Without Redis, ConsoleFeed takes the events
// from the in-memory store's log and prints them on the Console.
package handoff
