package flows

import (
	"time"
	// Europe/London must load on a machine without zoneinfo, such as a
	// scratch container.
	_ "time/tzdata"

	"github.com/rickar/cal/v2"

	"github.com/safecontact/safecontact/bot"
)

// Hours are a landlord's office hours: a weekly pattern in wall-clock
// time in one time zone, bank holidays, and dates closed or opened by
// exception. It implements bot.WorkingTime. Hours are not changed after
// loading, so one value serves any number of goroutines.
type Hours struct {
	loc  *time.Location
	week [7][]span // by time.Weekday
	// holidays are the bank holidays, by their observed (substitute)
	// date; nil when the file says "holidays: none".
	holidays *cal.Calendar
	// closed holds the spans a date is closed on top of its usual hours;
	// open the hours a date has instead of its usual ones, holiday or not.
	closed map[civilDate][]span
	open   map[civilDate][]span
	// day is one working day's length of open time: the length of the
	// landlord's standard day (the commonest length in the week).
	day time.Duration
}

var _ bot.WorkingTime = (*Hours)(nil)

// span is a stretch of a day in wall-clock minutes after midnight, from
// inclusive to exclusive; to is at most 24*60.
type span struct{ from, to int }

// civilDate is a calendar date with no time zone.
type civilDate struct {
	y int
	m time.Month
	d int
}

func dateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

// addDays returns the date n days later, across months and years.
func (c civilDate) addDays(n int) civilDate {
	return dateOf(time.Date(c.y, c.m, c.d+n, 12, 0, 0, 0, time.UTC))
}

// maxSearchDays bounds the search for open time. Loading refuses a week
// with no open time, so only a file closing this many days in a row
// could reach it.
const maxSearchDays = 3660

// Location is the time zone the hours are in.
func (h *Hours) Location() *time.Location { return h.loc }

// DayLength is one working day's length of open time: 8h for 9 to 5.
func (h *Hours) DayLength() time.Duration { return h.day }

// spans returns a date's open spans in order: its exceptional hours if it
// has them, else none on a bank holiday, else the week's; less any
// closures on that date.
func (h *Hours) spans(c civilDate) []span {
	base, ok := h.open[c]
	if !ok && !h.holiday(c) {
		base = h.week[time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC).Weekday()]
	}
	for _, cl := range h.closed[c] {
		base = subtract(base, cl)
	}
	return base
}

// holiday reports whether the date is a bank holiday as observed: 28 Dec
// 2026, the Monday substitute for Boxing Day on a Saturday, is one.
func (h *Hours) holiday(c civilDate) bool {
	if h.holidays == nil {
		return false
	}
	// IsHoliday reports an actual date that falls on a weekend too (26
	// Dec 2026); for England and Wales those days are closed anyway, and
	// a substitute day is always a weekday, so "observed" is what counts.
	_, observed, _ := h.holidays.IsHoliday(time.Date(c.y, c.m, c.d, 12, 0, 0, 0, time.UTC))
	return observed
}

// at returns the moment of a wall-clock minute on a date; 24:00 is the
// next midnight.
func (h *Hours) at(c civilDate, minute int) time.Time {
	return time.Date(c.y, c.m, c.d, minute/60, minute%60, 0, 0, h.loc)
}

// Open reports whether t falls within office hours.
func (h *Hours) Open(t time.Time) bool {
	t = t.In(h.loc)
	c := dateOf(t)
	for _, s := range h.spans(c) {
		if !t.Before(h.at(c, s.from)) && t.Before(h.at(c, s.to)) {
			return true
		}
	}
	return false
}

// NextOpen returns t when the office is open at t, else when it next
// opens.
func (h *Hours) NextOpen(t time.Time) time.Time {
	t = t.In(h.loc)
	c := dateOf(t)
	for i := 0; i < maxSearchDays; i++ {
		for _, s := range h.spans(c) {
			from, to := h.at(c, s.from), h.at(c, s.to)
			if to.After(t) {
				if from.Before(t) {
					return t
				}
				return from
			}
		}
		c = c.addDays(1)
	}
	return t // not reached: loading refuses a week with no open time
}

// Deadline returns when "within one working day" of t ends: t plus one
// working day's length (DayLength) of open time, counting only office
// hours. Tue 10:00 gives Wed 10:00; Fri 18:00 gives Mon 17:00; Thu 24 Dec
// 2026 15:00 gives Tue 29 Dec 15:00, past Christmas, the weekend and the
// substitute Boxing Day. A deadline that uses up a day's last open
// minute is that day's closing time.
func (h *Hours) Deadline(t time.Time) time.Time { return h.Add(t, h.day) }

// Add returns t plus d of open time, counting only office hours: with
// 9 to 5 on weekdays, Fri 16:00 plus 6h is Mon 14:00.
func (h *Hours) Add(t time.Time, d time.Duration) time.Time {
	t = t.In(h.loc)
	left := d
	c := dateOf(t)
	for i := 0; i < maxSearchDays; i++ {
		for _, s := range h.spans(c) {
			from, to := h.at(c, s.from), h.at(c, s.to)
			if !to.After(t) {
				continue
			}
			if from.Before(t) {
				from = t
			}
			avail := to.Sub(from)
			if avail >= left {
				return from.Add(left)
			}
			left -= avail
		}
		c = c.addDays(1)
	}
	return t // not reached: loading refuses a week with no open time
}

// EndOfDay returns the close of the working day t falls in: that day's
// last closing time when the office is open at t or opens later the same
// day, else the close of the next working day. With 9 to 5 on weekdays,
// Fri 16:30 gives Fri 17:00, and Fri 17:00 or Fri 20:00 gives Mon 17:00.
func (h *Hours) EndOfDay(t time.Time) time.Time {
	next := h.NextOpen(t)
	c := dateOf(next)
	spans := h.spans(c)
	if len(spans) == 0 {
		return next // not reached: NextOpen returns a time within a span
	}
	return h.at(c, spans[len(spans)-1].to)
}

// subtract returns spans less the span cut.
func subtract(spans []span, cut span) []span {
	var out []span
	for _, s := range spans {
		if cut.to <= s.from || cut.from >= s.to {
			out = append(out, s)
			continue
		}
		if s.from < cut.from {
			out = append(out, span{s.from, cut.from})
		}
		if cut.to < s.to {
			out = append(out, span{cut.to, s.to})
		}
	}
	return out
}
