// Package ledger reads the anonymous monitoring ledger that the officer
// queue (package handoff) keeps in Redis: one entry per case, with what a
// landlord counts for its monthly and quarterly monitoring (seed 004 §11)
// and nothing that could name a tenant. An entry holds no phone number, no
// words the tenant wrote, no Slack ids and no time finer than the hour.
//
// The ledger's keys are the queue's, after its key prefix (handoff's
// default is "sc:case:") and the queue's hash tag, {queue} (Base): on a
// Redis Cluster the whole queue lives on one slot, so that the script
// that opens a case writes its ledger entry in the same atomic step.
//
//	<prefix>{queue}:ledger          sorted set of ledger ids, score = the
//	                                hour the case opened (Unix ms,
//	                                truncated to the hour, UTC)
//	<prefix>{queue}:ledger:entries  hash, ledger id -> one case's entry:
//	                                a JSON object of strings, any absent
//	<prefix>{queue}:ledger:expiry   sorted set of ledger ids, score = when
//	                                the entry expires (Unix ms, Redis's
//	                                clock); an id not in it never expires
//
// An entry expires its time to live after it last changed, as a key with
// a TTL would; the queue removes expired entries from all three keys, and
// Read passes over one not yet removed. The fields of an entry:
//
//	hr    opened hour, Unix ms truncated to the hour
//	ar    area id (telford_wrekin, shropshire, …, elsewhere), "" not given
//	ch    channel: sms, webchat
//	lg    language: en, cy
//	pr    highest priority reached: 0 standard, 1 high, 2 urgent
//	why   what raised it: danger, answers, "" (standard)
//	rs    how the case reached officers: complete, officer, danger
//	ooh   "1": opened out of office hours
//	tcl   minutes from opening to first claim (absent: never claimed)
//	tco   minutes from opening to first contact (absent: not contacted)
//	dlm   minutes from opening to the promised contact deadline
//	dut   duty ids triggered, space separated
//	dok   duty ids done on time; dlate: duty ids done late
//	out   outcome when closed, from a short fixed list
//	disc  yes/no: closure discussed with the tenant
//	left  "1": the tenant left (quick exit) or went quiet early
//
// For example:
//
//	{"hr": "1793732400000", "ar": "shropshire", "ch": "sms", "lg": "en",
//	 "pr": "1", "why": "answers", "rs": "complete", "tcl": "12", "tco": "95",
//	 "dlm": "240", "dut": "dash children_referral", "dok": "dash",
//	 "dlate": "children_referral", "out": "Contacted: safety plan agreed",
//	 "disc": "yes"}
//
// Read takes the entries of a period back; Write puts entries in that
// layout, for tests and for the generated Fixture.
package ledger

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// DefaultPrefix is the officer queue's default key prefix (handoff.Options).
const DefaultPrefix = "sc:case:"

// Base is where the officer queue's keys begin under its prefix: the
// prefix and the queue's hash tag. Every key of the queue, the ledger's
// included, begins with it, so that a Redis Cluster keeps them on one
// slot (the first {…} in a key names its slot).
func Base(prefix string) string { return prefix + "{queue}:" }

// Keys are the ledger's keys (see the package comment).
type Keys struct {
	// Index: ledger ids by the hour their case opened.
	Index string
	// Entries: ledger id -> entry, a JSON object of strings.
	Entries string
	// Expiry: ledger ids by when their entry expires.
	Expiry string
}

// KeysFor returns the ledger's keys under the queue's prefix.
func KeysFor(prefix string) Keys {
	b := Base(prefix)
	return Keys{Index: b + "ledger", Entries: b + "ledger:entries", Expiry: b + "ledger:expiry"}
}

// Priorities as the ledger records them in Entry.Priority.
const (
	Standard = 0
	High     = 1
	Urgent   = 2
)

// ErrMalformed is wrapped by Read and Parse when a field can't be read,
// such as a count of minutes that is not a number.
var ErrMalformed = errors.New("malformed ledger entry")

