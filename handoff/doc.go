// Package handoff takes cases from the dialogue engine to officers.
//
// Queue is the officer queue in Redis: each handoff becomes a case (queued,
// claimed, closed, reopened), ordered by priority then age, with its
// escalation clocks and the jobs that show it to officers on a Board. The
// Slack board is in handoff/slackboard; Console is the board (and, with no
// Redis, the whole sink) for an operator at a terminal.
package handoff
