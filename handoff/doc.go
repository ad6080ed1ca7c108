// Package handoff takes cases from the dialogue engine to officers. For now
// it has the console sink, which prints each case for an operator at the
// terminal; the officer queue and its Slack adapter build on the same
// events.
package handoff
