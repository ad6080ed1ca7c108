package sms

import "github.com/safecontact/safecontact/bot"

// outboxTag is the hash tag every outbox key carries.
//
// All of the outbox's keys live in one Redis Cluster slot, unlike a
// conversation's keys, which are spread by conversation (sc:{id}:…):
//
//   - claiming a text reads the schedule and the conversation's list and
//     changes the schedule and the message together, and finishing one
//     moves the conversation's next text into the schedule: each is one
//     script, and a script's keys must share a slot;
//   - a conversation's texts go out one at a time, in order, which only
//     holds if taking the first one and leasing its conversation are one
//     step;
//   - the outbox carries officers' replies and texts that arrive late: a
//     few a minute in a busy landlord, far below what one Redis node
//     serves, so one slot costs nothing that matters.
const outboxTag = "{outbox}"

// outboxKeys names the outbox's keys, all under the prefix and the tag:
//
//	<prefix>{outbox}:msg:<id>     hash: one text (fields in outbox_enqueue.lua)
//	<prefix>{outbox}:conv:<conv>  list: the conversation's waiting texts, in
//	                              order; the first is the one being tried
//	<prefix>{outbox}:ready        sorted set: each conversation with waiting
//	                              texts, scored by when its first may next be
//	                              tried (Unix ms); a claimed one is scored at
//	                              the end of its lease
//	<prefix>{outbox}:sid:<sid>    string: the message id of a sent text, by
//	                              Twilio's SID, for delivery statuses
//	<prefix>{outbox}:dead         sorted set: the ids of texts given up,
//	                              scored by when (Unix ms), for a person to
//	                              retry or drop (safecontact jobs)
//
// No key holds a phone number: a conversation id is a keyed hash, a
// message id a digest of its idempotency key.
type outboxKeys struct{ base string }

func newOutboxKeys(prefix string) outboxKeys { return outboxKeys{base: prefix + outboxTag + ":"} }

func (k outboxKeys) msg(id string) string { return k.base + "msg:" + id }
func (k outboxKeys) conv(c bot.ConversationID) string {
	return k.base + "conv:" + string(c)
}
func (k outboxKeys) ready() string         { return k.base + "ready" }
func (k outboxKeys) sid(sid string) string { return k.base + "sid:" + sid }
func (k outboxKeys) dead() string          { return k.base + "dead" }
