package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/flows/flowstest"
)

// loadDefaultBundle loads the embedded flow files, failing on any error.
func loadDefaultBundle(t testing.TB) *flows.Bundle {
	t.Helper()
	b, problems := flows.Load("", flowstest.TranscriptLoaded)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows:\n%v", errs)
	}
	return b
}

// ids returns the duties' ids, in order.
func ids(ds []*flows.Duty) []string {
	out := []string{}
	for _, d := range ds {
		out = append(out, d.ID)
	}
	return out
}

func TestDefaultDuties(t *testing.T) {
	b := loadDefaultBundle(t)
	want := []string{"dash", "marac", "children_referral", "security_repairs", "adult_referral", "flag_address", "perpetrator_caution", "closure"}
	if got := ids(b.Duties); !slices.Equal(got, want) {
		t.Fatalf("duties = %v, want %v", got, want)
	}
	for _, d := range b.Duties {
		if d.Title == "" || d.Detail == "" || d.Source == "" {
			t.Errorf("duty %s: want a title, a detail and a source", d.ID)
		}
		if (d.Due.Kind == flows.DueNone) != d.Reminder {
			t.Errorf("duty %s: due %q, reminder %v: want a due exactly when it is not a reminder", d.ID, d.Due.Kind, d.Reminder)
		}
	}
	if d := b.Duty("dash"); d == nil || d.Records != flows.RecordScore {
		t.Errorf("Duty(dash) = %+v, want a duty that records a score", d)
	}
	if d := b.Duty("nothere"); d != nil {
		t.Errorf("Duty(nothere) = %+v, want nil", d)
	}
	if d := b.RepairsDuty(); d == nil || d.ID != "security_repairs" {
		t.Errorf("RepairsDuty() = %+v, want security_repairs", d)
	}
	if got, want := ids(b.OfficerDuties()), []string{"children_referral", "security_repairs", "adult_referral"}; !slices.Equal(got, want) {
		t.Errorf("OfficerDuties() = %v, want %v", got, want)
	}
}

// always are the default duties every case calls for.
var always = []string{"dash", "flag_address", "perpetrator_caution", "closure"}

