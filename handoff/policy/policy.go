// Package policy gives the officer queue the landlord's duties as
// flows/duties.yaml states them: which duties a case's answers call for,
// what follows a DASH score, and what an officer may add.
package policy

import (
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
)

// warnShare is how far towards a duty's deadline its holder is reminded:
// three quarters of the way, as for the contact deadline.
const warnShare = 0.75

// Flows is the queue's handoff.Policy from a loaded bundle.
type Flows struct {
	b *flows.Bundle
}

// New returns the policy of the bundle's duties.
func New(b *flows.Bundle) Flows { return Flows{b: b} }

// DutiesFor returns the duties the tenant's answers call for.
func (p Flows) DutiesFor(summary []bot.SummaryLine) []handoff.DutyRule {
	return p.rules(p.b.DutiesFor(summary))
}

// FollowUps returns the duties a recorded DASH score or judgement calls
// for.
func (p Flows) FollowUps(after string, score int, judgement bool) []handoff.DutyRule {
	return p.rules(p.b.FollowUps(after, score, judgement))
}

// Offered returns the duties an officer may add by judgement.
func (p Flows) Offered() []handoff.DutyRule { return p.rules(p.b.OfficerDuties()) }

func (p Flows) rules(ds []*flows.Duty) []handoff.DutyRule {
	out := make([]handoff.DutyRule, 0, len(ds))
	for _, d := range ds {
		out = append(out, p.rule(d))
	}
	return out
}

func (p Flows) rule(d *flows.Duty) handoff.DutyRule {
	r := handoff.DutyRule{
		ID: d.ID, Title: d.Title, Detail: d.Detail, Source: d.Source,
		Reminder: d.Reminder, Repairs: d.Repairs, Records: string(d.Records),
	}
	if !d.Reminder {
		due := d.Due
		r.Times = func(from time.Time) (warn, at time.Time) { return times(due, from, p.b.Hours) }
	}
	return r
}

// times is when a duty that arose at from falls due, and when its holder
// is reminded: three quarters of the way there, in office hours for a
// duty counted in them. A duty due before closing has neither.
func times(d flows.Due, from time.Time, h *flows.Hours) (warn, due time.Time) {
	due = d.At(from, h)
	if due.IsZero() {
		return time.Time{}, time.Time{}
	}
	switch d.Kind {
	case flows.DueWorking:
		return h.Add(from, time.Duration(warnShare*float64(time.Duration(d.Days)*h.DayLength()+d.Length))), due
	case flows.DueEndOfDay:
		start := from
		if !h.Open(from) {
			start = h.NextOpen(from)
		}
		if start.After(due) {
			start = from
		}
		return start.Add(time.Duration(warnShare * float64(due.Sub(start)))), due
	}
	return from.Add(time.Duration(warnShare * float64(due.Sub(from)))), due
}
