package flows

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// corpusLine is one message of testdata/crisis.
type corpusLine struct {
	file string
	line int
	step string
	text string
}

// Minimums of the crisis corpus, per file.
const (
	minCorpusLines = 220
	minCorpusLang  = 40
	// maxFalsePositive is the share of ordinary answers that may get the
	// emergency reply.
	maxFalsePositive = 0.05
)

// corpusSteps are the intake steps each line is labelled with.
var corpusSteps = []string{
	"first", "safe_to_talk", "danger", "area", "path", "who", "lives_with", "children",
	"reported", "home_safe", "security", "needs", "officer_pref", "contact", "consent",
	"confirm", "after_handoff", "after_end",
}

// readCorpus reads a "step | message" file of testdata/crisis.
func readCorpus(t testing.TB, name string) []corpusLine {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "crisis", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []corpusLine
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := sc.Text()
		if strings.TrimSpace(s) == "" || strings.HasPrefix(s, "#") {
			continue
		}
		step, text, ok := strings.Cut(s, "\t")
		if !ok {
			step, text, ok = strings.Cut(s, " | ")
		}
		step, text = strings.TrimSpace(step), strings.TrimSpace(text)
		if !ok || text == "" || !slices.Contains(corpusSteps, step) {
			t.Errorf("%s:%d: want \"step | message\" with a known step", name, n)
			continue
		}
		out = append(out, corpusLine{name, n, step, text})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// welshWords mark a corpus line as Welsh, for the per-language counts.
var welshWords = []string{
	"mae", "dw", "dwi", "ydw", "ydy", "nac", "helo", "diolch", "plis", "fi", "fy", "yn",
	"na", "ie", "oes", "naddo", "cewch", "dim", "menyw", "dyn", "cymraeg", "swyddog",
	"rhywun", "anfon", "newid", "ffoniwch", "helpwch", "argyfwng", "gyda", "eto", "iawn",
	"shwmae", "cymru", "powys", "wrecsam", "aberystwyth", "trallwng", "machynlleth",
	"ceredigion", "swydd", "weithiau", "bellach", "hoffwn", "golau", "angen", "tecst",
	"unrhyw", "pryd", "rhywle", "hwn", "ddim", "rwyn", "dwin", "maen",
	"anfonwch", "ffonia", "ateb", "hoffwn",
}

func lineLang(text string) string {
	for _, w := range strings.Fields(strings.ToLower(strings.NewReplacer("'", " ", "’", " ").Replace(text))) {
		if slices.Contains(welshWords, strings.Trim(w, ".,!?")) {
			return "cy"
		}
	}
	return "en"
}

// TestCrisisCorpus runs the default lexicon over testdata/crisis: every
// crisis message must match, and fewer than 5% of ordinary answers.
func TestCrisisCorpus(t *testing.T) {
	b, problems := Load("", time.Date(2026, 11, 2, 12, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flow files have errors:\n%v", errs)
	}
	lex := b.Flow.Danger
	if lex == nil {
		t.Fatal("the default flow has no danger lexicon")
	}
	danger := readCorpus(t, "danger.txt")
	ordinary := readCorpus(t, "ordinary.txt")

	steps := map[string]int{}
	for name, lines := range map[string][]corpusLine{"danger.txt": danger, "ordinary.txt": ordinary} {
		if len(lines) < minCorpusLines {
			t.Errorf("%s has %d messages, want %d or more", name, len(lines), minCorpusLines)
		}
		langs := map[string]int{}
		for _, l := range lines {
			langs[lineLang(l.text)]++
			steps[l.step]++
		}
		for _, lang := range []string{"en", "cy"} {
			if langs[lang] < minCorpusLang {
				t.Errorf("%s has %d %s messages, want %d or more", name, langs[lang], lang, minCorpusLang)
			}
		}
		t.Logf("%s: %d messages (en %d, cy %d)", name, len(lines), langs["en"], langs["cy"])
	}
	for _, s := range corpusSteps {
		if steps[s] == 0 {
			t.Errorf("no message in either file for step %s", s)
		}
	}

	var missed []string
	cats := map[string]int{}
	for _, l := range danger {
		c, ok := lex.Match(l.text)
		if !ok {
			missed = append(missed, fmt.Sprintf("%s:%d: %s | %s", l.file, l.line, l.step, l.text))
		}
		cats[c]++
	}
	recall := 1 - float64(len(missed))/float64(len(danger))
	t.Logf("recall: %d of %d crisis messages matched (%.1f%%)", len(danger)-len(missed), len(danger), 100*recall)
	names := make([]string, 0, len(cats))
	for c := range cats {
		names = append(names, c)
	}
	sort.Strings(names)
	for _, c := range names {
		t.Logf("  %-12s %d", c, cats[c])
	}
	if len(missed) > 0 {
		t.Errorf("%d crisis messages not matched:\n%s", len(missed), strings.Join(missed, "\n"))
	}

	var fps []string
	for _, l := range ordinary {
		if c, ok := lex.Match(l.text); ok {
			fps = append(fps, fmt.Sprintf("%s:%d: %s | %s (%s)", l.file, l.line, l.step, l.text, c))
		}
	}
	rate := float64(len(fps)) / float64(len(ordinary))
	t.Logf("false positives: %d of %d ordinary answers (%.1f%%)", len(fps), len(ordinary), 100*rate)
	for _, fp := range fps {
		t.Logf("  %s", fp)
	}
	if rate >= maxFalsePositive {
		t.Errorf("false-positive rate %.1f%%, want under %.0f%%", 100*rate, 100*maxFalsePositive)
	}
}

// TestDangerCoversWordsPhrases checks that every danger phrase of
// words.yaml is matched by the lexicon.
func TestDangerCoversWordsPhrases(t *testing.T) {
	fl, problems := loadFlow(Defaults(), testMenu)
	if len(problems) > 0 {
		t.Fatalf("problems:\n%v", problems)
	}
	for lang, w := range fl.Words {
		for _, phrase := range append(slices.Clone(w.DangerPhrases), w.Danger...) {
			if _, ok := fl.Danger.Match(phrase); !ok {
				t.Errorf("%s: %q is not matched by %s", lang, phrase, DangerFile)
			}
		}
	}
}

// TestBrokenDanger loads each testdata/broken/danger_*/danger.yaml over
// the default flow and checks it reports exactly the problems in the
// want.txt beside it.
func TestBrokenDanger(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken", "danger_*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 6 {
		t.Fatalf("found %d broken danger files, want one per rule", len(dirs))
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			wantData, err := os.ReadFile(filepath.Join(dir, "want.txt"))
			if err != nil {
				t.Fatal(err)
			}
			want := strings.Split(strings.TrimSpace(string(wantData)), "\n")
			var got []string
			for _, p := range loadTestFlow(t, dir) {
				got = append(got, p.String())
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// BenchmarkDangerMatchDefault runs the default lexicon over the crisis
// corpus, crisis and ordinary messages in turn.
func BenchmarkDangerMatchDefault(b *testing.B) {
	fl, problems := loadFlow(Defaults(), testMenu)
	if len(problems) > 0 {
		b.Fatal(problems)
	}
	var msgs []string
	for _, name := range []string{"danger.txt", "ordinary.txt"} {
		for _, l := range readCorpus(b, name) {
			msgs = append(msgs, l.text)
		}
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		fl.Danger.Match(msgs[i%len(msgs)])
		i++
	}
}
