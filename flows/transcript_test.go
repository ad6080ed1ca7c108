package flows_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"safecontact/bot"
	"safecontact/bot/memstore"
	"safecontact/flows"
)

var update = flag.Bool("update", false, "rewrite the transcript goldens in testdata/transcripts")

// script is a transcript's input: settings, then the tenant's lines.
type script struct {
	now   time.Time
	lang  string
	area  string
	lines []string
	// at maps a line's index to the clock set by a "now:" before it.
	at map[int]time.Time
}

// readScript reads a .txt transcript input. Lines starting "# " are
// comments; "now: 2026-12-24T15:00", "lang: cy" and "area: shropshire"
// set the turn's clock and hints; "> text" is a tenant message (each moves
// the clock on a minute). A "now:" between tenant lines sets the clock for
// the lines after it.
func readScript(t *testing.T, path string) script {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	s := script{now: time.Date(2026, 12, 1, 10, 0, 0, 0, loc), at: map[int]time.Time{}}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		key, value, _ := strings.Cut(line, ":")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ">"):
			s.lines = append(s.lines, strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "))
		case key == "now":
			at, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(value), loc)
			if err != nil {
				t.Fatalf("%s:%d: %v", path, n, err)
			}
			if len(s.lines) == 0 {
				s.now = at
			} else {
				s.at[len(s.lines)] = at
			}
		case key == "lang":
			s.lang = strings.TrimSpace(value)
		case key == "area":
			s.area = strings.TrimSpace(value)
		default:
			t.Fatalf("%s:%d: want \"> text\", \"now:\", \"lang:\", \"area:\" or a # comment", path, n)
		}
	}
	return s
}

// play runs a script through an engine on the default flows and writes the
// transcript: tenant lines, replies, and events.
func play(t *testing.T, bundle *flows.Bundle, s script) string {
	t.Helper()
	now := s.now
	clock := func() time.Time { return now }
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: memstore.New(clock), Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte("transcript-test-key-0123456789ab")), Now: clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for i, line := range s.lines {
		if at, ok := s.at[i]; ok {
			now = at
			fmt.Fprintf(&b, "now: %s\n\n", at.Format("2006-01-02T15:04"))
		}
		res, err := eng.Handle(context.Background(), bot.Inbound{
			Channel: bot.ChannelSMS, Address: "+447700900123", MessageID: fmt.Sprintf("SM%d", i),
			Text: line, Lang: s.lang, Area: s.area,
		})
		if err != nil {
			t.Fatalf("turn %d (%q): %v", i+1, line, err)
		}
		fmt.Fprintf(&b, "> %s\n", line)
		for _, r := range res.Replies {
			fmt.Fprintf(&b, "< %s\n", strings.ReplaceAll(r.Text, "\n", "\n< "))
		}
		for _, ev := range res.Events {
			b.WriteString(describe(ev, bundle.Hours.Location()))
		}
		b.WriteString("\n")
		now = now.Add(time.Minute)
	}
	return b.String()
}

func describe(ev bot.Event, loc *time.Location) string {
	switch ev.Kind {
	case bot.EventHandoff:
		h := ev.Handoff
		var b strings.Builder
		fmt.Fprintf(&b, "! handoff reason=%s priority=%s area=%s lang=%s deadline=%s\n",
			h.Reason, h.Priority, h.Area, h.Lang, h.Deadline.In(loc).Format("2006-01-02T15:04"))
		for _, l := range h.Summary {
			fmt.Fprintf(&b, "!   %s: %s\n", l.Label, l.Value)
			if l.Action != "" {
				fmt.Fprintf(&b, "!     officer to do: %s\n", l.Action)
			}
		}
		return b.String()
	case bot.EventTenantMessage:
		return fmt.Sprintf("! %s %q\n", ev.Kind, ev.Text)
	}
	return fmt.Sprintf("! %s priority=%s\n", ev.Kind, ev.Priority)
}

// TestTranscripts plays each testdata/transcripts/*.txt and compares the
// result with the .golden beside it. A missing golden fails; -update
// writes it.
func TestTranscripts(t *testing.T) {
	bundle, problems := flows.Load("", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	inputs, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(inputs) == 0 {
		t.Fatal("no transcripts in testdata/transcripts")
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".txt")
		t.Run(name, func(t *testing.T) {
			got := play(t, bundle, readScript(t, in))
			golden := strings.TrimSuffix(in, ".txt") + ".golden"
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./flows -update to write it, then read it)", err)
			}
			if got != string(want) {
				t.Errorf("transcript differs from %s (go test ./flows -update rewrites it):\n%s", golden, diff(string(want), got))
			}
		})
	}
}

// diff shows the first lines where two transcripts part.
func diff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(w) || i < len(g); i++ {
		var wl, gl string
		if i < len(w) {
			wl = w[i]
		}
		if i < len(g) {
			gl = g[i]
		}
		if wl != gl {
			return fmt.Sprintf("line %d:\nwant: %s\ngot:  %s", i+1, wl, gl)
		}
	}
	return ""
}
