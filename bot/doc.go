// Package bot is safecontact's dialogue engine and its domain types.
//
// An Engine takes one inbound message at a time and returns the replies to
// send and the events that follow from it (a handoff to an officer, a raised
// priority, a quick exit). The conversation's position in the intake script
// is a state machine built with github.com/looplab/fsm from a Flow, which the
// flows package loads from YAML.
//
// Global words (exit, opt-out, erase, danger, help, skip, back, officer,
// language) are handled before the state machine, so they hold in every
// state. The engine is pure: it does no logging, starts no goroutines and
// knows nothing of Twilio, Slack or HTTP. Conversation state lives behind
// the Store interface, implemented by the memstore and redisstore packages.
package bot
