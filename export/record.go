package export

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"
)

// Event is why a record was sent.
type Event string

// Events. One case sends handoff first, then closed, and reopened and
// closed again if the tenant writes after closure; erased comes last.
const (
	// EventHandoff: the tenant's conversation became a case for officers.
	EventHandoff Event = "handoff"
	// EventClosed: an officer closed the case.
	EventClosed Event = "closed"
	// EventReopened: the tenant wrote after the case was closed, and it is
	// open again.
	EventReopened Event = "reopened"
	// EventErased: safecontact erased the case's words. The record carries
	// only id, event, version, sent_at and erased; the housing system
	// should remove the words it holds from safecontact for the case.
	EventErased Event = "erased"
)

func (e Event) valid() bool {
	switch e {
	case EventHandoff, EventClosed, EventReopened, EventErased:
		return true
	}
	return false
}

// MaxIDLen is the longest case id a record may carry.
const MaxIDLen = 200

// Record is one case as the housing system receives it, as JSON. A case is
// sent more than once (see Event); each delivery has a higher Version and
// carries the whole case as it stands, not a change.
//
// Times are RFC 3339 with an offset. A time that is not known (the tenant
// not yet contacted, a duty not done) is left out. Strings are always
// present, empty when not known; lists are always present, [] when empty.
//
// Example (shortened; docs/export.md has it in full):
//
//	{"id":"c0ffee12d4a5b6e7","event":"handoff","version":1,
//	 "sent_at":"2026-03-02T09:20:00Z","priority":"high",
//	 "area":"Telford & Wrekin","channel":"sms","language":"en",...}
type Record struct {
	// ID is the case id: opaque, stable for the life of the case, and
	// carrying no personal data. The housing system keys the case on it.
	ID string `json:"id"`
	// Event is why this delivery was made.
	Event Event `json:"event"`
	// Version increases with each delivery of the case, from 1. A receiver
	// holding a higher version ignores a lower one: deliveries can arrive
	// late, and more than once.
	Version int `json:"version"`
	// SentAt is when safecontact made this version of the record. Send
	// sets it to its clock when it is zero.
	SentAt time.Time `json:"sent_at"`
	// OpenedAt is when the case was handed off to officers.
	OpenedAt time.Time `json:"opened_at,omitzero"`
	// Priority is "standard", "high" or "urgent" (DESIGN §6): urgent when
	// the tenant is in danger now, or unsafe at home while living with the
	// person; high with children in the home or risk words.
	Priority string `json:"priority"`
	// Area is the local authority area the tenant named, such as
	// "Shropshire", or "" when not given.
	Area string `json:"area"`
	// Channel is how the tenant wrote: "sms" or "webchat".
	Channel string `json:"channel"`
	// Language is the conversation's language as a BCP 47 tag: "en" or
	// "cy".
	Language string `json:"language"`
	// Reason is why the case was handed off (the script finished, the
	// tenant asked for an officer, danger), in plain English.
	Reason string `json:"reason"`
	// Deadline is when the tenant was promised contact: one working day
	// after the handoff, or sooner for urgent cases.
	Deadline time.Time `json:"deadline,omitzero"`
	// ClaimedBy is the officer working the case, by name or Slack user
	// id; "" while unclaimed.
	ClaimedBy string `json:"claimed_by"`
	// ContactedAt is when the officer first made safe contact with the
	// tenant; absent until then.
	ContactedAt time.Time `json:"contacted_at,omitzero"`
	// ContactedHow is how that contact was made ("phone", "sms",
	// "webchat", "in person"), "" until then.
	ContactedHow string `json:"contacted_how"`
	// Answers are the tenant's answers to the intake script, in order.
	Answers []Answer `json:"answers"`
	// Duties are the follow-up actions policy requires for the case, done
	// or not (seed 001 §3.2: add to the housing system within one working
	// day, discuss with the Community Safety Officer, ...).
	Duties []Duty `json:"duties"`
	// Actions is the case's history on the officers' side, oldest first:
	// claims, reassignments, contact, closure.
	Actions []Action `json:"actions"`
	// Outcome is the officer's closing note; "" while the case is open.
	Outcome string `json:"outcome"`
	// ClosureDiscussed records that the officer discussed closing the
	// case with the tenant before closing it, as policy requires.
	ClosureDiscussed bool `json:"closure_discussed"`
	// Phone is the tenant's number in E.164. FromCase fills it only when
	// the tenant said how it is safe to contact them; Send sends what it
	// is given. Left out of the JSON when empty.
	Phone string `json:"phone,omitempty"`
	// Erased is true exactly when Event is EventErased. Such a record
	// carries only id, event, version, sent_at and erased, whatever else
	// the Record holds: the JSON encoding drops the rest.
	Erased bool `json:"erased"`
}

