package bot

import (
	"fmt"
	"strings"
	"testing"
)

func ExampleNormalize() {
	fmt.Println(Normalize("  He’s HERE!! "))
	fmt.Println(Normalize("Yes, please."))
	fmt.Println(Normalize("nôl"))
	// Output:
	// hes here
	// yes please
	// nôl
}

func TestMatchOption(t *testing.T) {
	yes := &Option{ID: "yes", Means: "yes"}
	no := &Option{ID: "no", Means: "no"}
	f := &Flow{
		Steps: []*Step{{ID: "q", Options: []*Option{yes, no}}},
		Words: map[string]*Words{"en": {Sets: map[string][]string{
			"yes": {"y", "yes", "yeah"},
			"no":  {"n", "no", "no thanks"},
		}}},
	}
	lx := compileLexicon(f)
	opts := []*Option{yes, no}
	tests := []struct {
		label, text string
		exactOnly   bool
		want        int
	}{
		{"number 1", "1", false, 0},
		{"number 2", "2", false, 1},
		{"number out of range", "3", false, -1},
		{"word", "yeah", false, 0},
		{"phrase", "no thanks", false, 1},
		{"leading word", "yes please", false, 0},
		{"leading word, exact only", "yes please", true, -1},
		{"number, exact only", "1", true, -1},
		{"word, exact only", "n", true, 1},
		{"nothing", "maybe", false, -1},
		{"empty", "", false, -1},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			if got := lx.matchOption(opts, Normalize(tc.text), tc.exactOnly); got != tc.want {
				t.Errorf("matchOption(%q) = %d, want %d", tc.text, got, tc.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"He's here", "  X ", "nôl", "999!!!", "\x00\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := Normalize(s)
		if Normalize(n) != n {
			t.Errorf("Normalize is not idempotent on %q: %q then %q", s, n, Normalize(n))
		}
		if len(n) > 0 && (n[0] == ' ' || n[len(n)-1] == ' ') {
			t.Errorf("Normalize(%q) = %q has outer space", s, n)
		}
	})
}

// FuzzWithin holds within to its definition: the phrase, padded with
// spaces, in the text padded with spaces.
func FuzzWithin(f *testing.F) {
	for _, s := range [][2]string{{"he hits me", "hits"}, {"hits", "hits"}, {"he hitsme", "hits"}, {"a a a", "a a"}, {"", "x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, text, phrase string) {
		text, phrase = Normalize(text), Normalize(phrase)
		if phrase == "" {
			return
		}
		want := strings.Contains(" "+text+" ", " "+phrase+" ")
		if got := newWordSet([]string{phrase}).within(text); got != want {
			t.Errorf("within(%q, %q) = %v, want %v", text, phrase, got, want)
		}
	})
}
