package handoff

import (
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Each script's call, its fields in the order of the script's ARGV (see
// the script's header in lua/). Times go to the scripts in Unix ms.

// positionTTL is how long a conversation's event position is kept after
// its last event: far longer than an event can wait in the store's log.
const positionTTL = 30 * 24 * time.Hour

// event says which logged event a call applies: its id in the store's
// log, or "" for an event delivered directly, which has no position.
type event struct {
	ID string
}

func (e event) argv() []any { return []any{e.ID, positionTTL.Milliseconds()} }

// openCall is lua/open.lua: a handoff.
type openCall struct {
	ID                          bot.ConversationID
	Event                       event
	TTL                         time.Duration
	Priority                    bot.Priority
	Score                       int64
	Warn                        time.Time
	Deadline                    time.Time
	OnCall                      bool
	Sealed                      string // the summary and address
	Area, Channel, Lang, Reason string
	Opened                      time.Time
	Again                       string // the sealed thread line for a case open already
	Now                         time.Time
	Duties                      string // JSON
	LedgerID                    string
	LedgerTTL                   time.Duration
	Ledger                      string // the entry's fields, JSON
	Export                      bool
}

func (c openCall) exec() (*script, target, []any) {
	return scriptOpen, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...),
		c.TTL.Milliseconds(), int(c.Priority), c.Score, ms(c.Warn), ms(c.Deadline), flag(c.OnCall), c.Sealed,
		c.Area, c.Channel, c.Lang, c.Reason, ms(c.Opened), ms(c.Deadline), c.Again, ms(c.Now),
		c.Duties, c.LedgerID, c.LedgerTTL.Milliseconds(), c.Ledger, flag(c.Export))
}

// tenantCall is lua/tenant.lua: the tenant wrote after the handoff.
type tenantCall struct {
	ID       bot.ConversationID
	Event    event
	Text     string // sealed
	TTL      time.Duration
	Score    int64 // if it opens again
	Warn     time.Time
	Deadline time.Time
	Now      time.Time
	Reopened string // the sealed thread line saying it opened again
	OnCall   bool
}

func (c tenantCall) exec() (*script, target, []any) {
	return scriptTenant, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...),
		c.Text, c.TTL.Milliseconds(), c.Score, ms(c.Warn), ms(c.Deadline), ms(c.Now), ms(c.Deadline),
		c.Reopened, flag(c.OnCall))
}

// exitedCall is lua/exited.lua: the tenant left, or texted STOP.
type exitedCall struct {
	ID    bot.ConversationID
	Event event
	Note  string // sealed
}

func (c exitedCall) exec() (*script, target, []any) {
	return scriptExited, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...), c.Note)
}

// eraseCall is lua/erase.lua: the tenant asked for their words to be
// erased.
type eraseCall struct {
	ID      bot.ConversationID
	Event   event
	Summary string // sealed, the answers removed
	Note    string // sealed
	Export  bool
	Now     time.Time
}

func (c eraseCall) exec() (*script, target, []any) {
	return scriptErase, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...),
		c.Summary, c.Note, flag(c.Export), c.Now.Unix())
}

// raiseCall is lua/raise.lua: a raised priority, or words of danger.
type raiseCall struct {
	ID       bot.ConversationID
	Event    event
	Priority bot.Priority
	Score    int64
	OnCall   bool
	Note     string // sealed, or ""
	Now      time.Time
	Danger   bool
	Realert  time.Duration
}

func (c raiseCall) exec() (*script, target, []any) {
	return scriptRaise, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...),
		int(c.Priority), c.Score, flag(c.OnCall), c.Note, ms(c.Now), flag(c.Danger), c.Realert.Milliseconds())
}

// summaryCall is lua/summary.lua: more answers for an early case.
type summaryCall struct {
	ID     bot.ConversationID
	Event  event
	Sealed string // the summary and address
	Area   string
	Duties string // JSON
}

func (c summaryCall) exec() (*script, target, []any) {
	return scriptSummary, target{id: c.ID}, append(append([]any{string(c.ID)}, c.Event.argv()...),
		c.Sealed, c.Area, c.Duties)
}

