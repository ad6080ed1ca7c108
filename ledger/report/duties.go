package report

import (
	"slices"

	"github.com/safecontact/safecontact/ledger"
)

// duties fills d with each duty triggered and whether it was done on
// time, and returns the count of duties not done on time.
func (b *builder) duties(d *draft, in []ledger.Entry) *cell {
	*d.t = Table{ID: "duties", Title: "Duties met on time", RowHead: "Duty",
		Note: "Duties a case triggers, such as a same-day children's safeguarding referral. " +
			"Not done on time: done late, or not recorded as done (including on cases still open).",
		Cols: []string{"Triggered", "On time", "Not done on time", "Done late", "Not recorded as done", "% on time"}}
	type tally struct{ trig, ok, late int }
	n := map[string]*tally{}
	for _, e := range in {
		seen := map[string]bool{}
		for _, list := range [][]string{e.Duties, e.DoneOnTime, e.DoneLate} {
			for _, id := range list {
				if seen[id] {
					continue
				}
				seen[id] = true
				t := n[id]
				if t == nil {
					t = &tally{}
					n[id] = t
				}
				t.trig++
				switch {
				case slices.Contains(e.DoneOnTime, id):
					t.ok++
				case slices.Contains(e.DoneLate, id):
					t.late++
				}
			}
		}
	}
	rows := slices.Clone(duties)
	var others []string
	for id := range n {
		if !slices.ContainsFunc(duties, func(o option) bool { return o.key == id }) {
			others = append(others, id)
		}
	}
	slices.Sort(others)
	for _, id := range others {
		rows = append(rows, option{id, id})
	}
	var cols [5][]*cell // triggered, on time, not on time, late, not recorded
	for _, o := range rows {
		t := n[o.key]
		if t == nil {
			t = &tally{}
		}
		c := [5]*cell{b.count(t.trig), b.count(t.ok), b.count(t.trig - t.ok), b.count(t.late), b.count(t.trig - t.ok - t.late)}
		b.sum(c[0], c[1], c[2])
		b.sum(c[2], c[3], c[4])
		for i := range c {
			cols[i] = append(cols[i], c[i])
		}
		d.row(o.key, o.label, false, c[0].value, c[1].value, c[2].value, c[3].value, c[4].value, pct(c[1], c[0]))
	}
	var tot [5]*cell
	for i := range tot {
		var sum int
		for _, c := range cols[i] {
			sum += c.n
		}
		tot[i] = b.count(sum)
		b.sum(tot[i], cols[i]...)
	}
	b.sum(tot[0], tot[1], tot[2])
	b.sum(tot[2], tot[3], tot[4])
	d.row("all", "All duties", true, tot[0].value, tot[1].value, tot[2].value, tot[3].value, tot[4].value, pct(tot[1], tot[0]))
	return tot[2]
}
