package report

import (
	"time"

	"github.com/safecontact/safecontact/ledger"
)

// claim fills d with how fast cases were claimed and tenants first
// contacted, by priority. It returns the medians over all cases.
func (b *builder) claim(d *draft, in []ledger.Entry, byPrio func(int) []ledger.Entry, prio []*cell, all *cell) (claimMedian, contactMedian Value) {
	*d.t = Table{ID: "claim", Title: "Time to claim and to first contact", RowHead: "Priority",
		Note: "From the case opening to an officer claiming it, and to the officer's first contact with the tenant. Medians: half the cases took less.",
		Cols: []string{"Cases", "Claimed", "Never claimed", "Median time to claim", "Median time to first contact"}}
	medians := func(es []ledger.Entry) (claimed int, toClaim, toContact Value) {
		var cl, co []time.Duration
		for _, e := range es {
			if e.Claimed {
				cl = append(cl, e.ToClaim)
			}
			if e.Contacted {
				co = append(co, e.ToContact)
			}
		}
		return len(cl), median(cl), median(co)
	}
	var claimed, never []*cell
	for i, p := range priorities {
		n, mc, mt := medians(byPrio(p.p))
		c, nc := b.count(n), b.count(prio[i].n-n)
		claimed, never = append(claimed, c), append(never, nc)
		b.sum(prio[i], c, nc)
		d.row(p.key, p.label, false, prio[i].value, c.value, nc.value, fixed(mc), fixed(mt))
	}
	n, mc, mt := medians(in)
	c, nc := b.count(n), b.count(all.n-n)
	b.sum(all, c, nc)
	b.sum(c, claimed...)
	b.sum(nc, never...)
	d.row("all", "All cases", true, all.value, c.value, nc.value, fixed(mc), fixed(mt))
	return mc, mt
}

// promise is where a case stands against the promised contact time.
type promise int

const (
	within    promise = iota // contacted by the promised time
	late                     // contacted after it
	missed                   // not contacted, and the time has passed
	notYetDue                // not contacted, and the time is still to come
	noPromise                // no promised time recorded
)

func promiseOf(e ledger.Entry, asOf time.Time) promise {
	switch {
	case e.Deadline <= 0:
		return noPromise
	case e.ContactedInTime():
		return within
	case e.Contacted:
		return late
	case e.Hour.Add(e.Deadline).After(asOf):
		return notYetDue
	}
	return missed
}

// contact fills d with contact against the promise, by priority. It
// returns the counts over all priorities of cases contacted within the
// promise, due, contacted late and not contacted.
func (b *builder) contact(d *draft, in []ledger.Entry, byPrio func(int) []ledger.Entry, prio []*cell, all *cell, asOf time.Time) (withinAll, dueAll, lateAll, missedAll *cell) {
	*d.t = Table{ID: "contact", Title: "Contact against the promise", RowHead: "Priority",
		Note: "The tenant is told an officer will contact them by a time set from the priority and working hours. " +
			"Due: the tenant was contacted, or that time has passed. Not yet due: not contacted, and the time was still to come when the figures were made.",
		Cols: []string{"Cases", "Due", "Contacted within the promise", "Contacted late", "Not contacted", "Not yet due", "No promise recorded", "% due contacted within the promise"}}
	type row struct{ due, n [5]*cell }
	count := func(es []ledger.Entry, total *cell) row {
		var n [5]int
		for _, e := range es {
			n[promiseOf(e, asOf)]++
		}
		var r row
		for k := range n {
			r.n[k] = b.count(n[k])
		}
		due := b.count(n[within] + n[late] + n[missed])
		b.sum(due, r.n[within], r.n[late], r.n[missed])
		b.sum(total, due, r.n[notYetDue], r.n[noPromise])
		r.due[0] = due
		return r
	}
	var rows []row
	for i, p := range priorities {
		r := count(byPrio(p.p), prio[i])
		rows = append(rows, r)
		d.row(p.key, p.label, false, prio[i].value, r.due[0].value, r.n[within].value, r.n[late].value,
			r.n[missed].value, r.n[notYetDue].value, r.n[noPromise].value, pct(r.n[within], r.due[0]))
	}
	t := count(in, all)
	d.row("all", "All cases", true, all.value, t.due[0].value, t.n[within].value, t.n[late].value,
		t.n[missed].value, t.n[notYetDue].value, t.n[noPromise].value, pct(t.n[within], t.due[0]))
	// Each column adds up over the priorities.
	column := func(total *cell, get func(row) *cell) {
		var parts []*cell
		for _, r := range rows {
			parts = append(parts, get(r))
		}
		b.sum(total, parts...)
	}
	column(t.due[0], func(r row) *cell { return r.due[0] })
	for k := within; k <= noPromise; k++ {
		column(t.n[k], func(r row) *cell { return r.n[k] })
	}
	return t.n[within], t.due[0], t.n[late], t.n[missed]
}

// contactTime fills d with when first contact came, as a share of the
// time promised, over all priorities.
func (b *builder) contactTime(d *draft, in []ledger.Entry, asOf time.Time, withinAll, lateAll, missedAll, dueAll *cell) {
	*d.t = Table{ID: "contact-time", Title: "When first contact came, against the promised time", RowHead: "First contact",
		Note: "For the cases due, how much of the promised time had gone when the officer first contacted the tenant.",
		Cols: []string{"Cases", "% of cases due"}}
	labels := []string{
		"In the first quarter of the time", "In the second quarter", "In the third quarter", "In the last quarter",
		"Late, within twice the time", "Late, after twice the time",
	}
	keys := []string{"q1", "q2", "q3", "q4", "late-2x", "late-more"}
	var n [6]int
	for _, e := range in {
		p := promiseOf(e, asOf)
		if p != within && p != late {
			continue
		}
		f := float64(e.ToContact) / float64(e.Deadline)
		switch {
		case f <= .25:
			n[0]++
		case f <= .5:
			n[1]++
		case f <= .75:
			n[2]++
		case f <= 1:
			n[3]++
		case f <= 2:
			n[4]++
		default:
			n[5]++
		}
	}
	var c [6]*cell
	for i := range n {
		c[i] = b.count(n[i])
	}
	b.sum(withinAll, c[0], c[1], c[2], c[3])
	b.sum(lateAll, c[4], c[5])
	for i := range 4 {
		d.row(keys[i], labels[i], false, c[i].value, pct(c[i], dueAll))
	}
	d.row("within", "Within the promise", true, withinAll.value, pct(withinAll, dueAll))
	for i := 4; i < 6; i++ {
		d.row(keys[i], labels[i], false, c[i].value, pct(c[i], dueAll))
	}
	d.row("late", "Late", true, lateAll.value, pct(lateAll, dueAll))
	d.row("not-contacted", "Not contacted", false, missedAll.value, pct(missedAll, dueAll))
	d.row("due", "All due", true, dueAll.value, pct(dueAll, dueAll))
}