// skipCall is lua/skip.lua: an event that cannot be read is passed over.
type skipCall struct {
	ID    bot.ConversationID
	Event event
}

func (c skipCall) exec() (*script, target, []any) {
	return scriptSkip, target{id: c.ID}, c.Event.argv()
}

// claimCall is lua/claim.lua.
type claimCall struct {
	ID      bot.ConversationID
	Officer string
	Now     time.Time
}

func (c claimCall) exec() (*script, target, []any) {
	return scriptClaim, target{id: c.ID}, []any{string(c.ID), c.Officer, ms(c.Now)}
}

// unclaimCall is lua/unclaim.lua.
type unclaimCall struct {
	ID      bot.ConversationID
	Officer string
	Manager bool
	Now     time.Time
	Note    string // sealed
}

func (c unclaimCall) exec() (*script, target, []any) {
	return scriptUnclaim, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), ms(c.Now), c.Note}
}

// reassignCall is lua/reassign.lua.
type reassignCall struct {
	ID      bot.ConversationID
	Officer string
	Manager bool
	To      string
	Now     time.Time
	Note    string // sealed
}

func (c reassignCall) exec() (*script, target, []any) {
	return scriptReassign, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), c.To, ms(c.Now), c.Note}
}

// contactedCall is lua/contacted.lua. Officer is "" for an officer's
// message delivered.
type contactedCall struct {
	ID      bot.ConversationID
	Officer string
	Manager bool
	How     string
	Now     time.Time
	Note    string // sealed
}

func (c contactedCall) exec() (*script, target, []any) {
	return scriptContacted, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), c.How, ms(c.Now), c.Note}
}

// closeCall is lua/close.lua.
type closeCall struct {
	ID        bot.ConversationID
	Officer   string
	Manager   bool
	Outcome   string
	Discussed string
	Now       time.Time
	TTL       time.Duration
	Note      string // sealed
}

func (c closeCall) exec() (*script, target, []any) {
	return scriptClose, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), c.Outcome, c.Discussed,
		ms(c.Now), c.TTL.Milliseconds(), c.Note}
}

// dutyCall is lua/duty.lua.
type dutyCall struct {
	ID        bot.ConversationID
	Officer   string
	Manager   bool
	Duty      string
	Value     string
	Now       time.Time
	Note      string // sealed
	FollowUps string // JSON
	Repairs   string // sealed, or ""
}

func (c dutyCall) exec() (*script, target, []any) {
	return scriptDuty, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), c.Duty, c.Value, ms(c.Now),
		c.Note, c.FollowUps, c.Repairs}
}

// addDutyCall is lua/addduty.lua.
type addDutyCall struct {
	ID      bot.ConversationID
	Officer string
	Manager bool
	Duties  string // JSON
	Now     time.Time
	Note    string // sealed
}

func (c addDutyCall) exec() (*script, target, []any) {
	return scriptAddDuty, target{id: c.ID}, []any{string(c.ID), c.Officer, flag(c.Manager), c.Duties, ms(c.Now), c.Note}
}

// shownCall is lua/shown.lua.
type shownCall struct {
	ID      bot.ConversationID
	Officer string
	Now     time.Time
	Note    string // sealed
}

func (c shownCall) exec() (*script, target, []any) {
	return scriptShown, target{id: c.ID}, []any{string(c.ID), c.Officer, ms(c.Now), c.Note}
}

// noteCall is lua/note.lua.
type noteCall struct {
	ID      bot.ConversationID
	Text    string // sealed
	Officer string
}

func (c noteCall) exec() (*script, target, []any) {
	return scriptNote, target{id: c.ID}, []any{string(c.ID), c.Text, c.Officer}
}

// fireCall is lua/fire.lua: one due timer of one case.
type fireCall struct {
	Timer string
	ID    bot.ConversationID
	Now   time.Time
}

func (c fireCall) exec() (*script, target, []any) {
	return scriptFire, target{id: c.ID}, []any{c.Timer, string(c.ID), ms(c.Now)}
}

