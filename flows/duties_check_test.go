package flows

import (
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/safecontact/safecontact/bot"
)

// loadTestDuties loads duties.yaml from dir over the embedded defaults,
// checked against the default intake.
func loadTestDuties(t *testing.T, dir string) Problems {
	t.Helper()
	fsys := overlay{dir: os.DirFS(dir), base: Defaults()}
	fl, problems := loadFlow(fsys, testMenu)
	if len(problems) > 0 {
		t.Fatalf("the default flow has problems:\n%v", problems)
	}
	_, problems = LoadDuties(fsys, DutiesFile, fl)
	return problems
}

func TestDefaultDutiesHaveNoProblems(t *testing.T) {
	if problems := loadTestDuties(t, t.TempDir()); len(problems) > 0 {
		t.Errorf("the embedded duties have problems:\n%v", problems)
	}
}

// TestBrokenDuties loads each testdata/broken/duties_*/duties.yaml over
// the default flow and checks it reports exactly the problems in the
// want.txt beside it.
func TestBrokenDuties(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken", "duties_*"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 20 {
		t.Fatalf("found %d broken duties files, want one per rule", len(dirs))
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
			for _, p := range loadTestDuties(t, dir) {
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

// TestDutiesSharedLabel checks a rule about an option whose label another
// option of its step shares: the case summary could not tell them apart.
// The default intake has no such step, so the flow is built here.
func TestDutiesSharedLabel(t *testing.T) {
	fl := &bot.Flow{Languages: []string{"en"}, Steps: []*bot.Step{{
		ID: "children", Kind: bot.KindChoice, Label: bot.Text{"en": "Children"},
		Options: []*bot.Option{
			{ID: "yes", Label: bot.Text{"en": "Yes"}},
			{ID: "some", Label: bot.Text{"en": "Yes"}},
			{ID: "no"},
		},
	}}}
	p := &problems{file: DutiesFile}
	ds := readDuties(p, []byte(`version: 1
duties:
  - {id: a, title: A, source: s, due: {working: 1d}, when: {step: children, option: "yes"}}
  - {id: b, title: B, source: s, due: {working: 1d}, when: {step: children, option: "no"}}
`))
	checkDuties(p, ds, fl)
	var got []string
	for _, pr := range p.list {
		got = append(got, pr.String())
	}
	want := []string{
		`duties.yaml:3: duty a: when: step children: options yes and some share the label "Yes", so the case cannot tell them apart`,
		`duties.yaml:4: duty b: when: step children: option no has no en label, which the case shows: give it one in intake.yaml`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// FuzzDuties reads arbitrary duties files against the default intake:
// whatever the bytes, reading reports problems and never panics, and a
// file with no problems gives duties with an id, a title and a source.
func FuzzDuties(f *testing.F) {
	data, err := fs.ReadFile(Defaults(), DutiesFile)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	dirs, _ := filepath.Glob(filepath.Join("testdata", "broken", "duties_*", DutiesFile))
	for _, file := range dirs {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	fl, ps := loadFlow(Defaults(), testMenu)
	if len(ps) > 0 {
		f.Fatal(ps)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &problems{file: DutiesFile}
		ds := readDuties(p, data)
		checkDuties(p, ds, fl)
		if len(p.list) > 0 {
			return
		}
		for _, d := range ds {
			if d.ID == "" || d.Title == "" || d.Source == "" || len(d.When) == 0 {
				t.Errorf("a duty with no problems lacks an id, title, source or when: %+v", d)
			}
		}
	})
}
