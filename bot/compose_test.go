package bot

import (
	"testing"
	"time"
)

func TestFormatDeadline(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	cy := &Words{
		Days:   []string{"Sul", "Llun", "Maw", "Mer", "Iau", "Gwe", "Sad"},
		Months: []string{"Ion", "Chwef", "Maw", "Ebr", "Mai", "Meh", "Gorff", "Awst", "Medi", "Hyd", "Tach", "Rhag"},
		AM:     "yb", PM: "yh",
	}
	tests := []struct {
		label string
		at    time.Time
		words *Words
		want  string
	}{
		{"afternoon", time.Date(2026, 12, 29, 15, 0, 0, 0, london), nil, "Tue 29 Dec, 3pm"},
		{"minutes", time.Date(2026, 9, 7, 10, 30, 0, 0, london), nil, "Mon 7 Sep, 10:30am"},
		{"noon", time.Date(2026, 9, 7, 12, 0, 0, 0, london), nil, "Mon 7 Sep, 12pm"},
		{"midnight", time.Date(2026, 9, 7, 0, 5, 0, 0, london), nil, "Mon 7 Sep, 12:05am"},
		{"Welsh", time.Date(2026, 12, 29, 15, 0, 0, 0, london), cy, "Maw 29 Rhag, 3yh"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if got := FormatDeadline(tc.at, tc.words); got != tc.want {
				t.Errorf("FormatDeadline = %q, want %q", got, tc.want)
			}
		})
	}
}
