package flows_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
)

// pathCount is what one walk through the intake cost the tenant.
type pathCount struct {
	texts, replies, segments int
	handedOff                bool
}

// walk sends the lines as one tenant on a weekday morning and counts.
func walk(t *testing.T, bundle *flows.Bundle, lines []string) pathCount {
	t.Helper()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, bundle.Hours.Location())
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: memstore.New(func() time.Time { return now }), Directory: bundle.Directory,
		Hours: bundle.Hours, Keyer: bot.NewKeyer([]byte("paths-test-key-0123456789abcdefg")), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	var c pathCount
	for i, line := range lines {
		res, err := eng.Handle(context.Background(), bot.Inbound{Channel: bot.ChannelSMS, Address: "+447700900555", MessageID: fmt.Sprint("SM", i), Text: line})
		if err != nil {
			t.Fatal(err)
		}
		c.texts++
		for _, r := range res.Replies {
			n, _ := bot.Segments(r.Text)
			c.replies++
			c.segments += n
		}
		for _, ev := range res.Events {
			if ev.Kind == bot.EventHandoff && ev.Handoff.Reason != bot.ReasonDanger {
				c.handedOff = true
				if i != len(lines)-1 {
					t.Fatalf("handed off at text %d of %d", i+1, len(lines))
				}
			}
		}
	}
	return c
}

// TestPathLengths walks the short path (an officer to contact me) and the
// full path (every question answered) and reports what each costs; the
// short path reaches the handoff in at most seven texts, counting the
// first. docs/conversation.md records the figures.
func TestPathLengths(t *testing.T) {
	bundle, problems := flows.Load("", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	short := walk(t, bundle, []string{"hi", "y", "n", "TF1 1AA", "2", "text only, after 6pm", "1"})
	full := walk(t, bundle, []string{"hi", "y", "n", "TF1 1AA", "1", "1", "y", "y", "log 1234", "y",
		"the back door lock", "n", "1", "y", "text only, after 6pm", "1"})
	for name, c := range map[string]pathCount{"short": short, "full": full} {
		if !c.handedOff {
			t.Errorf("%s path: no handoff", name)
		}
		t.Logf("%s path: %d texts from the tenant, %d replies, %d SMS segments", name, c.texts, c.replies, c.segments)
	}
	if short.texts > 7 {
		t.Errorf("short path takes %d texts, want at most 7", short.texts)
	}
}

// TestReplyShape checks every turn of every golden transcript: each
// message fits two SMS segments, and a turn sends at most two messages,
// besides the support numbers, the summary a tenant checks, and the
// emergency reply in front of the open question.
func TestReplyShape(t *testing.T) {
	bundle, problems := flows.Load("", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	inputs, err := filepath.Glob(filepath.Join("testdata", "transcripts", "*.txt"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	emergency := map[string]bool{}
	for _, text := range bundle.Flow.Messages[bot.MsgEmergency] {
		emergency[text] = true
	}
	numbers := map[string]bool{}
	for _, text := range bundle.Flow.Messages["numbers"] {
		numbers[text] = true
	}
	summary := map[string]bool{}
	for _, text := range bundle.Flow.Messages[bot.MsgSummary] {
		summary[text] = true
	}
	for _, in := range inputs {
		s := readScript(t, in)
		turns := playTurns(t, bundle, s)
		for i, replies := range turns {
			count := 0
			for j, r := range replies {
				if n, _ := bot.Segments(r.Text); n > bot.MaxSegments {
					t.Errorf("%s: turn %d (%q): message %d takes %d segments:\n%s", in, i+1, s.lines[i], j+1, n, r.Text)
				}
				head, _, _ := strings.Cut(r.Text, "\n")
				switch {
				case emergency[r.Text], numbers[head], summary[head]:
				default:
					count++
				}
			}
			if count > 2 {
				t.Errorf("%s: turn %d (%q) sends %d messages besides numbers, summary and the emergency reply", in, i+1, s.lines[i], count)
			}
		}
	}
}

// playTurns plays a script and returns each turn's replies.
func playTurns(t *testing.T, bundle *flows.Bundle, s script) [][]bot.Reply {
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
	var out [][]bot.Reply
	for i, line := range s.lines {
		if at, ok := s.at[i]; ok {
			now = at
		}
		res, err := eng.Handle(context.Background(), bot.Inbound{
			Channel: bot.ChannelSMS, Address: "+447700900123", MessageID: fmt.Sprintf("SM%d", i),
			Text: line, Lang: s.lang, Area: s.area,
		})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, res.Replies)
		now = now.Add(time.Minute)
	}
	return out
}
