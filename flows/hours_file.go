package flows

import (
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/gb"
	"go.yaml.in/yaml/v3"
)

// HoursVersion is the newest hours.yaml version this safecontact
// understands; a newer file is refused at load.
const HoursVersion = 1

// The bank holiday sets hours.yaml can name.
const (
	// HolidaysEnglandWales are the bank holidays of England and Wales,
	// with their substitute days, from github.com/rickar/cal/v2/gb.
	HolidaysEnglandWales = "england_wales"
	// HolidaysNone keeps no bank holidays.
	HolidaysNone = "none"
)

// weekdayKeys name the days of the week in hours.yaml, by time.Weekday.
var weekdayKeys = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// LoadHours reads the office hours from file in fsys and checks them. The
// returned Problems name file and line; the Hours are only fit to use
// when Problems.Errors is empty.
//
// The file (flows/default/hours.yaml):
//
//	version: 1
//	timezone: Europe/London
//	week:                    # wall-clock hours; a day not listed is closed
//	  mon: "09:00-17:00"
//	  wed: "09:00-12:30, 13:30-17:00"
//	  sat: closed
//	holidays: england_wales  # or none
//	closed:                  # dates closed besides bank holidays
//	  - {date: 2026-12-24, from: "12:00", note: Christmas Eve afternoon}
//	open:                    # dates with other hours, holiday or not
//	  - {date: 2026-12-29, hours: "10:00-14:00"}
func LoadHours(fsys fs.FS, file string) (*Hours, Problems) {
	p := &problems{file: file}
	h := readHours(p, readFile(fsys, p, file))
	return h, p.list
}

func readHours(p *problems, data []byte) *Hours {
	h := &Hours{loc: time.UTC, closed: map[civilDate][]span{}, open: map[civilDate][]span{}}
	if data == nil {
		return h
	}
	root := p.parse(data)
	if root == nil {
		return h
	}
	f := p.fields(root, "hours file", "version", "timezone", "week", "holidays", "closed", "open")
	p.version(f["version"], HoursVersion)
	if n := f["timezone"]; n == nil {
		p.errorf(root.Line, "no timezone: add \"timezone: Europe/London\"")
	} else if loc, err := time.LoadLocation(p.str(n, "timezone")); err != nil || n.Value == "" || n.Value == "Local" {
		p.errorf(n.Line, "unknown timezone %q: want a name like Europe/London", n.Value)
	} else {
		h.loc = loc
	}
	week := p.fields(f["week"], "week", weekdayKeys[:]...)
	if f["week"] == nil {
		p.errorf(root.Line, "no week: add the office hours of each day, like \"mon: 09:00-17:00\"")
	}
	for d, key := range weekdayKeys {
		if n := week[key]; n != nil {
			h.week[d] = readSpans(p, n, "week: "+key, true)
		}
	}
	h.day = standardDay(h.week)
	if h.day == 0 && f["week"] != nil {
		p.errorf(f["week"].Line, "the week has no open hours: no deadline could ever be met")
	}
	switch name := p.str(f["holidays"], "holidays"); name {
	case HolidaysEnglandWales:
		h.holidays = &cal.Calendar{Holidays: slices.Clone(gb.Holidays)}
	case HolidaysNone:
	case "":
		p.errorf(root.Line, "no holidays: add \"holidays: %s\" (or \"none\")", HolidaysEnglandWales)
	default:
		p.errorf(f["holidays"].Line, "unknown holidays %q: want %s or %s", name, HolidaysEnglandWales, HolidaysNone)
	}
	for _, n := range p.items(f["closed"], "closed") {
		c, s, ok := readClosure(p, n)
		if ok {
			h.closed[c] = append(h.closed[c], s)
		}
	}
	openLine := map[civilDate]int{}
	for _, n := range p.items(f["open"], "open") {
		e := p.fields(n, "open", "date", "hours", "note")
		c, ok := readDate(p, e["date"], n.Line, "open")
		if e["hours"] == nil {
			p.errorf(n.Line, "open: no hours: give them like \"hours: 10:00-14:00\"")
		}
		spans := readSpans(p, e["hours"], "open: hours", false)
		switch {
		case !ok:
		case openLine[c] != 0:
			p.errorf(n.Line, "open: %s is listed twice (first on line %d)", e["date"].Value, openLine[c])
		default:
			openLine[c] = n.Line
			h.open[c] = spans
		}
	}
	return h
}

