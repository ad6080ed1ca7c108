package bot

import (
	"strings"
	"testing"
	"unicode"
)

func TestLockScreenWord(t *testing.T) {
	tests := []struct {
		label, text string
		extra       []string
		word        string
	}{
		{"plain", "Is it safe to message now?", nil, ""},
		{"abuse", "Report abuse here", nil, "abus"},
		{"capitals", "DOMESTIC help", nil, "domestic"},
		{"within a word does not count", "disabuse", nil, ""},
		{"past 60 characters does not count", strings.Repeat("a ", 31) + "abuse", nil, ""},
		{"starting at 59, running past 60", "Hi, it's Sam from the housing team. I can ring you at 3 re abuse support.", nil, "abus"},
		{"starting at 55, running past 60", strings.Repeat("x", 54) + " domestic", nil, "domestic"},
		{"a long extra word starting at 59", strings.Repeat("x", 58) + " safe homes team of the borough council of telford", []string{"safe homes team of the borough council of telford"}, "safe homes team of the borough council of telford"},
		{"team name", "Your Safe Homes Team will call", []string{"safe homes team"}, "safe homes team"},
		{"Welsh", "Cam-drin yn y cartref", nil, "cam-drin"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if w, _ := LockScreenWord(tc.text, tc.extra...); w != tc.word {
				t.Errorf("LockScreenWord(%q) = %q, want %q", tc.text, w, tc.word)
			}
		})
	}
}

func TestDiscreet(t *testing.T) {
	got := Discreet("You said: he abuses me. Violence: yes. " + strings.Repeat(".", 30) + " abuse")
	want := "You said: he a***es me. V*****ce: yes. " + strings.Repeat(".", 30) + " abuse"
	if got != want {
		t.Errorf("Discreet =\n%q\nwant\n%q", got, want)
	}
}

func FuzzDiscreet(f *testing.F) {
	for _, s := range []string{"abuse", "domestic violence refuge", "ABUSÉ", "a b u s e", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d := Discreet(s, "team")
		if w, at := LockScreenWord(d, "team"); w != "" {
			t.Errorf("Discreet(%q) = %q still shows %q at %d", s, d, w, at)
		}
		if len([]rune(d)) != len([]rune(s)) {
			t.Errorf("Discreet changed the length of %q", s)
		}
	})
}

// lockScreenWordByString is LockScreenWord written plainly: every
// position in the head, the whole rest of the text as a string, every
// word lowered again. The matcher must find what it finds, at the same
// offset.
func lockScreenWordByString(text string, extra ...string) (string, int) {
	all := []rune(text)
	lower := make([]rune, len(all))
	for i, r := range all {
		lower[i] = unicode.ToLower(r)
	}
	words := append(append([]string(nil), LockScreenWords...), extra...)
	for i := range min(len(lower), LockScreenChars) {
		if i > 0 && (unicode.IsLetter(lower[i-1]) || unicode.IsDigit(lower[i-1])) {
			continue
		}
		rest := string(lower[i:])
		for _, w := range words {
			w = strings.ToLower(w)
			if w != "" && strings.HasPrefix(rest, w) {
				return w, i
			}
		}
	}
	return "", -1
}

func FuzzLockScreenWord(f *testing.F) {
	for _, s := range []string{"abuse", "Report ABUSE", "disabuse", "x\xffabuse", "ÀBUS rape", "cam-drin", "Safe Homes Team", ""} {
		f.Add(s, "safe homes team")
	}
	f.Fuzz(func(t *testing.T, text, extra string) {
		w, at := LockScreenWord(text, extra)
		ww, wat := lockScreenWordByString(text, extra)
		if w != ww || at != wat {
			t.Errorf("LockScreenWord(%q, %q) = %q at %d, want %q at %d", text, extra, w, at, ww, wat)
		}
	})
}
