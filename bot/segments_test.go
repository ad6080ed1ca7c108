package bot

import (
	"strings"
	"testing"
	"unicode/utf16"
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

// segmentsByAlphabet is Segments as first written, from the alphabet
// strings alone.
func segmentsByAlphabet(text string) (int, bool) {
	gsm := true
	for _, r := range text {
		if !strings.ContainsRune(gsmBasic, r) && !strings.ContainsRune(gsmExtended, r) {
			gsm = false
		}
	}
	var units, single, part int
	if gsm {
		single, part = gsmSingle, gsmPart
		for _, r := range text {
			units++
			if strings.ContainsRune(gsmExtended, r) {
				units++
			}
		}
	} else {
		single, part = ucsSingle, ucsPart
		units = len(utf16.Encode([]rune(text)))
	}
	switch {
	case units == 0:
		return 0, gsm
	case units <= single:
		return 1, gsm
	}
	return (units + part - 1) / part, gsm
}

func FuzzSegments(f *testing.F) {
	for _, s := range []string{"", "abc", "€[]", "it’s", "😀", "\xff", "ffôn", "a\x00b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		n, gsm := Segments(text)
		wn, wgsm := segmentsByAlphabet(text)
		if n != wn || gsm != wgsm || GSM7(text) != wgsm {
			t.Errorf("Segments(%q) = %d, %v; want %d, %v", text, n, gsm, wn, wgsm)
		}
	})
}
