package report

import (
	"fmt"
	"slices"
	"time"

	"github.com/safecontact/safecontact/ledger"
)

// option is a row a table always has, in this order, even at 0.
type option struct{ key, label string }

var (
	priorities = []struct {
		p     int
		key   string
		label string
	}{{ledger.Urgent, "urgent", "Urgent"}, {ledger.High, "high", "High"}, {ledger.Standard, "standard", "Standard"}}

	areas = []option{
		{"telford_wrekin", "Telford & Wrekin"}, {"shropshire", "Shropshire"}, {"staffordshire", "Staffordshire"},
		{"herefordshire", "Herefordshire"}, {"wales", "Wales"}, {"elsewhere", "Elsewhere"}, {"", "Not given"},
	}
	channels  = []option{{"sms", "Text message (SMS)"}, {"webchat", "Web chat"}}
	languages = []option{{"en", "English"}, {"cy", "Welsh (Cymraeg)"}}
	hours     = []option{{"in", "In office hours"}, {"out", "Out of hours"}}
	routes    = []option{
		{"complete", "Finished the questions"},
		{"officer", "Asked for an officer part way"},
		{"danger", "Opened on words of danger"},
	}
	raised = []option{
		{"danger", "Danger: the tenant's words, or yes to “in danger now”"},
		{"answers", "The answers given (such as children at home)"},
		{"", "Nothing: standard priority"},
	}
	// duties are the duties with a deadline that the officer queue tracks,
	// titled as in flows/default/duties.yaml; others seen are added after
	// them under their ids.
	duties = []option{
		{"dash", "DASH risk assessment"},
		{"marac", "MARAC referral"},
		{"children_referral", "Children's safeguarding referral"},
		{"adult_referral", "Adult safeguarding referral"},
		{"security_repairs", "Security repairs request"},
		{"flag_address", "Flag the tenancy and address"},
		{"closure", "Closing the case"},
	}
	// outcomes are those the Slack board offers when a case is closed
	// (handoff/slackboard Outcomes); others seen are added after them.
	outcomes = []option{
		{"Contacted: safety plan agreed", "Contacted: safety plan agreed"},
		{"Contacted: referred to support services", "Contacted: referred to support services"},
		{"Contacted: housing options given", "Contacted: housing options given"},
		{"Could not contact safely", "Could not contact safely"},
		{"Tenant declined support", "Tenant declined support"},
		{"Not domestic abuse: passed on", "Not domestic abuse: passed on"},
		{"", "Still open"},
	}
	discussed = []option{{"yes", "Yes"}, {"no", "No"}, {"", "Not recorded"}}
	left      = []option{{"left", "Left early (quick exit, or went quiet)"}, {"stayed", "Stayed"}}
)

// Labels of the summary's figures that MonthlySummary picks out.
const (
	figCases      = "Cases opened"
	figUrgent     = "Urgent"
	figHigh       = "High"
	figStandard   = "Standard"
	figOutOfHours = "Opened out of hours"
	figWithin     = "Contacted within the promised time (of those due)"
	figOverdue    = "Duties not done on time"
	figLeft       = "Left early"
)

// builder collects the counts, the groups they add up in, and the tables
// that show them; the tables' figures are worked out only after protect.
type builder struct {
	cells  []*cell
	groups []group
}

func (b *builder) count(n int) *cell {
	c := &cell{n: n}
	b.cells = append(b.cells, c)
	return c
}

// sum records that parts add up to total.
func (b *builder) sum(total *cell, parts ...*cell) {
	b.groups = append(b.groups, group{total, parts})
}

// draft is a table whose figures are read once small numbers are hidden.
type draft struct {
	t    *Table
	rows []draftRow
}

type draftRow struct {
	key, label string
	total      bool
	figures    []func() Value
}

func (d *draft) row(key, label string, total bool, figures ...func() Value) {
	d.rows = append(d.rows, draftRow{key, label, total, figures})
}

func (d *draft) finish() {
	for _, r := range d.rows {
		row := Row{Key: r.key, Label: r.label, Total: r.total}
		for _, f := range r.figures {
			row.Cells = append(row.Cells, f())
		}
		d.t.Rows = append(d.t.Rows, row)
	}
}

func fixed(v Value) func() Value { return func() Value { return v } }

func pct(num, den *cell) func() Value { return func() Value { return percent(num, den) } }

