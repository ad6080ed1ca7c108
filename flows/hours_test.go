package flows_test

import (
	"os"
	"testing"
	"time"

	"github.com/rickar/cal/v2/gb"

	"github.com/safecontact/safecontact/flows"
)

// london is the default hours' time zone, for building test times.
var london = mustLocation("Europe/London")

func mustLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// loadDefaultHours loads flows/default/hours.yaml, failing on any problem.
func loadDefaultHours(t testing.TB) *flows.Hours {
	t.Helper()
	h, problems := flows.LoadHours(os.DirFS("default"), flows.HoursFile)
	if len(problems) > 0 {
		t.Fatalf("default hours:\n%v", problems)
	}
	return h
}

// at is a wall-clock time in London.
func at(y int, m time.Month, d, hh, mm int) time.Time {
	return time.Date(y, m, d, hh, mm, 0, 0, london)
}

func TestDeadline(t *testing.T) {
	h := loadDefaultHours(t)
	if h.DayLength() != 8*time.Hour {
		t.Fatalf("DayLength() = %v, want 8h", h.DayLength())
	}
	tests := []struct {
		label    string
		from, to time.Time
	}{
		{"midweek", at(2026, 11, 24, 10, 0), at(2026, 11, 25, 10, 0)},
		{"at opening", at(2026, 11, 24, 9, 0), at(2026, 11, 24, 17, 0)},
		{"before opening", at(2026, 11, 24, 7, 30), at(2026, 11, 24, 17, 0)},
		{"at closing", at(2026, 11, 24, 17, 0), at(2026, 11, 25, 17, 0)},
		{"a minute before closing", at(2026, 11, 24, 16, 59), at(2026, 11, 25, 16, 59)},
		{"Friday morning", at(2026, 11, 27, 10, 0), at(2026, 11, 30, 10, 0)},
		{"Friday evening", at(2026, 11, 27, 18, 0), at(2026, 11, 30, 17, 0)},
		{"Saturday", at(2026, 11, 28, 12, 0), at(2026, 11, 30, 17, 0)},
		{"Sunday night", at(2026, 11, 29, 23, 59), at(2026, 11, 30, 17, 0)},
		// 25 Dec is Friday; 26-27 the weekend; 28 Dec the substitute
		// Boxing Day; 1 Jan 2027 is Friday.
		{"Christmas Eve afternoon", at(2026, 12, 24, 15, 0), at(2026, 12, 29, 15, 0)},
		{"Christmas Day", at(2026, 12, 25, 11, 0), at(2026, 12, 29, 17, 0)},
		{"substitute Boxing Day", at(2026, 12, 28, 9, 30), at(2026, 12, 29, 17, 0)},
		{"New Year's Eve", at(2026, 12, 31, 12, 0), at(2027, 1, 4, 12, 0)},
		// Easter 2026: Good Friday 3 Apr, Easter Monday 6 Apr.
		{"Maundy Thursday", at(2026, 4, 2, 14, 0), at(2026, 4, 7, 14, 0)},
		{"Good Friday", at(2026, 4, 3, 10, 0), at(2026, 4, 7, 17, 0)},
		{"Easter Monday", at(2026, 4, 6, 10, 0), at(2026, 4, 7, 17, 0)},
		// Clocks go forward on 29 Mar 2026 and back on 25 Oct 2026, both
		// Sundays: office hours stay 9 to 5 on the wall clock.
		{"before spring forward", at(2026, 3, 27, 13, 0), at(2026, 3, 30, 13, 0)},
		{"on spring forward night", at(2026, 3, 29, 1, 30), at(2026, 3, 30, 17, 0)},
		{"before fall back", at(2026, 10, 23, 13, 0), at(2026, 10, 26, 13, 0)},
		{"on fall back night", at(2026, 10, 25, 1, 30), at(2026, 10, 26, 17, 0)},
		// Other bank holidays of England and Wales in 2026.
		{"early May", at(2026, 5, 1, 12, 0), at(2026, 5, 5, 12, 0)},
		{"spring bank holiday", at(2026, 5, 22, 12, 0), at(2026, 5, 26, 12, 0)},
		{"summer bank holiday", at(2026, 8, 28, 12, 0), at(2026, 9, 1, 12, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got := h.Deadline(tt.from)
			if !got.Equal(tt.to) {
				t.Errorf("Deadline(%s) = %s, want %s", tt.from.Format(time.RFC1123), got.In(london).Format(time.RFC1123), tt.to.Format(time.RFC1123))
			}
			if got.Location().String() != "Europe/London" {
				t.Errorf("deadline in %v, want Europe/London", got.Location())
			}
			// The deadline is the same whatever zone t is given in.
			if again := h.Deadline(tt.from.UTC()); !again.Equal(got) {
				t.Errorf("Deadline of the same moment in UTC = %s", again)
			}
		})
	}
}

