package flows_test

import (
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
)

// Moments the default office (Mon-Fri 9-5) is open and closed.
var (
	officeOpen   = time.Date(2026, 11, 24, 10, 0, 0, 0, london) // Tuesday 10am
	officeClosed = time.Date(2026, 11, 28, 23, 0, 0, 0, london) // Saturday 11pm
)

// loadDefaultDirectory loads the default directory and hours from
// flows/default, failing the test on any error.
func loadDefaultDirectory(t testing.TB) (*flows.Directory, *flows.Hours) {
	t.Helper()
	fsys := os.DirFS("default")
	h, hp := flows.LoadHours(fsys, flows.HoursFile)
	d, dp := flows.LoadDirectory(fsys, flows.AreasFile, flows.PostcodesFile)
	if errs := append(hp.Errors(), dp.Errors()...); len(errs) > 0 {
		t.Fatalf("default directory:\n%v", errs)
	}
	return d.WithHours(h), h
}

// The default directory has no errors; its only warnings are the
// unverified places and postcode districts, for the landlord to confirm.
func TestDefaultDirectoryHasNoProblems(t *testing.T) {
	fsys := os.DirFS("default")
	_, problems := flows.LoadDirectory(fsys, flows.AreasFile, flows.PostcodesFile)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Errorf("errors:\n%v", errs)
	}
	for _, p := range problems.Warnings() {
		if !strings.Contains(p.Msg, "is unverified") {
			t.Errorf("warning: %v", p)
		}
	}
}

// The unconfirmed 2019 Staffordshire number is for officers only, and
// every area's officers see the Men's Advice Line.
func TestUnconfirmedNumberIsForOfficersOnly(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	for _, id := range d.IDs() {
		for _, now := range []time.Time{officeOpen, officeClosed} {
			for _, l := range d.Numbers(id, "en", now) {
				if strings.Contains(l, "0300 330 5959") {
					t.Errorf("%s: tenants are sent the unconfirmed number: %q", id, l)
				}
			}
		}
		var ids []string
		for _, s := range d.Services(id) {
			ids = append(ids, s.ID)
		}
		if !slices.Contains(ids, "mens_advice_line") {
			t.Errorf("%s: officers do not see the Men's Advice Line: %v", id, ids)
		}
		if slices.Contains(ids, "staffs_2019") != (id == "staffordshire") {
			t.Errorf("%s: officers' services %v", id, ids)
		}
	}
	if got := d.ServiceLines([]string{"staffs_2019", "mens_advice_line"}, "en"); len(got) != 1 {
		t.Errorf("ServiceLines gives the unconfirmed number: %v", got)
	}
}