// readClosure reads one entry of "closed": a date, closed from "from"
// (default the day's start) to "to" (default its end).
func readClosure(p *problems, n *yaml.Node) (civilDate, span, bool) {
	e := p.fields(n, "closed", "date", "from", "to", "note")
	c, ok := readDate(p, e["date"], n.Line, "closed")
	s := span{0, 24 * 60}
	if v := e["from"]; v != nil {
		m, good := parseClock(p.str(v, "closed: from"))
		if !good {
			p.errorf(v.Line, "closed: bad time %q: want HH:MM, like \"13:00\"", v.Value)
			ok = false
		}
		s.from = m
	}
	if v := e["to"]; v != nil {
		m, good := parseClock(p.str(v, "closed: to"))
		if !good {
			p.errorf(v.Line, "closed: bad time %q: want HH:MM, like \"13:00\"", v.Value)
			ok = false
		}
		s.to = m
	}
	if ok && s.from >= s.to {
		p.errorf(n.Line, "closed: from %s is not before to %s", clock(s.from), clock(s.to))
		ok = false
	}
	return c, s, ok
}

// readDate reads a date like 2026-12-24.
func readDate(p *problems, n *yaml.Node, line int, what string) (civilDate, bool) {
	if n == nil {
		p.errorf(line, "%s: no date: give one like \"date: 2026-12-24\"", what)
		return civilDate{}, false
	}
	t, err := time.Parse(time.DateOnly, p.str(n, what+": date"))
	if err != nil {
		p.errorf(n.Line, "%s: %q is not a date like 2026-12-24", what, n.Value)
		return civilDate{}, false
	}
	return dateOf(t), true
}

// readSpans reads a day's hours: "09:00-17:00", several joined by commas,
// or (when closedOK) "closed".
func readSpans(p *problems, n *yaml.Node, what string, closedOK bool) []span {
	text := strings.TrimSpace(p.str(n, what))
	if n == nil || (closedOK && text == "closed") {
		return nil
	}
	var out []span
	for _, part := range strings.Split(text, ",") {
		from, to, ok := strings.Cut(strings.TrimSpace(part), "-")
		a, okA := parseClock(strings.TrimSpace(from))
		b, okB := parseClock(strings.TrimSpace(to))
		switch {
		case !ok || !okA || !okB:
			want := `times like "09:00-17:00" or "09:00-12:30, 13:30-17:00"`
			if closedOK {
				want = `"closed" or ` + want
			}
			p.errorf(n.Line, "%s: bad hours %q: want %s", what, text, want)
			return nil
		case a >= b:
			p.errorf(n.Line, "%s: %q ends before it starts", what, strings.TrimSpace(part))
			return nil
		case len(out) > 0 && a < out[len(out)-1].to:
			p.errorf(n.Line, "%s: %q overlaps or comes before the hours ahead of it", what, strings.TrimSpace(part))
			return nil
		}
		out = append(out, span{a, b})
	}
	return out
}

// parseClock reads "09:00" or "9:00" as minutes after midnight; "24:00"
// is the day's end.
func parseClock(s string) (int, bool) {
	hh, mm, ok := strings.Cut(s, ":")
	if !ok || len(hh) < 1 || len(hh) > 2 || len(mm) != 2 {
		return 0, false
	}
	h, err1 := strconv.Atoi(hh)
	m, err2 := strconv.Atoi(mm)
	if err1 != nil || err2 != nil || h < 0 || m < 0 || m > 59 || h > 24 || (h == 24 && m != 0) {
		return 0, false
	}
	return h*60 + m, true
}

func clock(m int) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// standardDay is the commonest length of the week's open days (the
// longest on a tie): 8h for Monday to Friday 9 to 5.
func standardDay(week [7][]span) time.Duration {
	count := map[int]int{}
	best := 0
	for _, spans := range week {
		n := 0
		for _, s := range spans {
			n += s.to - s.from
		}
		if n == 0 {
			continue
		}
		count[n]++
		if count[n] > count[best] || (count[n] == count[best] && n > best) {
			best = n
		}
	}
	return time.Duration(best) * time.Minute
}
