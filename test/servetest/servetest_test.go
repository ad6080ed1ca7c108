package servetest

import (
	"os"
	"strings"
	"testing"
)

func TestProblemsAreTheLastWarningsAndErrors(t *testing.T) {
	var b Buffer
	b.Write([]byte(`time=1 level=INFO msg="queue: case new"
time=2 level=WARN msg="redis: retrying"
{"time":"3","level":"ERROR","msg":"slack: post failed"}
time=4 level=INFO msg="shutting down"
time=5 level=ERROR msg="outbox: given up"
`))
	got := b.Problems(2)
	want := "(1 earlier warnings and errors left out)\n" +
		`{"time":"3","level":"ERROR","msg":"slack: post failed"}` + "\n" +
		`time=5 level=ERROR msg="outbox: given up"` + "\n"
	if got != want {
		t.Errorf("Problems(2) =\n%s\nwant\n%s", got, want)
	}
	var quiet Buffer
	quiet.Write([]byte("time=1 level=INFO msg=ready\n"))
	if got := quiet.Problems(2); got != "(none)" {
		t.Errorf("Problems of a log with no warnings = %q, want (none)", got)
	}
}

func TestSaveKeepsTheWholeLog(t *testing.T) {
	var b Buffer
	log := strings.Repeat("time=1 level=INFO msg=turn\n", 1000)
	b.Write([]byte(log))
	path, err := b.Save("safecontact-servetest-*.log")
	if err != nil {
		t.Fatal(err)
	}
	defer os.Remove(path)
	saved, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(saved) != log {
		t.Errorf("saved %d bytes, want the %d logged", len(saved), len(log))
	}
}