// retryCall is lua/retry.lua: a job's failed attempt, or its lane rate
// limited.
type retryCall struct {
	Job   string
	Tries int
	At    time.Time // zero: no wait of its own
	ID    bot.ConversationID
	Alert Alert // "" for none
	Class string
	Now   time.Time
}

func (c retryCall) exec() (*script, target, []any) {
	at := int64(0)
	if !c.At.IsZero() {
		at = ms(c.At)
	}
	return scriptRetry, target{id: c.ID}, []any{c.Job, c.Tries, at, string(c.ID), string(c.Alert), c.Class, ms(c.Now)}
}

// doneCall is lua/done.lua: a job finished, having posted Posted (zero
// when it posted nothing).
type doneCall struct {
	Job     string
	ID      bot.ConversationID
	Posted  Ref
	CardTTL time.Duration
	Kind    JobKind
	RefsTTL time.Duration
	Tenant  bool // the post held the tenant's words
}

func (c doneCall) exec() (*script, target, []any) {
	return scriptDone, target{id: c.ID, card: c.Posted.TS}, []any{c.Job, string(c.ID), c.Posted.Channel, c.Posted.TS,
		c.CardTTL.Milliseconds(), string(c.Kind), c.RefsTTL.Milliseconds(), flag(c.Tenant)}
}

// takeCall is lua/take.lua: the worker takes a job to do it now.
type takeCall struct {
	Job string
	For time.Duration
}

func (c takeCall) exec() (*script, target, []any) {
	return scriptTake, target{}, []any{c.Job, c.For.Milliseconds()}
}

// deadCall is lua/dead.lua: a job given up goes to the dead list.
type deadCall struct {
	Job   string
	Tries int
	Class string
	Now   time.Time
	Max   int
}

func (c deadCall) exec() (*script, target, []any) {
	return scriptDead, target{}, []any{c.Job, c.Tries, c.Class, ms(c.Now), c.Max}
}

// pruneDeadCall is lua/prunedead.lua: dead jobs past their time.
type pruneDeadCall struct {
	Before time.Time
	Max    int
}

func (c pruneDeadCall) exec() (*script, target, []any) {
	return scriptPruneDead, target{}, []any{ms(c.Before), c.Max}
}

// retryDeadCall is lua/retrydead.lua: a dead job put back.
type retryDeadCall struct {
	Job string
	ID  bot.ConversationID
}

func (c retryDeadCall) exec() (*script, target, []any) {
	return scriptRetryDead, target{id: c.ID}, []any{c.Job, string(c.ID)}
}

// dropCall is lua/drop.lua: a dead or waiting job removed.
type dropCall struct {
	Job string
}

func (c dropCall) exec() (*script, target, []any) {
	return scriptDrop, target{}, []any{c.Job}
}

// rescoreCall is lua/rescore.lua: a job queued before classes.
type rescoreCall struct {
	Job string
	ID  bot.ConversationID
}

func (c rescoreCall) exec() (*script, target, []any) {
	return scriptRescore, target{id: c.ID}, []any{c.Job, string(c.ID)}
}

// unlistCall is lua/unlist.lua: a case that expired while open.
type unlistCall struct {
	ID bot.ConversationID
}

func (c unlistCall) exec() (*script, target, []any) {
	return scriptUnlist, target{id: c.ID}, []any{string(c.ID)}
}

// pruneCall is lua/prune.lua: expired ledger entries.
type pruneCall struct {
	Max int
}

func (c pruneCall) exec() (*script, target, []any) {
	return scriptPrune, target{}, []any{c.Max}
}

// leaseCall is lua/lease.lua.
type leaseCall struct {
	Owner string
	For   time.Duration
}

func (c leaseCall) exec() (*script, target, []any) {
	return scriptLease, target{}, []any{c.Owner, c.For.Milliseconds()}
}

// releaseCall is lua/release.lua.
type releaseCall struct {
	Owner string
}

func (c releaseCall) exec() (*script, target, []any) {
	return scriptRelease, target{}, []any{c.Owner}
}