func TestDutiesFor(t *testing.T) {
	t.Parallel()
	b := loadDefaultBundle(t)
	line := func(step, value string) bot.SummaryLine {
		return bot.SummaryLine{Step: step, Label: step, Value: value}
	}
	tests := []struct {
		label   string
		summary []bot.SummaryLine
		want    []string
	}{
		{"no answers", nil, always},
		{"children yes", []bot.SummaryLine{line("children", "Yes")},
			[]string{"dash", "children_referral", "flag_address", "perpetrator_caution", "closure"}},
		{"children yes, in Welsh", []bot.SummaryLine{line("children", "Oes")},
			[]string{"dash", "children_referral", "flag_address", "perpetrator_caution", "closure"}},
		{"children no", []bot.SummaryLine{line("children", "No")}, always},
		{"children skipped", []bot.SummaryLine{line("children", bot.Skipped)}, always},
		// "Yes" is the label of the yes option of lives_with too: only
		// the children step's line counts.
		{"yes at another step", []bot.SummaryLine{line("lives_with", "Yes"), line("home_safe", "Yes")}, always},
		{"security answered", []bot.SummaryLine{line("security", "the back door lock is broken")},
			[]string{"dash", "security_repairs", "flag_address", "perpetrator_caution", "closure"}},
		{"security no", []bot.SummaryLine{line("security", "Nothing")}, always},
		{"security no, in Welsh", []bot.SummaryLine{line("security", "Dim byd")}, always},
		{"security skipped", []bot.SummaryLine{line("security", bot.Skipped)}, always},
		{"security empty", []bot.SummaryLine{line("security", "")}, always},
		{"both", []bot.SummaryLine{line("children", "Yes"), line("security", "Window smashed"), line("contact", "text only")},
			[]string{"dash", "children_referral", "security_repairs", "flag_address", "perpetrator_caution", "closure"}},
		{"words of danger and signposts are not answers", []bot.SummaryLine{
			{Step: bot.SummarySaid, Label: "Tenant wrote", Value: "he has a knife"},
			{Step: bot.SummarySignposted, Label: "Signposted", Value: "Men's Advice Line"},
		}, always},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := ids(b.DutiesFor(tt.summary)); !slices.Equal(got, tt.want) {
				t.Errorf("DutiesFor = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestDutiesForHandoff plays whole intakes through the engine and checks
// the duties its case summary calls for: the summary carries the option
// labels DutiesFor matches.
func TestDutiesForHandoff(t *testing.T) {
	t.Parallel()
	b := loadDefaultBundle(t)
	tests := []struct {
		label string
		lang  string
		lines []string
		want  []string
	}{
		{"children and a broken lock", "en",
			[]string{"Hi", "Y", "no", "TF11 8AB", "1", "1", "yes", "yes", "Log 1234", "yeah", "The back door lock is broken", "no", "1", "yes", "Text only", "1"},
			[]string{"dash", "children_referral", "security_repairs", "flag_address", "perpetrator_caution", "closure"}},
		{"no children, nothing to secure", "en",
			[]string{"Hi", "Y", "no", "TF11 8AB", "1", "1", "no", "no", "n", "yes", "n", "no", "3", "yes", "Text only", "1"},
			always},
		{"children and security skipped", "en",
			[]string{"Hi", "Y", "no", "TF11 8AB", "1", "1", "no", "skip", "n", "yes", "skip", "no", "3", "yes", "Text only", "1"},
			always},
		{"in Welsh", "cy",
			[]string{"Helo", "IE", "na", "TF11 8AB", "1", "1", "ie", "oes", "na", "ie", "Mae'r clo wedi torri", "na", "1", "ie", "Neges yn unig", "1"},
			[]string{"dash", "children_referral", "security_repairs", "flag_address", "perpetrator_caution", "closure"}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			now := flowstest.TranscriptStart
			clock := func() time.Time { return now }
			eng, err := bot.New(bot.Config{
				Flow: b.Flow, Store: memstore.New(clock), Directory: b.Directory, Hours: b.Hours,
				Keyer: bot.NewKeyer([]byte(flowstest.TranscriptKey)), Now: clock,
			})
			if err != nil {
				t.Fatal(err)
			}
			var handoff *bot.Handoff
			for i, text := range tt.lines {
				res, err := eng.Handle(context.Background(), bot.Inbound{
					Channel: bot.ChannelSMS, Address: flowstest.TranscriptAddress, MessageID: fmt.Sprintf("SM%d", i),
					Text: text, Lang: tt.lang,
				})
				if err != nil {
					t.Fatalf("turn %d: %v", i+1, err)
				}
				for _, ev := range res.Events {
					if ev.Kind == bot.EventHandoff {
						handoff = ev.Handoff
					}
				}
				now = now.Add(time.Minute)
			}
			if handoff == nil {
				t.Fatal("no handoff")
			}
			if got := ids(b.DutiesFor(handoff.Summary)); !slices.Equal(got, tt.want) {
				t.Errorf("DutiesFor = %v, want %v\nsummary: %+v", got, tt.want, handoff.Summary)
			}
		})
	}
}

func TestFollowUps(t *testing.T) {
	t.Parallel()
	b := loadDefaultBundle(t)
	tests := []struct {
		label     string
		after     string
		score     int
		judgement bool
		want      []string
	}{
		{"13 ticks", "dash", 13, false, []string{}},
		{"no ticks", "dash", 0, false, []string{}},
		{"14 ticks", "dash", 14, false, []string{"marac"}},
		{"every tick", "dash", flows.MaxScore, false, []string{"marac"}},
		{"3 ticks with professional judgement", "dash", 3, true, []string{"marac"}},
		{"14 ticks with professional judgement", "dash", 14, true, []string{"marac"}},
		{"a duty that records no score", "flag_address", 20, true, []string{}},
		{"an unknown duty", "nothere", 20, true, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := ids(b.FollowUps(tt.after, tt.score, tt.judgement)); !slices.Equal(got, tt.want) {
				t.Errorf("FollowUps(%q, %d, %v) = %v, want %v", tt.after, tt.score, tt.judgement, got, tt.want)
			}
		})
	}
}

func TestDueAt(t *testing.T) {
	t.Parallel()
	h := loadDefaultHours(t)
	working := func(days int, d time.Duration) flows.Due {
		return flows.Due{Kind: flows.DueWorking, Days: days, Length: d}
	}
	clock := func(d time.Duration) flows.Due { return flows.Due{Kind: flows.DueClock, Length: d} }
	endOfDay := flows.Due{Kind: flows.DueEndOfDay}
	// 27 Nov 2026 is a Friday; 30 Nov the Monday after.
	tests := []struct {
		label string
		due   flows.Due
		from  time.Time
		want  time.Time
	}{
		{"same day, Friday 16:30", endOfDay, at(2026, 11, 27, 16, 30), at(2026, 11, 27, 17, 0)},
		{"same day, Friday 20:00", endOfDay, at(2026, 11, 27, 20, 0), at(2026, 11, 30, 17, 0)},
		{"same day, Friday at closing", endOfDay, at(2026, 11, 27, 17, 0), at(2026, 11, 30, 17, 0)},
		{"same day, Tuesday before opening", endOfDay, at(2026, 11, 24, 7, 0), at(2026, 11, 24, 17, 0)},
		{"same day, Saturday", endOfDay, at(2026, 11, 28, 11, 0), at(2026, 11, 30, 17, 0)},
		// 25 Dec is a Friday, 28 Dec the substitute Boxing Day.
		{"same day, Christmas Eve evening", endOfDay, at(2026, 12, 24, 18, 0), at(2026, 12, 29, 17, 0)},
		{"24h on the clock, Friday 20:00", clock(24 * time.Hour), at(2026, 11, 27, 20, 0), at(2026, 11, 28, 20, 0)},
		{"24h on the clock, Friday 16:30", clock(24 * time.Hour), at(2026, 11, 27, 16, 30), at(2026, 11, 28, 16, 30)},
		// Clocks go back an hour on 25 Oct 2026: 24 hours later is an
		// hour earlier on the wall.
		{"24h on the clock, over the clocks going back", clock(24 * time.Hour), at(2026, 10, 24, 20, 0), at(2026, 10, 25, 19, 0)},
		{"1 working day, over a weekend", working(1, 0), at(2026, 11, 27, 10, 0), at(2026, 11, 30, 10, 0)},
		{"1 working day, Friday 20:00", working(1, 0), at(2026, 11, 27, 20, 0), at(2026, 11, 30, 17, 0)},
		{"1 working day, midweek", working(1, 0), at(2026, 11, 24, 10, 0), at(2026, 11, 25, 10, 0)},
		{"2 working days, Thursday", working(2, 0), at(2026, 11, 26, 10, 0), at(2026, 11, 30, 10, 0)},
		{"4 working hours, Friday 15:00", working(0, 4*time.Hour), at(2026, 11, 27, 15, 0), at(2026, 11, 30, 11, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			if got := tt.due.At(tt.from, h); !got.Equal(tt.want) {
				t.Errorf("%v from %s: got %s, want %s", tt.due, tt.from.Format(time.RFC1123), got.In(london).Format(time.RFC1123), tt.want.Format(time.RFC1123))
			}
		})
	}
	for _, d := range []flows.Due{{Kind: flows.DueBeforeClosing}, {Kind: flows.DueNone}} {
		if got := d.At(at(2026, 11, 27, 10, 0), h); !got.IsZero() {
			t.Errorf("%q: At = %v, want the zero time", d.Kind, got)
		}
	}
}

// TestDefaultDutiesDue checks each default duty's deadline for a case
// that arrives at 16:30 on a Friday.
func TestDefaultDutiesDue(t *testing.T) {
	t.Parallel()
	b := loadDefaultBundle(t)
	from := at(2026, 11, 27, 16, 30)
	want := map[string]time.Time{
		"dash":                at(2026, 11, 30, 16, 30),
		"marac":               at(2026, 11, 30, 16, 30),
		"children_referral":   at(2026, 11, 27, 17, 0),
		"security_repairs":    at(2026, 11, 28, 16, 30),
		"adult_referral":      at(2026, 11, 30, 16, 30),
		"flag_address":        at(2026, 11, 30, 16, 30),
		"perpetrator_caution": {},
		"closure":             {},
	}
	for _, d := range b.Duties {
		if got := d.Due.At(from, b.Hours); !got.Equal(want[d.ID]) {
			t.Errorf("%s (%v): due %v, want %v", d.ID, d.Due, got.In(london), want[d.ID])
		}
	}
}

func TestDueString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		due  flows.Due
		want string
	}{
		{flows.Due{Kind: flows.DueWorking, Days: 1}, "1 working day"},
		{flows.Due{Kind: flows.DueWorking, Days: 2}, "2 working days"},
		{flows.Due{Kind: flows.DueWorking, Length: 4 * time.Hour}, "4 working hours"},
		{flows.Due{Kind: flows.DueWorking, Length: 30 * time.Minute}, "30 working minutes"},
		{flows.Due{Kind: flows.DueClock, Length: 24 * time.Hour}, "24 hours"},
		{flows.Due{Kind: flows.DueClock, Length: time.Hour}, "1 hour"},
		{flows.Due{Kind: flows.DueEndOfDay}, "by the end of the working day"},
		{flows.Due{Kind: flows.DueBeforeClosing}, "before the case is closed"},
		{flows.Due{}, ""},
	}
	for _, tt := range tests {
		if got := tt.due.String(); got != tt.want {
			t.Errorf("%+v: String() = %q, want %q", tt.due, got, tt.want)
		}
	}
}