// Build works out the figures for the cases opened from the first to the
// last day (inclusive) in first's time zone, the office's, as they stood
// at asOf; entries opened outside the period are left out. A tenant not
// yet contacted counts against the promise only once its time has passed
// by asOf.
func Build(entries []ledger.Entry, first, last, asOf time.Time) Report {
	loc := first.Location()
	first = time.Date(first.Year(), first.Month(), first.Day(), 0, 0, 0, 0, loc)
	last = time.Date(last.Year(), last.Month(), last.Day(), 0, 0, 0, 0, loc)
	end := last.AddDate(0, 0, 1)
	var in []ledger.Entry
	for _, e := range entries {
		if !e.Hour.Before(first) && e.Hour.Before(end) {
			in = append(in, e)
		}
	}
	r := Report{First: first, Last: last, AsOf: asOf.In(loc)}
	b := &builder{}
	var drafts []*draft
	newDraft := func(t *Table) *draft {
		d := &draft{t: t}
		drafts = append(drafts, d)
		return d
	}

	all := b.count(len(in))
	all.fixed = true
	byPrio := func(want int) []ledger.Entry {
		var out []ledger.Entry
		for _, e := range in {
			if e.Priority == want {
				out = append(out, e)
			}
		}
		return out
	}
	prio := make([]*cell, len(priorities)) // in the order of priorities
	for i, p := range priorities {
		prio[i] = b.count(len(byPrio(p.p)))
	}
	b.sum(all, prio...)

	b.weeks(newDraft(&r.Weeks), in, first, last, prio, all)

	partition := func(t *Table, opts []option, key func(ledger.Entry) string) map[string]*cell {
		return b.partition(newDraft(t), opts, in, key, all)
	}
	r.Area = Table{ID: "area", Title: "Cases by area", RowHead: "Area",
		Note: "The area the tenant gave, or that their postcode or town placed them in."}
	partition(&r.Area, areas, func(e ledger.Entry) string { return e.Area })
	r.Channel = Table{ID: "channel", Title: "Cases by channel", RowHead: "Channel",
		Note: "How the tenant reached us."}
	partition(&r.Channel, channels, func(e ledger.Entry) string { return e.Channel })
	r.Language = Table{ID: "language", Title: "Cases by language", RowHead: "Language",
		Note: "The language the tenant used with the bot."}
	partition(&r.Language, languages, func(e ledger.Entry) string { return e.Lang })
	r.Hours = Table{ID: "hours", Title: "Cases in and out of office hours", RowHead: "Opened",
		Note: "Out of hours: evenings, nights, weekends and bank holidays, when the on-call officer is alerted to urgent and high cases."}
	hoursCells := partition(&r.Hours, hours, func(e ledger.Entry) string {
		if e.OutOfHours {
			return "out"
		}
		return "in"
	})
	r.Route = Table{ID: "route", Title: "How cases reached officers", RowHead: "The tenant",
		Note: "Whether the tenant finished the questions, asked for an officer part way, or wrote words of danger before the end."}
	partition(&r.Route, routes, func(e ledger.Entry) string { return e.Reason })
	r.Raised = Table{ID: "raised", Title: "What raised the priority", RowHead: "Raised by",
		Note: "What set the highest priority a case reached."}
	partition(&r.Raised, raised, func(e ledger.Entry) string { return e.Why })

	claimAll, contactMedian := b.claim(newDraft(&r.Claim), in, byPrio, prio, all)
	withinAll, dueAll, lateAll, ncAll := b.contact(newDraft(&r.Contact), in, byPrio, prio, all, asOf)
	b.contactTime(newDraft(&r.ContactTime), in, asOf, withinAll, lateAll, ncAll, dueAll)
	overdueAll := b.duties(newDraft(&r.Duties), in)

	r.Outcomes = Table{ID: "outcomes", Title: "Outcomes", RowHead: "Outcome",
		Note: "How officers closed the cases; still open: not closed when the figures were made."}
	partition(&r.Outcomes, outcomes, func(e ledger.Entry) string { return e.Outcome })
	r.Discussed = Table{ID: "discussed", Title: "Closure discussed with the tenant", RowHead: "Discussed",
		Note: "Whether the officer discussed closing the case with the tenant."}
	partition(&r.Discussed, discussed, func(e ledger.Entry) string { return e.Discussed })
	r.Left = Table{ID: "left", Title: "Tenants who left early", RowHead: "The tenant",
		Note: "Left early: the tenant used the quick exit, or went quiet, before the questions were finished."}
	leftCells := partition(&r.Left, left, func(e ledger.Entry) string {
		if e.LeftEarly {
			return "left"
		}
		return "stayed"
	})

	protect(b.cells, b.groups)
	for _, d := range drafts {
		d.finish()
	}
	r.Cases = all.value()
	r.Summary = []Figure{
		{figCases, all.value()},
		{figUrgent, prio[0].value()},
		{figHigh, prio[1].value()},
		{figStandard, prio[2].value()},
		{figOutOfHours, hoursCells["out"].value()},
		{figWithin, percent(withinAll, dueAll)},
		{"Median time to claim", claimAll},
		{"Median time to first contact", contactMedian},
		{figOverdue, overdueAll.value()},
		{figLeft, leftCells["left"].value()},
	}
	return r
}

