package handoff

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The limits of a case's thread lines waiting for the board. While the
// board keeps up, each line is a post of its own. When a case already
// has MergeAfter posts of thread lines waiting, a new line that names no
// officer joins the newest waiting post, while it holds less than
// MaxPostText bytes of sealed lines; a full post makes way for a new one,
// up to MaxLinePosts posts; past that, the newest post keeps its first
// lines (up to half of MaxPostText, and its first line whatever its
// size) and its latest, and counts the lines it leaves out between,
// which officers see as "… N more lines left out …". A post the board
// was asked for once is never added to: the board may have posted it as
// it was.
//
// So however many messages a tenant sends while Slack is slow or down, a
// case's waiting thread lines hold at most MaxLinePosts ×
// (MaxPostText + the post's fields, about 300 bytes) of Redis: 8 × 4.3
// KiB ≈ 35 KiB. Only a post's first line may be longer than MaxPostText:
// one message of Twilio's 1,600 characters sealed is 2.2 KiB in Latin
// script, 8.6 KiB at worst (4-byte characters). Each officer's action
// meanwhile adds a line of its own.
const (
	MergeAfter   = 4
	MaxLinePosts = 8
	// MaxPostText is in bytes of sealed text (base64), as Redis keeps
	// it: the words are about three quarters of it, 3,000 bytes less 29
	// a line, under the 4,000 characters Slack advises for a message.
	MaxPostText = 4096
)

// classSpan sets the job classes' scores apart (lua/helpers.lua,
// jobClass): a job's score is its class times classSpan plus its number.
// Job numbers stay below it for a thousand years at thirty jobs a
// second.
const classSpan = 1e12

// storedJob is a job as the queue keeps it, in the job hash (key job),
// JSON: lua/helpers.lua's enqueue writes it, lua/retry.lua counts its
// attempts. Every value is a string.
type storedJob struct {
	Kind     string `json:"k"`
	Case     string `json:"c"`
	Text     string `json:"t"` // sealed, base64; "" for none
	Alert    string `json:"a"`
	Officer  string `json:"o"`
	Tenant   string `json:"w"` // "1": the text holds the tenant's words
	Officer2 string `json:"o2"`
	Extra    string `json:"x"`
	Tries    string `json:"tries,omitempty"` // failed attempts
	At       string `json:"at,omitempty"`    // not before, ms
	// More are a coalesced post's lines after Text, sealed; Flags has
	// one character a line, Text's first: "1" the tenant's words, "0" a
	// note. Left lines were left out after the first LeftAfter.
	More      []string `json:"s,omitempty"`
	Flags     string   `json:"sw,omitempty"`
	Left      string   `json:"m,omitempty"`
	LeftAfter string   `json:"mi,omitempty"`
	// Tried is "1" once the worker took the job (lua/take.lua); Busy is
	// until when it may be at work on it (ms, Redis's clock).
	Tried string `json:"f,omitempty"`
	Busy  string `json:"b,omitempty"`
	// Err is the last error's class; LastTry, Dead and Queued are when
	// it was last tried, given up and queued (ms).
	Err     string `json:"e,omitempty"`
	LastTry string `json:"l,omitempty"`
	Dead    string `json:"d,omitempty"`
	Queued  string `json:"q,omitempty"`
}

// sealedLines is a post's lines as the job keeps them.
type sealedLines struct {
	lines           []string // sealed, base64
	left, leftAfter int
}

func (s storedJob) lines() sealedLines {
	out := sealedLines{}
	if s.Text != "" || len(s.More) > 0 {
		out.lines = append([]string{s.Text}, s.More...)
	}
	out.left, _ = strconv.Atoi(s.Left)
	out.leftAfter, _ = strconv.Atoi(s.LeftAfter)
	return out
}

// count is how many lines the post stands for, those left out included.
func (s sealedLines) count() int { return len(s.lines) + s.left }

// leftOut is the line that stands for the lines a post left out.
func leftOut(n int) string {
	if n == 1 {
		return "… 1 more line left out here: lines came faster than Slack took them …"
	}
	return fmt.Sprintf("… %d more lines left out here: lines came faster than Slack took them …", n)
}

// unseal opens a job's lines just before they are posted, so that a job
// kept waiting is not opened again every tick: one line each, in order,
// with the lines left out counted where they were.
func (q *Queue) unseal(j *job) error {
	if len(j.sealed.lines) == 0 {
		return nil
	}
	var b strings.Builder
	for i, l := range j.sealed.lines {
		if i > 0 {
			b.WriteByte('\n')
		}
		sealed, err := base64.StdEncoding.DecodeString(l)
		if err != nil {
			return fmt.Errorf("%w: job %s: %w", errUnreadable, j.n, err)
		}
		plain, err := q.sealer.Open(sealed, []byte(j.id))
		if err != nil {
			return fmt.Errorf("%w: job %s: %w", errUnreadable, j.n, err)
		}
		b.Write(plain)
		if j.sealed.left > 0 && i+1 == j.sealed.leftAfter {
			b.WriteString("\n" + leftOut(j.sealed.left))
		}
	}
	j.line.Text = b.String()
	return nil
}

// Error classes the job listing shows for errors that name none
// (Board).
const (
	classRateLimited = "rate-limited"
	classTimeout     = "timeout"
	classError       = "error"
)

// errClass is the class of a board's error, as a job keeps it: never the
// error's text, which may quote anything.
func errClass(err error) string {
	var c interface{ Class() string }
	var ra interface{ RetryAfter() time.Duration }
	switch {
	case errors.As(err, &c) && c.Class() != "":
		return c.Class()
	case errors.As(err, &ra):
		return classRateLimited
	case errors.Is(err, context.DeadlineExceeded):
		return classTimeout
	}
	return classError
}

// permanent reports whether the board refused the job for good: trying
// it again would fail the same way.
func permanent(err error) bool {
	var p interface{ Permanent() bool }
	return errors.As(err, &p) && p.Permanent()
}