func TestAddCountsOnlyOpenTime(t *testing.T) {
	h := loadDefaultHours(t)
	tests := []struct {
		label string
		from  time.Time
		d     time.Duration
		to    time.Time
	}{
		{"within the day", at(2026, 11, 24, 10, 0), 2 * time.Hour, at(2026, 11, 24, 12, 0)},
		{"zero out of hours waits for opening", at(2026, 11, 24, 20, 0), 0, at(2026, 11, 25, 9, 0)},
		{"three quarters of a day over the weekend", at(2026, 11, 27, 16, 0), 6 * time.Hour, at(2026, 11, 30, 14, 0)},
		{"a whole day is the deadline", at(2026, 11, 27, 16, 0), 8 * time.Hour, at(2026, 11, 30, 16, 0)},
		{"past Christmas", at(2026, 12, 24, 16, 0), 2 * time.Hour, at(2026, 12, 29, 10, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := h.Add(tt.from, tt.d); !got.Equal(tt.to) {
				t.Errorf("Add(%s, %v) = %s, want %s", tt.from.Format(time.RFC1123), tt.d, got.In(london).Format(time.RFC1123), tt.to.Format(time.RFC1123))
			}
		})
	}
}

func TestOpenAndNextOpen(t *testing.T) {
	h := loadDefaultHours(t)
	tests := []struct {
		label string
		t     time.Time
		open  bool
		next  time.Time
	}{
		{"weekday morning", at(2026, 11, 24, 10, 0), true, at(2026, 11, 24, 10, 0)},
		{"opening minute", at(2026, 11, 24, 9, 0), true, at(2026, 11, 24, 9, 0)},
		{"closing minute", at(2026, 11, 24, 17, 0), false, at(2026, 11, 25, 9, 0)},
		{"early morning", at(2026, 11, 24, 6, 0), false, at(2026, 11, 24, 9, 0)},
		{"Saturday", at(2026, 11, 28, 12, 0), false, at(2026, 11, 30, 9, 0)},
		{"Christmas Day", at(2026, 12, 25, 12, 0), false, at(2026, 12, 29, 9, 0)},
		{"substitute Boxing Day", at(2026, 12, 28, 12, 0), false, at(2026, 12, 29, 9, 0)},
		{"Good Friday", at(2026, 4, 3, 12, 0), false, at(2026, 4, 7, 9, 0)},
		{"Easter Monday", at(2026, 4, 6, 12, 0), false, at(2026, 4, 7, 9, 0)},
		{"summer time", at(2026, 7, 1, 9, 0), true, at(2026, 7, 1, 9, 0)},
		{"summer time, 8:59", at(2026, 7, 1, 8, 59), false, at(2026, 7, 1, 9, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := h.Open(tt.t); got != tt.open {
				t.Errorf("Open(%s) = %v", tt.t.Format(time.RFC1123), got)
			}
			if got := h.NextOpen(tt.t); !got.Equal(tt.next) {
				t.Errorf("NextOpen(%s) = %s, want %s", tt.t.Format(time.RFC1123), got.In(london).Format(time.RFC1123), tt.next.Format(time.RFC1123))
			}
		})
	}
}

