package bot

import (
	"errors"
	"sync"
	"testing"
)

// testDanger is a small lexicon in the syntax of danger.yaml.
func testDanger(t testing.TB) *DangerLexicon {
	t.Helper()
	d, err := NewDangerLexicon(map[string]DangerWords{
		"en": {
			Shorthand: []DangerShorthand{{From: "hes", To: "he is"}, {From: "wont", To: "will not"}, {From: "nife", To: "knife"}, {From: "kil", To: "kill"}},
			NotDanger: []DangerPhrase{{Text: "kill time"}, {Text: "not in danger"}, {Text: "is not here"}},
			Phrases: []DangerPhrase{
				{Category: "weapon", Text: "knife/knives"},
				{Category: "threat", Text: "kill/killed"},
				{Category: "strangling", Text: "strangl*"},
				{Category: "at_door", Text: "he/she is here"},
				{Category: "at_door", Text: "at_the_door"},
				{Category: "kept_in", Text: "not let me leave"},
				{Category: "fear", Text: "danger"},
			},
		},
		"cy": {
			Welsh:     true,
			NotDanger: []DangerPhrase{{Text: "wn i ddim"}},
			Phrases: []DangerPhrase{
				{Category: "weapon", Text: "cyllell"},
				{Category: "weapon", Text: "=gwn"},
				{Category: "violence", Text: "taro fi"},
				{Category: "fear", Text: "perygl"},
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestDangerMatch(t *testing.T) {
	d := testDanger(t)
	tests := []struct {
		label, text, want string
	}{
		{"one word", "he has a knife", "weapon"},
		{"shorthand", "hes got a nife", "weapon"},
		{"case and punctuation", "HE'S GOT A KNIFE!!!", "weapon"},
		{"repeated letters", "he'll kiiilll me", "threat"},
		{"stem", "he strangled me", "strangling"},
		{"gap", "he is back here", "at_door"},
		{"gap too wide", "he said that the man is here", ""},
		{"curly apostrophe", "he’s here", "at_door"},
		{"adjacent", "someone at the door", "at_door"},
		{"adjacent words", "at the door now", "at_door"},
		{"adjacent broken", "at the front door", ""},
		{"negation removed", "I'm not in danger", ""},
		{"negation keeps the rest", "I'm not in danger but he has a knife", "weapon"},
		{"not danger", "just killing time, kill time", ""},
		{"shorthand then phrase", "he wont let me leave", "kept_in"},
		{"he is not here", "he is not here", ""},
		{"Welsh", "mae ganddo gyllell", "weapon"},
		{"Welsh nasal", "fy nghyllell", "weapon"},
		{"Welsh aspirate and soft", "wedi daro fi", "violence"},
		{"Welsh accents", "mewn pérygl", "fear"},
		{"Welsh no mutation", "wn i ddim", ""},
		{"Welsh exact", "mae gwn ganddo", "weapon"},
		{"Welsh apostrophe", "mae e'n taro'r fi", "violence"},
		{"Welsh doubles kept", "my lad is here", ""},
		{"ordinary", "yes", ""},
		{"empty", "", ""},
		{"only punctuation", "?!", ""},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := d.Match(tt.text)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("Match = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
}

func TestDangerNilMatchesNothing(t *testing.T) {
	var d *DangerLexicon
	if c, ok := d.Match("he has a knife"); ok || c != "" {
		t.Errorf("nil lexicon matched: %q", c)
	}
}

func TestDangerErrors(t *testing.T) {
	_, err := NewDangerLexicon(map[string]DangerWords{"en": {
		Shorthand: []DangerShorthand{{From: "hes", To: "he is", Line: 2}, {From: "two words", To: "x", Line: 3}},
		Phrases: []DangerPhrase{
			{Category: "a", Text: "kn*", Line: 4},
			{Category: "a", Text: "he//she", Line: 5},
			{Category: "a", Text: "hes here", Line: 6},
			{Category: "a", Text: "a b c d e f g h i", Line: 7},
			{Category: "a", Text: "k*ife", Line: 8},
			{Text: "knife", Line: 9},
		},
	}})
	var errs DangerErrors
	if !errors.As(err, &errs) {
		t.Fatalf("err = %v, want DangerErrors", err)
	}
	var lines []int
	for _, e := range errs {
		lines = append(lines, e.Line)
	}
	want := []int{3, 4, 5, 6, 7, 8, 9}
	if len(lines) != len(want) {
		t.Fatalf("errors on lines %v, want %v:\n%v", lines, want, err)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("errors on lines %v, want %v:\n%v", lines, want, err)
			break
		}
	}
}

func TestDangerConcurrent(t *testing.T) {
	d := testDanger(t)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				if c, _ := d.Match("hes got a nife"); c != "weapon" {
					t.Errorf("got %q", c)
					return
				}
				if _, ok := d.Match("he is not here"); ok {
					t.Error("matched an ordinary message")
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestFoldText(t *testing.T) {
	for in, want := range map[string]string{
		"He’s BACK!!":      "hes back",
		"  Yes, please! ":  "yes please",
		"Mae'n ŵyr i â ŷd": "maen wyr i a yd",
		"999":              "999",
	} {
		if got := FoldText(in); got != want {
			t.Errorf("FoldText(%q) = %q, want %q", in, got, want)
		}
	}
}

// benchMessages mixes ordinary answers with crisis messages, short and
// long, English and Welsh.
var benchMessages = []string{
	"yes", "n", "TF1 2AB", "a woman please", "call me after 6 but no voicemail",
	"police know, log 4471", "the back door lock is broken",
	"he's back, I'm scared", "hes got a nife", "she says she'll hurt me tonight",
	"mae e'n bygwth fy lladd", "dim diolch",
	"he's been drinking all day and he's started throwing things at me and the kids are upstairs crying and i dont know what to do please can someone ring me back",
	"I'm not in danger but he has a knife",
}

func BenchmarkDangerMatch(b *testing.B) {
	d := testDanger(b)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		d.Match(benchMessages[i%len(benchMessages)])
		i++
	}
}

func FuzzDangerMatch(f *testing.F) {
	for _, m := range benchMessages {
		f.Add(m)
	}
	f.Add("ŵŷâ’'`´ʼ\u0301\u0000\xff")
	d := testDanger(f)
	f.Fuzz(func(t *testing.T, s string) {
		d.Match(s)
		FoldText(s)
	})
}