// Entry is one case as the ledger keeps it. String fields hold the ids
// stored (see the package comment); an absent field is "".
type Entry struct {
	Hour       time.Time // the hour the case opened, UTC
	Area       string    // area id; "" not given
	Channel    string    // sms or webchat
	Lang       string    // en or cy
	Priority   int       // highest reached: Standard, High or Urgent
	Why        string    // what raised the priority: danger, answers or ""
	Reason     string    // how it reached officers: complete, officer, danger
	OutOfHours bool      // opened out of office hours

	// ToClaim is the time from opening to the first claim, meaningful
	// only when Claimed. ToContact is the time to first contact with the
	// tenant, meaningful only when Contacted. Both are whole minutes.
	ToClaim   time.Duration
	Claimed   bool
	ToContact time.Duration
	Contacted bool
	// Deadline is the time from opening to the promised contact deadline;
	// 0 when none was recorded.
	Deadline time.Duration

	Duties     []string // duty ids triggered
	DoneOnTime []string // duty ids done on time
	DoneLate   []string // duty ids done late
	Outcome    string   // outcome when closed; "" while open
	Discussed  string   // closure discussed with the tenant: yes, no or ""
	LeftEarly  bool     // the tenant ended the chat or went quiet early
}

// ContactedInTime reports whether the tenant was contacted by the promised
// deadline. It is false when no deadline was recorded.
func (e Entry) ContactedInTime() bool {
	return e.Contacted && e.Deadline > 0 && e.ToContact <= e.Deadline
}

// Parse reads one ledger hash. It returns an error wrapping ErrMalformed
// when a number or time field can't be read; unknown fields are ignored
// and unknown ids (a new area, a new outcome) are kept as they are.
func Parse(h map[string]string) (Entry, error) {
	var e Entry
	var errs []error
	num := func(field string) (int64, bool) {
		s, ok := h[field]
		if !ok || s == "" {
			return 0, false
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("%w: %s %q is not a whole number", ErrMalformed, field, s))
			return 0, false
		}
		return n, true
	}
	if ms, ok := num("hr"); ok {
		e.Hour = time.UnixMilli(ms).UTC()
	}
	e.Area, e.Channel, e.Lang = h["ar"], h["ch"], h["lg"]
	if p, ok := num("pr"); ok {
		if p > Urgent {
			errs = append(errs, fmt.Errorf("%w: pr %d is not 0, 1 or 2", ErrMalformed, p))
		}
		e.Priority = int(p)
	}
	e.Why, e.Reason = h["why"], h["rs"]
	e.OutOfHours = h["ooh"] == "1"
	if m, ok := num("tcl"); ok {
		e.ToClaim, e.Claimed = time.Duration(m)*time.Minute, true
	}
	if m, ok := num("tco"); ok {
		e.ToContact, e.Contacted = time.Duration(m)*time.Minute, true
	}
	if m, ok := num("dlm"); ok {
		e.Deadline = time.Duration(m) * time.Minute
	}
	e.Duties, e.DoneOnTime, e.DoneLate = ids(h["dut"]), ids(h["dok"]), ids(h["dlate"])
	e.Outcome, e.Discussed = h["out"], h["disc"]
	e.LeftEarly = h["left"] == "1"
	return e, errors.Join(errs...)
}

// ids splits a space-separated list; nil when empty.
func ids(s string) []string {
	if f := strings.Fields(s); len(f) > 0 {
		return f
	}
	return nil
}

// fields is e in the ledger's layout, leaving out what is absent.
func (e Entry) fields() map[string]string {
	f := map[string]string{
		"hr": strconv.FormatInt(e.Hour.UTC().Truncate(time.Hour).UnixMilli(), 10),
		"pr": strconv.Itoa(e.Priority),
	}
	set := func(k, v string) {
		if v != "" {
			f[k] = v
		}
	}
	set("ar", e.Area)
	set("ch", e.Channel)
	set("lg", e.Lang)
	set("why", e.Why)
	set("rs", e.Reason)
	if e.OutOfHours {
		f["ooh"] = "1"
	}
	minutes := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Minute), 10) }
	if e.Claimed {
		f["tcl"] = minutes(e.ToClaim)
	}
	if e.Contacted {
		f["tco"] = minutes(e.ToContact)
	}
	if e.Deadline > 0 {
		f["dlm"] = minutes(e.Deadline)
	}
	set("dut", strings.Join(e.Duties, " "))
	set("dok", strings.Join(e.DoneOnTime, " "))
	set("dlate", strings.Join(e.DoneLate, " "))
	set("out", e.Outcome)
	set("disc", e.Discussed)
	if e.LeftEarly {
		f["left"] = "1"
	}
	return f
}