// partition fills d with one row per value of key (opts first, in order,
// then any others seen), with a count and a share of total, and a total
// row. It returns the counts by key.
func (b *builder) partition(d *draft, opts []option, in []ledger.Entry, key func(ledger.Entry) string, total *cell) map[string]*cell {
	d.t.Cols = []string{"Cases", "% of cases"}
	n := map[string]int{}
	for _, e := range in {
		n[key(e)]++
	}
	rows := slices.Clone(opts)
	var others []string
	for k := range n {
		if !slices.ContainsFunc(opts, func(o option) bool { return o.key == k }) {
			others = append(others, k)
		}
	}
	slices.Sort(others)
	for _, k := range others {
		label := k
		if k == "" {
			label = "Not recorded"
		}
		rows = append(rows, option{k, label})
	}
	cells := map[string]*cell{}
	var parts []*cell
	for _, o := range rows {
		c := b.count(n[o.key])
		cells[o.key] = c
		parts = append(parts, c)
		key := o.key
		if key == "" {
			key = "none"
		}
		d.row(key, o.label, false, c.value, pct(c, total))
	}
	b.sum(total, parts...)
	d.row("all", "All cases", true, total.value, pct(total, total))
	return cells
}

// weeks fills d with the cases per ISO week by priority.
func (b *builder) weeks(d *draft, in []ledger.Entry, first, last time.Time, prio []*cell, all *cell) {
	*d.t = Table{ID: "weeks", Title: "Cases per week by priority", RowHead: "Week",
		Note: "Weeks run Monday to Sunday (ISO weeks); the first and last may be part weeks.",
		Cols: []string{"Urgent", "High", "Standard", "All cases"}}
	type week struct {
		key         string
		first, last time.Time
		n           [3]int
	}
	var ws []*week
	index := map[string]*week{}
	weekKey := func(t time.Time) string {
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	}
	for day := first; !day.After(last); day = day.AddDate(0, 0, 1) {
		k := weekKey(day)
		if w := index[k]; w != nil {
			w.last = day
			continue
		}
		w := &week{key: k, first: day, last: day}
		ws = append(ws, w)
		index[k] = w
	}
	for _, e := range in {
		w := index[weekKey(e.Hour.In(first.Location()))]
		for i, p := range priorities {
			if p.p == e.Priority {
				w.n[i]++
			}
		}
	}
	cols := make([][]*cell, len(priorities))
	var totals []*cell
	for _, w := range ws {
		var parts []*cell
		var sum int
		for i := range priorities {
			c := b.count(w.n[i])
			parts = append(parts, c)
			cols[i] = append(cols[i], c)
			sum += w.n[i]
		}
		t := b.count(sum)
		totals = append(totals, t)
		b.sum(t, parts...)
		d.row(w.key, w.key+" · "+span(w.first, w.last), false, parts[0].value, parts[1].value, parts[2].value, t.value)
	}
	for i := range priorities {
		b.sum(prio[i], cols[i]...)
	}
	b.sum(all, totals...)
	d.row("all", "All weeks", true, prio[0].value, prio[1].value, prio[2].value, all.value)
}

// span writes the days of a week in the period: "1–4 Oct", "28 Dec–3 Jan".
func span(first, last time.Time) string {
	switch {
	case first.Equal(last):
		return first.Format("2 Jan")
	case first.Month() == last.Month():
		return first.Format("2") + "–" + last.Format("2 Jan")
	}
	return first.Format("2 Jan") + "–" + last.Format("2 Jan")
}
