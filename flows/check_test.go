package flows

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// testMenu stands in for the directory's area menu in {areas}.
func testMenu(string) string {
	return "1 Telford & Wrekin, 2 Shropshire, 3 Staffordshire, 4 Herefordshire, 5 Somewhere else"
}

// loadTestFlow loads the flow files in dir over the embedded defaults.
func loadTestFlow(t *testing.T, dir string) Problems {
	t.Helper()
	_, problems := loadFlow(overlay{dir: os.DirFS(dir), base: Defaults()}, testMenu)
	return problems
}

func TestDefaultFlowHasNoProblems(t *testing.T) {
	_, problems := loadFlow(Defaults(), testMenu)
	if len(problems) > 0 {
		t.Errorf("the embedded flow has problems:\n%v", problems)
	}
}

func TestMinimalFlowHasNoProblems(t *testing.T) {
	if problems := loadTestFlow(t, filepath.Join("testdata", "minimal")); len(problems) > 0 {
		t.Errorf("testdata/minimal has problems:\n%v", problems)
	}
}

// TestBrokenFlows loads each testdata/broken/<rule>/intake.yaml and checks
// it reports exactly the problems in the want.txt beside it.
func TestBrokenFlows(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join("testdata", "broken", "*", "intake.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 15 {
		t.Fatalf("found %d broken flows, want one per rule", len(dirs))
	}
	for _, file := range dirs {
		dir := filepath.Dir(file)
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