// Answer is one answer to the intake script.
type Answer struct {
	// Step is the script step's name, such as "children" (DESIGN §6).
	Step string `json:"step"`
	// Label is the question as officers read it: "Children in the home".
	Label string `json:"label"`
	// Value is the answer, in the tenant's words or as the script
	// understood them.
	Value string `json:"value"`
}

// Duty is a follow-up action that policy requires for a case.
type Duty struct {
	// ID names the duty, stable across deliveries: "housing_record".
	ID string `json:"id"`
	// Title is the duty as officers read it.
	Title string `json:"title"`
	// Due is when it must be done by; absent when policy sets no time.
	Due time.Time `json:"due,omitzero"`
	// DoneBy is the officer who did it; "" while not done.
	DoneBy string `json:"done_by"`
	// DoneAt is when it was done; absent while not done.
	DoneAt time.Time `json:"done_at,omitzero"`
	// Detail is the officer's note on it, such as a referral number.
	Detail string `json:"detail"`
}

// Action is one thing that happened to a case on the officers' side.
type Action struct {
	// At is when it happened.
	At time.Time `json:"at"`
	// By is the officer, by name or Slack user id, or "safecontact" for
	// what the service did itself.
	By string `json:"by"`
	// What is the action in plain English: "claimed", "reassigned to
	// Sam Jones", "contacted by phone", "closed".
	What string `json:"what"`
}

// IdempotencyKey is the delivery's Idempotency-Key header: id:event:version.
// A retried delivery carries the same key.
func (r Record) IdempotencyKey() string {
	return r.ID + ":" + string(r.Event) + ":" + strconv.Itoa(r.Version)
}

// validate says what is wrong with r without quoting any of it.
func (r Record) validate() error {
	switch {
	case r.ID == "":
		return fmt.Errorf("%w: no id", ErrInvalid)
	case len(r.ID) > MaxIDLen:
		return fmt.Errorf("%w: id longer than %d bytes", ErrInvalid, MaxIDLen)
	case !headerSafe(r.ID):
		return fmt.Errorf("%w: id has a character outside printable ASCII", ErrInvalid)
	case !r.Event.valid():
		return fmt.Errorf("%w: unknown event", ErrInvalid)
	case r.Version < 1:
		return fmt.Errorf("%w: version %d, want 1 or more", ErrInvalid, r.Version)
	case r.Erased && r.Event != EventErased:
		return fmt.Errorf("%w: erased set on a %s record", ErrInvalid, r.Event)
	}
	return nil
}

// headerSafe reports whether s is visible ASCII, fit for a header value.
func headerSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// erasedRecord is all an erased record says.
type erasedRecord struct {
	ID      string    `json:"id"`
	Event   Event     `json:"event"`
	Version int       `json:"version"`
	SentAt  time.Time `json:"sent_at"`
	Erased  bool      `json:"erased"`
}

// MarshalJSON encodes the record as the housing system receives it: an
// erased record as its five fields only, nil lists as [], and &, < and >
// as themselves rather than \u escapes.
func (r Record) MarshalJSON() ([]byte, error) {
	if r.Event == EventErased {
		return encode(erasedRecord{ID: r.ID, Event: r.Event, Version: r.Version, SentAt: r.SentAt, Erased: true})
	}
	type plain Record // without this method
	p := plain(r)
	p.Erased = false
	if p.Answers == nil {
		p.Answers = []Answer{}
	}
	if p.Duties == nil {
		p.Duties = []Duty{}
	}
	if p.Actions == nil {
		p.Actions = []Action{}
	}
	return encode(p)
}

// encode is json.Marshal without HTML escaping: officers' and tenants'
// words reach the housing system as written.
func encode(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
