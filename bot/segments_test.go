package bot

import (
	"strings"
	"testing"
)

func TestSegments(t *testing.T) {
	tests := []struct {
		label string
		text  string
		n     int
		gsm   bool
	}{
		{"empty", "", 0, true},
		{"one GSM segment", strings.Repeat("a", 160), 1, true},
		{"two GSM segments", strings.Repeat("a", 161), 2, true},
		{"two GSM segments, full", strings.Repeat("a", 306), 2, true},
		{"three GSM segments", strings.Repeat("a", 307), 3, true},
		{"extended characters count twice", strings.Repeat("€", 80), 1, true},
		{"extended characters over the edge", strings.Repeat("€", 81), 2, true},
		{"curly apostrophe makes UCS-2", "it’s" + strings.Repeat("a", 66), 1, false},
		{"UCS-2 two segments", "’" + strings.Repeat("a", 133), 2, false},
		{"UCS-2 three segments", "’" + strings.Repeat("a", 134), 3, false},
		{"Welsh circumflex is not GSM-7", "ffôn", 1, false},
		{"emoji takes two UTF-16 units", strings.Repeat("😀", 35), 1, false},
		{"emoji over the edge", strings.Repeat("😀", 36), 2, false},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			n, gsm := Segments(tc.text)
			if n != tc.n || gsm != tc.gsm {
				t.Errorf("Segments = %d, gsm %v; want %d, gsm %v", n, gsm, tc.n, tc.gsm)
			}
		})
	}
}
