package flowstest

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The settings every transcript is played with, whatever the channel, so
// that one golden holds for all of them.
const (
	// TranscriptAddress is the tenant's phone number.
	TranscriptAddress = "+447700900123"
	// TranscriptKey keys the conversation ids.
	TranscriptKey = "transcript-test-key-0123456789ab"
)

// TranscriptLoaded is the day the flows are loaded on for a transcript:
// the numbers' verified dates are checked against it.
var TranscriptLoaded = time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)

// London is Europe/London, the zone of a transcript's "now:".
var London = func() *time.Location {
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		panic(err)
	}
	return loc
}()

// TranscriptStart is the clock of a transcript's first line when the
// script sets none: Tuesday 1 December 2026, 10:00 in London.
var TranscriptStart = time.Date(2026, 12, 1, 10, 0, 0, 0, London)

// Transcript is a transcript's input (testdata/transcripts/*.txt): hints,
// and the tenant's messages each with the clock it is sent at.
type Transcript struct {
	// Lang and Area are the "lang:" and "area:" hints; empty when unset.
	Lang, Area string
	Turns      []Turn
}

// Turn is one tenant message of a transcript.
type Turn struct {
	Text string
	// At is the clock the message is sent at: a minute after the one
	// before it, or the time of a "now:" line before it.
	At time.Time
	// Set is true when a "now:" line between tenant messages set At; the
	// golden records it before the turn.
	Set bool
}

// ParseTranscript reads a transcript's input. Lines starting "#" are
// comments; "now: 2026-12-24T15:00" (Europe/London), "lang: cy" and
// "area: shropshire" set the clock and hints; "> text" is a tenant
// message, which moves the clock on a minute. A "now:" between messages
// sets the clock from the next one on. Errors name the line.
func ParseTranscript(r io.Reader) (Transcript, error) {
	var s Transcript
	now, set := TranscriptStart, false
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		key, value, _ := strings.Cut(line, ":")
		switch {
		case line == "" || strings.HasPrefix(line, "#"):
		case strings.HasPrefix(line, ">"):
			s.Turns = append(s.Turns, Turn{Text: strings.TrimPrefix(strings.TrimPrefix(line, ">"), " "), At: now, Set: set})
			now, set = now.Add(time.Minute), false
		case key == "now":
			at, err := time.ParseInLocation("2006-01-02T15:04", strings.TrimSpace(value), London)
			if err != nil {
				return Transcript{}, fmt.Errorf("line %d: %w", n, err)
			}
			now, set = at, len(s.Turns) > 0
		case key == "lang":
			s.Lang = strings.TrimSpace(value)
		case key == "area":
			s.Area = strings.TrimSpace(value)
		default:
			return Transcript{}, fmt.Errorf("line %d: want \"> text\", \"now:\", \"lang:\", \"area:\" or a # comment", n)
		}
	}
	return s, sc.Err()
}

// ReadTranscript reads the transcript input at path, failing the test if
// it cannot.
func ReadTranscript(t testing.TB, path string) Transcript {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := ParseTranscript(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

// GoldenTurn is one turn of a golden transcript (testdata/transcripts/
// *.golden): the tenant's message and what the engine answered.
type GoldenTurn struct {
	Text string
	// Now is the clock a "now:" line set before the turn, as written
	// ("2026-12-24T15:00"); empty when none did.
	Now string
	// Replies are the lines of the replies, in order, without "< ": a
	// reply of several lines is several (see ReplyLines).
	Replies []string
	// Events are the event lines, without "! ".
	Events []string
}

// ParseGolden reads a golden transcript: "> text" starts a turn, "< "
// lines are its replies, "! " lines its events, "now: …" sets the clock
// of the turn after it, and blank lines separate turns. Errors name the
// line.
func ParseGolden(r io.Reader) ([]GoldenTurn, error) {
	var turns []GoldenTurn
	now := ""
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		prefix, rest := line, ""
		if len(line) >= 1 {
			prefix, rest = line[:1], strings.TrimPrefix(line[1:], " ")
		}
		switch {
		case line == "":
		case prefix == ">":
			turns = append(turns, GoldenTurn{Text: rest, Now: now})
			now = ""
		case strings.HasPrefix(line, "now: "):
			now = strings.TrimPrefix(line, "now: ")
		case (prefix == "<" || prefix == "!") && len(turns) == 0:
			return nil, fmt.Errorf("line %d: %q before the first \"> \" line", n, prefix)
		case prefix == "<":
			turns[len(turns)-1].Replies = append(turns[len(turns)-1].Replies, rest)
		case prefix == "!":
			turns[len(turns)-1].Events = append(turns[len(turns)-1].Events, rest)
		default:
			return nil, fmt.Errorf("line %d: want \"> \", \"< \", \"! \", \"now: \" or a blank line", n)
		}
	}
	return turns, sc.Err()
}

// Golden reads the golden transcript at path. A missing golden fails the
// test: `go test ./flows -run TestTranscripts -update` writes it.
func Golden(t testing.TB, path string) []GoldenTurn {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("%v (go test ./flows -run TestTranscripts -update writes it)", err)
	}
	defer f.Close()
	turns, err := ParseGolden(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return turns
}

// ReplyLines splits replies into lines as a golden holds them, so that a
// channel's messages compare with GoldenTurn.Replies.
func ReplyLines(replies ...string) []string {
	var out []string
	for _, r := range replies {
		out = append(out, strings.Split(r, "\n")...)
	}
	return out
}

// Clock is a clock a test sets, safe for concurrent use: give Now to the
// engine and to the store.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// TranscriptCase is one transcript with its golden, for a channel's test
// to play.
type TranscriptCase struct {
	Name   string // the file's name without .txt
	Path   string // the .txt file
	Script Transcript
	Golden []GoldenTurn
}

// Transcripts reads every *.txt transcript in dir with its .golden, and
// fails the test when there is none or a golden has not a turn for each
// line of its script.
func Transcripts(t testing.TB, dir string) []TranscriptCase {
	t.Helper()
	inputs, err := filepath.Glob(filepath.Join(dir, "*.txt"))
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no transcripts in %s: %v", dir, err)
	}
	var out []TranscriptCase
	for _, in := range inputs {
		c := TranscriptCase{Name: strings.TrimSuffix(filepath.Base(in), ".txt"), Path: in, Script: ReadTranscript(t, in)}
		c.Golden = Golden(t, strings.TrimSuffix(in, ".txt")+".golden")
		if len(c.Golden) != len(c.Script.Turns) {
			t.Fatalf("%s: the golden has %d turns for %d lines", in, len(c.Golden), len(c.Script.Turns))
		}
		out = append(out, c)
	}
	return out
}
