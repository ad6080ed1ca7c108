package handoff

import (
	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/ledger"
)

// The queue's keys. Every one begins with the key prefix and the queue's
// hash tag, "<prefix>{queue}:" (ledger.Base), so that a Redis Cluster
// keeps the whole queue on one slot: see the package comment. Under it:
//
//	c:<id>      hash, one case (fields below)
//	d:<id>      hash, the case's duties: duty id -> JSON (storedDuty)
//	tl:<id>     list, "channel|ts" of the cards and thread lines that held
//	            the tenant's words, across the conversation's cases, to
//	            redact them if the tenant asks; kept as long as the ledger
//	pos:<id>    the id of the conversation's last event applied from the
//	            store's log, kept 30 days (positionTTL)
//	card:<ts>   the case id of the card posted at Slack timestamp ts
//	open        sorted set of open (queued or claimed) case ids, by
//	            priority then age
//	timers      sorted set, by when they fire (ms): "warn|<id>" and
//	            "due|<id>" (the contact deadline), "dwarn|<duty>|<id>" and
//	            "ddue|<duty>|<id>" (a duty's)
//	jobs        sorted set of the waiting job numbers, in the order they
//	            are done: scored by class, then number (lua/helpers.lua)
//	job         hash, job number -> the job, JSON (storedJob), waiting
//	            or dead
//	dead        sorted set of the dead jobs' numbers (given up), by when
//	            they were given up (ms); at most DeadMax, each kept
//	            DeadTTL
//	seq         the last job number
//	lease       the owner of the lease to run the clocks and jobs (expires)
//	ledger, ledger:entries, ledger:expiry
//	            the anonymous ledger (package ledger)
//
// <id> is the conversation's id, which carries no personal data.
//
// Case fields: st state, pr priority (0-2), ar area, ch channel, lg
// language, rs reason, op opened (ms), dl deadline (ms), sec sealed
// summary and address, by claimer, cat claimed at, cby closed by, out
// outcome, dsc closure discussed with the tenant, clt closed at, ex 1
// once the tenant ended the chat, er 1 once the tenant asked for their
// words to be erased, ro 1 once reopened, oc 1 once on-call was alerted,
// oat when on-call was last alerted (ms), cc/cts the card's channel and
// timestamp, shown the officers who were shown the contact, cot/cob/coh
// when, by whom and how the tenant was first contacted, log the officers'
// actions (one "ms<TAB>officer<TAB>what" a line), lid the ledger id, lttl
// the ledger's time to live (ms), xp 1 when cases are exported, xv the
// last export version, cj the number of its card's job, uj of its card
// update's, tq of its waiting posts of thread lines ("n,n,…", oldest
// first; numbers no longer waiting are passed over).
//
// The scripts (lua/*.lua) name their keys (KEYS) by the names below, and
// the queue gives each name its key for the case at hand: no script
// builds a key.

// keys names the queue's keys under one prefix.
type keys struct {
	base   string
	ledger ledger.Keys
}

func newKeys(prefix string) keys {
	return keys{base: ledger.Base(prefix), ledger: ledger.KeysFor(prefix)}
}

// target is what a script's per-case keys are for: a case (its
// conversation's id) and, for a finished job, the timestamp of the card
// it posted.
type target struct {
	id   bot.ConversationID
	card string
}

func (k keys) caseKey(id bot.ConversationID) string   { return k.base + "c:" + string(id) }
func (k keys) dutiesKey(id bot.ConversationID) string { return k.base + "d:" + string(id) }
func (k keys) refsKey(id bot.ConversationID) string   { return k.base + "tl:" + string(id) }
func (k keys) cardKey(ts string) string               { return k.base + "card:" + ts }
func (k keys) of(name string) string                  { return k.base + name }

// named returns the key a script names, for the target; false for a name
// the queue does not know.
func (k keys) named(name string, t target) (string, bool) {
	switch name {
	case "case":
		return k.caseKey(t.id), true
	case "duties":
		return k.dutiesKey(t.id), true
	case "refs":
		return k.refsKey(t.id), true
	case "pos":
		return k.base + "pos:" + string(t.id), true
	case "card":
		return k.cardKey(t.card), true
	case "open", "timers", "jobs", "job", "dead", "seq", "lease":
		return k.of(name), true
	case "ledger":
		return k.ledger.Index, true
	case "entries":
		return k.ledger.Entries, true
	case "expiry":
		return k.ledger.Expiry, true
	}
	return "", false
}