func ExampleDue_At() {
	b, _ := flows.Load("", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	london := b.Hours.Location()
	friday := time.Date(2026, 11, 27, 16, 30, 0, 0, london)
	for _, id := range []string{"children_referral", "security_repairs", "dash"} {
		d := b.Duty(id)
		fmt.Printf("%s (%v): %s\n", d.Title, d.Due, d.Due.At(friday, b.Hours).Format("Mon 2 Jan 15:04"))
	}
	// Output:
	// Children's safeguarding referral (by the end of the working day): Fri 27 Nov 17:00
	// Security repairs request (24 hours): Sat 28 Nov 16:30
	// DASH risk assessment (1 working day): Mon 30 Nov 16:30
}

// TestLoadNamesDutiesFile checks that Load checks duties.yaml from an
// override folder, and names the file with its folder.
func TestLoadNamesDutiesFile(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("testdata", "broken", "duties_no_source")
	_, problems := flows.Load(dir, flowstest.TranscriptLoaded)
	want := filepath.Join(dir, "duties.yaml") + `:4: duty flag: no source: name the policy and section it comes from, like "seed 001 §3.0 6"`
	if errs := problems.Errors(); len(errs) != 1 || errs[0].String() != want {
		t.Errorf("errors:\n%v\nwant:\n%s", errs, want)
	}
}