// The numbers only in the landlord's 2019 policy are over a year old in
// November 2026: each is warned about, and nothing else.
func TestDefaultDirectoryWarnsOfOldNumbers(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	var got []string
	for _, p := range d.CheckAge(time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)) {
		if !p.Warning {
			t.Errorf("an age check gave an error: %v", p)
		}
		got = append(got, p.Msg)
	}
	want := []string{
		`service "police_101" (101) was verified on 2019-07-11, over a year ago: check the number and update "verified"`,
		`service "staffs_2019" (0300 330 5959) was verified on 2019-07-11, over a year ago: check the number and update "verified"`,
		`service "landlord" (01952 217100) was verified on 2019-07-11, over a year ago: check the number and update "verified"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if ps := d.CheckAge(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)); len(ps) == 0 {
		t.Error("no warning for dates verified after now")
	}
}

func TestAreasMenuOrder(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	var ids, en, cy []string
	for _, a := range d.Areas() {
		ids = append(ids, a.ID)
		en = append(en, a.Name["en"])
		cy = append(cy, a.Name["cy"])
	}
	if want := []string{"telford_wrekin", "shropshire", "staffordshire", "herefordshire", "elsewhere"}; !slices.Equal(ids, want) {
		t.Errorf("menu %v, want %v", ids, want)
	}
	if want := []string{"Telford & Wrekin", "Shropshire", "Staffordshire", "Herefordshire", "Somewhere else"}; !slices.Equal(en, want) {
		t.Errorf("English names %v, want %v", en, want)
	}
	for i, name := range cy {
		if name == "" {
			t.Errorf("area %s has no Welsh name", ids[i])
		}
	}
	if d.Fallback() != "elsewhere" {
		t.Errorf("Fallback() = %q, want elsewhere", d.Fallback())
	}
	if got := d.AreaName("wales", "cy"); got != "Cymru" {
		t.Errorf("AreaName(wales, cy) = %q", got)
	}
	if got := d.AreaName("nowhere", "en"); got != "" {
		t.Errorf("AreaName(nowhere) = %q, want empty", got)
	}
}

// The national lines every area starts with, in office hours.
var nationalLines = []string{
	"Emergency: 999. Can't speak? 999 then 55 (mobile)",
	"National helpline, free, 24h: 0808 2000 247",
}

// nationalTail are the national lines every area ends with (in hours).
var nationalTail = []string{"Police, not urgent: 101", "Samaritans, 24h: 116 123"}

// areaNumbers are each area's numbers in English in office hours.
var areaNumbers = map[string][]string{
	"telford_wrekin": {"Local support, free, 24h: 0800 840 3747", "Telford council, weekdays 9-5: 01952 385385"},
	"shropshire":     {"Local support, free, 24h: 0800 783 1359"},
	"staffordshire": {
		"Local support, 24h: 0300 303 3778",
		"Men's line, free, weekdays: 0808 801 0327",
	},
	"herefordshire": {"Local support, free, 24h: 0800 783 1359", "Men's line, free, weekdays: 0808 801 0327"},
	"elsewhere":     nil,
}

func wantNumbers(area string) []string {
	out := slices.Concat(nationalLines, areaNumbers[area], nationalTail)
	if area == "wales" {
		out = slices.Concat(nationalLines[:1], []string{"Wales helpline, free, 24h: 0808 80 10 800"}, nationalLines[1:], nationalTail)
	}
	return out
}

// A tenant who picks an area from the menu gets its numbers.
func TestNumbersByMenuChoice(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	for _, a := range d.Areas() {
		t.Run(a.ID, func(t *testing.T) {
			got := d.Numbers(a.ID, "en", officeOpen)
			if want := wantNumbers(a.ID); !slices.Equal(got, want) {
				t.Errorf("numbers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// A tenant who gives a postcode gets the numbers of its area, or is asked
// to pick when the district straddles areas.
func TestNumbersByPostcode(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	tests := []struct {
		label, text string
		want        []string
	}{
		{"TF11 is Shropshire", "TF11 8AB", []string{"shropshire"}},
		{"TF1 is Telford & Wrekin", "tf1 2ab", []string{"telford_wrekin"}},
		{"SY23 is Wales", "SY23 1AA", []string{"wales"}},
		{"HR3 straddles Herefordshire and Wales", "HR3 5AA", []string{"herefordshire", "wales"}},
		{"ST4 is Staffordshire (Stoke-on-Trent)", "ST4 7AA", []string{"staffordshire"}},
		{"HR1 is Herefordshire", "hr1", []string{"herefordshire"}},
		{"B1 is elsewhere", "B1 1AA", []string{"elsewhere"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got := d.Locate(tt.text)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("Locate(%q) = %v, want %v", tt.text, got, tt.want)
			}
			for _, area := range got {
				if lines, want := d.Numbers(area, "en", officeOpen), wantNumbers(area); !slices.Equal(lines, want) {
					t.Errorf("numbers for %s:\n%s\nwant:\n%s", area, strings.Join(lines, "\n"), strings.Join(want, "\n"))
				}
			}
		})
	}
	if got := d.Numbers("wales", "en", officeOpen); !slices.Contains(got, "Wales helpline, free, 24h: 0808 80 10 800") {
		t.Errorf("Wales lacks Live Fear Free: %v", got)
	}
}

// A malformed or unknown postcode names no area, and the fallback gives
// the national numbers.
func TestMalformedPostcodeGetsNationalNumbers(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	for _, text := range []string{"TF!!", "12345", "zz99 9zz", "", "   ", "TF", "99", "help me"} {
		if got := d.Locate(text); got != nil {
			t.Errorf("Locate(%q) = %v, want none", text, got)
		}
	}
	got := d.Numbers(d.Fallback(), "en", officeOpen)
	if want := wantNumbers("elsewhere"); !slices.Equal(got, want) {
		t.Errorf("fallback numbers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got := d.Numbers("no_such_area", "en", officeOpen); !slices.Equal(got, wantNumbers("elsewhere")) {
		t.Errorf("an unknown area gets %v, want the national numbers", got)
	}
}

// Every area's numbers, in each language, open or closed, fit in two SMS
// segments under the heading and show no lock-screen word.
func TestNumbersFitAndAreDiscreet(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	headings := map[string]string{
		"en":   "Numbers you can call:",
		"cy":   "Rhifau y gallwch eu ffonio:",
		"room": strings.Repeat("x", flows.NumbersHeaderRoom),
	}
	for _, area := range d.IDs() {
		for _, lang := range []string{"en", "cy"} {
			for _, now := range []time.Time{officeOpen, officeClosed} {
				lines := d.Numbers(area, lang, now)
				joined := strings.Join(lines, "\n")
				if len(lines) == 0 {
					t.Errorf("%s %s: no numbers", area, lang)
				}
				if !bot.FitsSegments(joined) {
					n, _ := bot.Segments(joined)
					t.Errorf("%s %s at %v: %d segments:\n%s", area, lang, now, n, joined)
				}
				for _, h := range []string{headings[lang], headings["room"]} {
					msg := h + "\n" + joined
					if !bot.FitsSegments(msg) {
						n, _ := bot.Segments(msg)
						t.Errorf("%s %s at %v: %d segments under %q", area, lang, now, n, h)
					}
					if w, at := bot.LockScreenWord(msg); w != "" {
						t.Errorf("%s %s: lock-screen word %q at %d in %q", area, lang, w, at, msg)
					}
				}
				for _, l := range lines {
					if w, _ := bot.LockScreenWord(l); w != "" {
						t.Errorf("%s %s: line %q has lock-screen word %q", area, lang, l, w)
					}
				}
			}
		}
	}
}

// Out of hours the 24-hour lines come first, the council's out-of-hours
// line stands in for its office line, and a line that is not open always
// says when it is.
func TestNumbersOutOfHours(t *testing.T) {
	d, h := loadDefaultDirectory(t)
	if h.Open(officeClosed) || !h.Open(officeOpen) {
		t.Fatal("test times are not closed and open")
	}
	tests := []struct {
		area string
		want []string
	}{
		{"telford_wrekin", []string{
			nationalLines[0], nationalLines[1],
			"Local support, free, 24h: 0800 840 3747",
			"Telford council, out of hours: 01952 676500",
			nationalTail[0], nationalTail[1],
		}},
		{"staffordshire", []string{
			nationalLines[0], nationalLines[1],
			"Local support, 24h: 0300 303 3778",
			nationalTail[0], nationalTail[1],
			"Men's line, free, weekdays: 0808 801 0327",
		}},
		{"herefordshire", []string{
			nationalLines[0], nationalLines[1],
			"Local support, free, 24h: 0800 783 1359",
			nationalTail[0], nationalTail[1],
			"Men's line, free, weekdays: 0808 801 0327",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.area, func(t *testing.T) {
			got := d.Numbers(tt.area, "en", officeClosed)
			if !slices.Equal(got, tt.want) {
				t.Errorf("numbers:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
	// Without office hours the directory orders as if closed.
	fsys := os.DirFS("default")
	bare, _ := flows.LoadDirectory(fsys, flows.AreasFile, flows.PostcodesFile)
	if got := bare.Numbers("staffordshire", "en", officeOpen); !slices.Equal(got, tests[1].want) {
		t.Errorf("without hours:\n%s", strings.Join(got, "\n"))
	}
}

// Officers see every service of an area, with where its number comes
// from and when it was checked.
func TestServicesForOfficers(t *testing.T) {
	d, _ := loadDefaultDirectory(t)
	var ids []string
	for _, s := range d.Services("telford_wrekin") {
		ids = append(ids, s.ID)
		if s.Source == "" || s.Verified.IsZero() || s.Name == "" || s.Hours == "" {
			t.Errorf("service %s lacks a name, hours, source or verified date", s.ID)
		}
	}
	want := []string{"emergency", "helpline", "wmwa_telford", "family_connect", "telford_out_of_hours",
		"police_101", "samaritans", "mens_advice_line", "galop", "karma_nirvana", "respect_phoneline", "landlord"}
	if !slices.Equal(ids, want) {
		t.Errorf("services %v, want %v", ids, want)
	}
	if d.Services("nowhere") != nil {
		t.Error("services for an unknown area")
	}
}

// One directory and one set of hours serve many conversations at once.
func TestDirectoryServesGoroutines(t *testing.T) {
	d, h := loadDefaultDirectory(t)
	done := make(chan bool)
	for i := range 8 {
		go func() {
			defer func() { done <- true }()
			now := officeOpen.Add(time.Duration(i) * 7 * time.Hour)
			for _, area := range d.IDs() {
				d.Numbers(area, "cy", now)
			}
			d.Locate("TF11 8AB")
			d.Locate("telford")
			h.Deadline(now)
			h.NextOpen(now)
		}()
	}
	for range 8 {
		<-done
	}
}
