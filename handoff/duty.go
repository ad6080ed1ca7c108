package handoff

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Duty is something the landlord's policy asks of the officers for a
// case, with its due time: a DASH risk assessment, a same-day children's
// safeguarding referral, a repairs request. Officers tick it when done.
type Duty struct {
	ID     string
	Title  string
	Detail string
	// Source is the policy and section that asks for it.
	Source string
	// Due is when it must be done by; Warn, three quarters of the way
	// there, is when the officer holding the case is reminded. Both are
	// zero for a Reminder.
	Due, Warn time.Time
	// Reminder: a standing caution on the card, not a task.
	Reminder bool
	// Repairs: done by sending a request to the repairs team.
	Repairs bool
	// Records is what an officer records when doing it: "score" for a
	// DASH assessment, or "" for nothing.
	Records string
	// DoneBy, DoneAt and Value say who did it, when, and what they
	// recorded.
	DoneBy string
	DoneAt time.Time
	Value  string
}

// Done reports whether the duty has been done.
func (d *Duty) Done() bool { return d.DoneBy != "" }

// Late reports whether the duty was done after it was due, or is not done
// and overdue at now.
func (d *Duty) Late(now time.Time) bool {
	if d.Reminder || d.Due.IsZero() {
		return false
	}
	if d.Done() {
		return d.DoneAt.After(d.Due)
	}
	return now.After(d.Due)
}

// DutyRule is a duty as a policy states it, before it is given to a
// case.
type DutyRule struct {
	ID, Title, Detail, Source string
	Reminder, Repairs         bool
	Records                   string
	// Times returns when the duty falls due if triggered at from, and
	// when to remind (three quarters of the way there).
	Times func(from time.Time) (warn, due time.Time)
}

// Policy says which duties a case carries. The flows' duties.yaml is the
// landlord's; nil carries none.
type Policy interface {
	// DutiesFor returns the duties the tenant's answers trigger.
	DutiesFor(summary []bot.SummaryLine) []DutyRule
	// FollowUps returns the duties that recording a result of the duty
	// (a DASH score, professional judgement) triggers.
	FollowUps(after string, score int, judgement bool) []DutyRule
	// Offered returns the duties an officer may add when they judge they
	// apply (an adult at risk).
	Offered() []DutyRule
}

// storedDuty is a duty as the queue keeps it in Redis (d:<id>): no
// personal data, only the policy's words and the officers' ids.
type storedDuty struct {
	ID       string `json:"id"`
	Title    string `json:"t"`
	Detail   string `json:"d,omitempty"`
	Source   string `json:"s"`
	Due      int64  `json:"due,omitempty"`
	Warn     int64  `json:"warn,omitempty"`
	Reminder bool   `json:"rem,omitempty"`
	Repairs  bool   `json:"rep,omitempty"`
	Records  string `json:"rec,omitempty"`
	By       string `json:"by,omitempty"`
	At       int64  `json:"at,omitempty"`
	Value    string `json:"v,omitempty"`
}

// dutiesJSON is the rules, triggered at from, as the queue script takes
// them.
func dutiesJSON(rules []DutyRule, from time.Time) string {
	out := make([]storedDuty, 0, len(rules))
	for _, r := range rules {
		d := storedDuty{ID: r.ID, Title: r.Title, Detail: r.Detail, Source: r.Source, Reminder: r.Reminder,
			Repairs: r.Repairs, Records: r.Records}
		if !r.Reminder && r.Times != nil {
			// A duty due before closing has no time on the clock.
			if warn, due := r.Times(from); !due.IsZero() {
				d.Warn, d.Due = ms(warn), ms(due)
			}
		}
		out = append(out, d)
	}
	b, err := json.Marshal(out)
	if err != nil {
		panic(fmt.Sprintf("queue: duties: %v", err)) // plain strings and numbers
	}
	return string(b)
}

func (d storedDuty) duty() *Duty {
	return &Duty{
		ID: d.ID, Title: d.Title, Detail: d.Detail, Source: d.Source, Due: fromMS(fmt.Sprint(d.Due)),
		Warn: fromMS(fmt.Sprint(d.Warn)), Reminder: d.Reminder, Repairs: d.Repairs, Records: d.Records,
		DoneBy: d.By, DoneAt: fromMS(fmt.Sprint(d.At)), Value: d.Value,
	}
}