// rickar/cal reports 28 Dec 2026, the Monday after Boxing Day on a
// Saturday, as the observed bank holiday, and Christmas on its own day.
func TestRickarCalObservesSubstituteBoxingDay2026(t *testing.T) {
	actual, observed := gb.BoxingDay.Calc(2026)
	if actual.Day() != 26 || observed.Month() != time.December || observed.Day() != 28 {
		t.Errorf("Boxing Day 2026: actual %v, observed %v; want 26 Dec observed 28 Dec", actual, observed)
	}
	actual, observed = gb.ChristmasDay.Calc(2026)
	if actual.Day() != 25 || observed.Day() != 25 {
		t.Errorf("Christmas Day 2026: actual %v, observed %v", actual, observed)
	}
	_, observed = gb.GoodFriday.Calc(2026)
	if observed.Month() != time.April || observed.Day() != 3 {
		t.Errorf("Good Friday 2026 on %v, want 3 April", observed)
	}
}

// Exceptions: a closed afternoon, an opened bank holiday, split days.
func TestHoursExceptions(t *testing.T) {
	h, problems := flows.LoadHours(os.DirFS("testdata"), "hours_exceptions.yaml")
	if len(problems) > 0 {
		t.Fatalf("problems:\n%v", problems)
	}
	if h.DayLength() != 7*time.Hour {
		t.Fatalf("DayLength() = %v, want 7h (the commonest day)", h.DayLength())
	}
	tests := []struct {
		label    string
		from, to time.Time
	}{
		// Mon-Thu 09:00-12:30, 13:30-17:00 (7h); Fri 09:00-16:00 (7h).
		{"across lunch", at(2026, 11, 24, 12, 0), at(2026, 11, 25, 12, 0)},
		{"in lunch", at(2026, 11, 24, 13, 0), at(2026, 11, 25, 12, 30)},
		{"Friday short day", at(2026, 11, 27, 15, 0), at(2026, 11, 30, 16, 0)},
		// Closed from 12:00 on Thu 24 Dec 2026 (2h left that day), and
		// open 10:00-14:00 on the substitute Boxing Day (4h).
		{"Christmas Eve closes at noon", at(2026, 12, 24, 10, 0), at(2026, 12, 29, 10, 0)},
		{"opened bank holiday", at(2026, 12, 28, 9, 0), at(2026, 12, 29, 12, 0)},
		// Closed all of Tue 1 Dec 2026.
		{"whole day closed", at(2026, 11, 30, 17, 0), at(2026, 12, 2, 17, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := h.Deadline(tt.from); !got.Equal(tt.to) {
				t.Errorf("Deadline(%s) = %s, want %s", tt.from.Format(time.RFC1123), got.In(london).Format(time.RFC1123), tt.to.Format(time.RFC1123))
			}
		})
	}
	if h.Open(at(2026, 12, 24, 12, 0)) || !h.Open(at(2026, 12, 24, 11, 59)) {
		t.Error("Christmas Eve: want open at 11:59 and closed at 12:00")
	}
	if !h.Open(at(2026, 12, 28, 10, 0)) {
		t.Error("the opened bank holiday is closed")
	}
}

// FuzzDeadline checks, for any moment from 2000 to 2100, that the
// deadline is after it, falls in office hours or exactly at a closing
// time, and is at most ten days later.
func FuzzDeadline(f *testing.F) {
	h := loadDefaultHours(f)
	for _, t := range []time.Time{at(2026, 12, 24, 15, 0), at(2026, 3, 29, 1, 30), at(2026, 10, 25, 1, 30), at(2026, 4, 2, 17, 0)} {
		f.Add(t.Unix())
	}
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	span := time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - start
	f.Fuzz(func(t *testing.T, secs int64) {
		if secs < 0 {
			secs = -(secs + 1)
		}
		from := time.Unix(start+secs%span, 0)
		got := h.Deadline(from)
		if !got.After(from) {
			t.Fatalf("Deadline(%v) = %v, not after", from, got)
		}
		if !h.Open(got) && !h.Open(got.Add(-time.Minute)) {
			t.Fatalf("Deadline(%v) = %v, neither open nor a closing time", from, got)
		}
		if got.Sub(from) > 10*24*time.Hour {
			t.Fatalf("Deadline(%v) = %v, over ten days", from, got)
		}
		if next := h.NextOpen(from); next.Before(from) || !h.Open(next) {
			t.Fatalf("NextOpen(%v) = %v", from, next)
		}
	})
}
