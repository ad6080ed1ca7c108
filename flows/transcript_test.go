package flows_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/flows/flowstest"
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

// readScript reads a .txt transcript input (see flowstest.ParseTranscript
// for its lines).
func readScript(t *testing.T, path string) script {
	t.Helper()
	in := flowstest.ReadTranscript(t, path)
	s := script{now: flowstest.TranscriptStart, lang: in.Lang, area: in.Area, at: map[int]time.Time{}}
	for i, turn := range in.Turns {
		switch {
		case i == 0:
			s.now = turn.At
		case turn.Set:
			s.at[i] = turn.At
		}
		s.lines = append(s.lines, turn.Text)
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
		Keyer: bot.NewKeyer([]byte(flowstest.TranscriptKey)), Now: clock,
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
			Channel: bot.ChannelSMS, Address: flowstest.TranscriptAddress, MessageID: fmt.Sprintf("SM%d", i),
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
	bundle, problems := flows.Load("", flowstest.TranscriptLoaded)
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
