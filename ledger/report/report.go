// Package report turns ledger entries into the figures a landlord
// monitors monthly and quarterly (seed 004 §11): cases per week by
// priority, by area, channel, language and office hours, how fast cases
// were claimed and tenants contacted against the promise, duties met on
// time, outcomes, and tenants who left early. Build works the figures out
// once, hiding small numbers (see suppress.go and docs/reports.md);
// HTML, CSV and MonthlySummary only lay them out.
package report

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Kind says what a Value counts.
type Kind int

// Kinds of Value.
const (
	Count   Kind = iota // cases or duties
	Percent             // a whole percentage
	Minutes             // a median time in minutes
)

// Value is one figure as shown. Mark is "" when the figure shows, and
// otherwise what shows instead: "<5" for a count from 1 to 4 or a
// percentage or median from fewer than 5 cases, "[c]" for a figure hidden
// so that another can't be worked out. N is the figure; a hidden count
// keeps it (for checks), a hidden percentage or median has 0. Print a
// Value with String or Raw, never N.
type Value struct {
	N    int
	Kind Kind
	Mark string
}

// Shown reports whether the figure shows.
func (v Value) Shown() bool { return v.Mark == "" }

// String is the figure as a reader sees it: "12", "<5", "[c]", "88%",
// "45 min", "3 h 20 min", "2 d 4 h".
func (v Value) String() string {
	if v.Mark != "" {
		return v.Mark
	}
	switch v.Kind {
	case Percent:
		return strconv.Itoa(v.N) + "%"
	case Minutes:
		return minutes(v.N)
	}
	return strconv.Itoa(v.N)
}

// Raw is the figure for a spreadsheet: a whole number (minutes for a
// median), a percentage as "88%" (which spreadsheets read as 0.88), or
// the mark.
func (v Value) Raw() string {
	switch {
	case v.Mark != "":
		return v.Mark
	case v.Kind == Percent:
		return strconv.Itoa(v.N) + "%"
	}
	return strconv.Itoa(v.N)
}

// minutes writes a time for people: "45 min", "3 h 20 min", "2 d 4 h".
func minutes(m int) string {
	switch {
	case m < 60:
		return fmt.Sprintf("%d min", m)
	case m < 24*60:
		if m%60 == 0 {
			return fmt.Sprintf("%d h", m/60)
		}
		return fmt.Sprintf("%d h %d min", m/60, m%60)
	}
	d, h := m/(24*60), m%(24*60)/60
	if h == 0 {
		return fmt.Sprintf("%d d", d)
	}
	return fmt.Sprintf("%d d %d h", d, h)
}

// Table is one table of the report.
type Table struct {
	ID      string   // short name, used as the HTML anchor: "area"
	Title   string   // "Cases by area"; the CSV's section
	Note    string   // what the table counts, in a sentence
	RowHead string   // heading of the label column: "Area"
	Cols    []string // headings of the figure columns; the CSV's measures
	Rows    []Row
}

// Row is one row of a table.
type Row struct {
	Key   string // stable id of the row: an area id, "2026-W40", "all"
	Label string // what a reader sees; the CSV's group
	Total bool   // a total or subtotal row
	Cells []Value
}

// Figure is one line of the summary.
type Figure struct {
	Label string
	Value Value
}

// Report is the figures for a period, with small numbers already hidden.
type Report struct {
	First, Last time.Time // first and last day of the period, in the office's time zone
	AsOf        time.Time // when the figures were worked out
	Cases       Value     // cases opened in the period

	Summary []Figure

	Weeks       Table // cases per ISO week by priority
	Area        Table
	Channel     Table
	Language    Table
	Hours       Table // in and out of office hours
	Route       Table // how cases reached officers
	Raised      Table // what raised the priority
	Claim       Table // time to claim and to first contact, by priority
	Contact     Table // contact against the promise, by priority
	ContactTime Table // when first contact came, as a share of the promised time
	Duties      Table
	Outcomes    Table
	Discussed   Table
	Left        Table
}

// Title is the report's title: "safecontact — cases from 1 Oct 2026 to
// 31 Dec 2026".
func (r Report) Title() string {
	return fmt.Sprintf("safecontact — cases from %s to %s", r.First.Format("2 Jan 2006"), r.Last.Format("2 Jan 2006"))
}

// Tables are the report's tables in the order they are laid out.
func (r *Report) Tables() []*Table {
	return []*Table{&r.Weeks, &r.Area, &r.Channel, &r.Language, &r.Hours, &r.Route, &r.Raised,
		&r.Claim, &r.Contact, &r.ContactTime, &r.Duties, &r.Outcomes, &r.Discussed, &r.Left}
}

// percent is num out of den as a Value, shown only when den is 5 or more
// and both are shown.
func percent(num, den *cell) Value {
	v := Value{Kind: Percent}
	switch {
	case den.n < small+1 || (num.hidden && num.n <= small):
		v.Mark = "<5"
	case num.hidden || den.hidden:
		v.Mark = "[c]"
	default:
		v.N = int(math.Round(100 * float64(num.n) / float64(den.n)))
	}
	return v
}

// median is the middle of ds in whole minutes (the lower middle of an even
// number), shown only when there are 5 or more.
func median(ds []time.Duration) Value {
	v := Value{Kind: Minutes}
	if len(ds) <= small {
		v.Mark = "<5"
		return v
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	v.N = int(s[(len(s)-1)/2] / time.Minute)
	return v
}

func (c *cell) value() Value {
	v := Value{N: c.n, Kind: Count}
	if c.hidden {
		v.Mark = "[c]"
		if c.n <= small {
			v.Mark = "<5"
		}
	}
	return v
}
