package failover_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/keys"
	"github.com/safecontact/safecontact/redisconn"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

// state reads what the serve processes keep in Redis, as they do.
type state struct {
	store *redisstore.Store
	queue *handoff.Queue
	keyer bot.Keyer
}

func openState(t *testing.T) *state {
	t.Helper()
	ctx := context.Background()
	rdb, err := redisconn.Open(ctx, os.Getenv("REDIS_MODE"), os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	k, err := keys.Open(ctx, rdb, keys.Masters{Current: masterKey}, keys.Prefix, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(k.Seal)
	if err != nil {
		t.Fatal(err)
	}
	bundle, problems := flows.Load("", time.Now())
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	return &state{
		store: redisstore.New(rdb, sealer, redisstore.Options{}),
		queue: handoff.New(rdb, sealer, bundle.Hours, nil, handoff.Options{}),
		keyer: bot.NewKeyer(k.ID),
	}
}

// fresh reports whether a number has never texted this Redis: no
// conversation, no case.
func (s *state) fresh(ctx context.Context, id bot.ConversationID) (bool, error) {
	c, _, err := s.store.Load(ctx, id)
	if err != nil || c != nil {
		return false, err
	}
	_, err = s.queue.Get(ctx, id)
	if errors.Is(err, handoff.ErrNoCase) {
		return true, nil
	}
	return false, err
}

// checkAnswers checks that every text was answered in the end, that no
// request failed outright, and that the fallback came only during the
// failover.
func checkAnswers(t *testing.T, m mode, convs []*conversation, f *figures) {
	t.Helper()
	f.conversations = len(convs)
	for _, c := range convs {
		before, afterSwitch := false, false
		for i, attempts := range c.turns {
			if c.diverged >= 0 && i > c.diverged {
				break
			}
			for _, a := range attempts {
				f.requests++
				switch {
				case a.err != nil || a.status != http.StatusOK:
					t.Errorf("%s text %d (%q) sent at %s: status %d, %v: serve must answer every text, with the fallback if need be",
						c.id, i+1, c.script[i], a.sent.Sub(f.killedAt), a.status, a.err)
				case a.fallback():
					f.fallbacks++
					if a.answered.After(f.lastFallback) {
						f.lastFallback = a.answered
					}
					if !fallbackAllowed(f, a.sent, a.answered) {
						t.Errorf("%s text %d (%q) got the fallback outside the failover: sent at %s, answered at %s (kill at 0, promotion at %s)",
							c.id, i+1, c.script[i], a.sent.Sub(f.killedAt), a.answered.Sub(f.killedAt), f.switchedAt.Sub(f.killedAt))
					}
				default:
					if a.sent.After(f.killedAt) && (f.firstAfter.IsZero() || a.answered.Before(f.firstAfter)) {
						f.firstAfter = a.answered
					}
					if a.sent.After(f.killedAt) && a.sent.Before(f.switchedAt) {
						f.waited++
					}
					before = before || a.answered.Before(f.killedAt)
					afterSwitch = afterSwitch || a.sent.After(f.switchedAt)
				}
			}
			if _, ok := c.answered(i); !ok {
				t.Errorf("%s text %d (%q) was never answered in %s of resending", c.id, i+1, c.script[i], giveUp)
			}
		}
		if before && afterSwitch {
			f.spanning++
		}
	}
	if !m.waits && f.fallbacks == 0 {
		t.Errorf("no text got the fallback, though turns do not wait for the new primary")
	}
	if m.waits && f.waited == 0 {
		t.Errorf("no text sent during the failover waited for the new primary")
	}
	if f.spanning == 0 {
		t.Errorf("no conversation was under way both before the kill and after the promotion")
	}
}

// checkTranscripts checks each conversation's transcript and version in
// Redis against its script: each text once, at its step. A conversation
// missing its last acknowledged turn is counted as lost when the tenant
// had its answer within lossWindow of the kill, and is an error
// otherwise. Under go-redis's three tries (m.waits unset), a text whose
// answer was lost with the old primary and which the tenant sent again
// after the fallback is applied twice, as README.md ("Redis") says: that
// is counted, and an error under safecontact's own retries. It returns
// the conversations that handed off, which must be in the officer queue.
func checkTranscripts(t *testing.T, st *state, m mode, convs []*conversation, f *figures) map[bot.ConversationID]bool {
	t.Helper()
	ctx := context.Background()
	handedOff := map[bot.ConversationID]bool{}
	for _, c := range convs {
		// The texts the tenant was answered, in order: the transcript
		// must hold each once, at the step the reference says.
		n := 0
		for i := range c.script {
			if _, ok := c.answered(i); !ok {
				break
			}
			n = i + 1
		}
		lines, err := st.store.Transcript(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		conv, version, err := st.store.Load(ctx, c.id)
		if err != nil {
			t.Fatal(err)
		}
		got := make([]bot.Line, len(lines))
		for i, l := range lines {
			got[i] = bot.Line{Step: l.Step, Text: l.Text}
		}
		want := c.ref.lines[:n]
		if c.diverged < 0 && slices.Equal(got, want) {
			if version != int64(n) {
				t.Errorf("%s: version %d after %d turns", c.id, version, n)
			}
			if c.handsOff() && n == len(c.script) {
				f.handoffs++
				handedOff[c.id] = true
				if conv == nil || conv.HandedOff.IsZero() {
					t.Errorf("%s: the transcript reached the handoff but the conversation is not handed off", c.id)
				}
			}
			continue
		}
		if k := appliedTwice(c, got, f); k >= 0 {
			if m.waits {
				t.Errorf("%s: text %d (%q) was applied, its answer lost, and applied again when sent again after the fallback\n%s",
					c.id, k+1, c.script[k], c.history(f.killedAt))
				continue
			}
			f.twice++
			// Whether the texts applied reached the handoff is the
			// conversation's own to say.
			handedOff[c.id] = conv != nil && !conv.HandedOff.IsZero()
			t.Logf("%s: text %d was applied with its answer lost, and again when sent again\n%s", c.id, k+1, c.history(f.killedAt))
			continue
		}
		// Not the script: the one explanation allowed is the loss of the
		// last turn acknowledged before the kill.
		k := lostTurn(c, got, n)
		if k < 0 {
			t.Errorf("%s: transcript is not the script's: a turn applied twice, or lost outside the failover\n got %v\nwant %v\n%s",
				c.id, got, want, c.history(f.killedAt))
			continue
		}
		at, _ := c.answered(k)
		if at.Before(f.killedAt.Add(-lossWindow)) || at.After(f.killedAt.Add(lossWindow)) {
			t.Errorf("%s: text %d (%q), answered at %s from the kill, is not in Redis: only turns answered within %s of the kill may be lost\n%s",
				c.id, k+1, c.script[k], at.Sub(f.killedAt), lossWindow, c.history(f.killedAt))
		}
		f.lost++
		t.Logf("%s: text %d was acknowledged and lost with the old primary\n%s", c.id, k+1, c.history(f.killedAt))
	}
	return handedOff
}

// appliedTwice returns the index of the text a conversation had applied
// twice when its transcript got shows a text applied with its answer
// lost and applied again when the tenant sent it again, and -1 otherwise.
// The text was in flight at the kill and got the fallback; sent again, it
// was read as the answer to the next question, whose answer was not the
// script's (it diverged there), and its line stands twice: at its own
// step and at the next.
func appliedTwice(c *conversation, got []bot.Line, f *figures) int {
	k := c.diverged
	if k < 0 || len(got) != k+2 || !slices.Equal(got[:k+1], c.ref.lines[:k+1]) || got[k+1].Text != c.script[k] {
		return -1
	}
	if k+1 < len(c.ref.lines) && got[k+1].Step != c.ref.lines[k+1].Step {
		return -1
	}
	for _, a := range c.turns[k] {
		if a.fallback() && !a.sent.After(f.killedAt) && !a.answered.Before(f.killedAt) {
			return k
		}
	}
	return -1
}

// lostTurn returns the index of the turn a conversation lost with the old
// primary when its transcript got (of its first n texts answered) shows
// the loss of one acknowledged turn, and -1 otherwise. A lost turn is the
// last one acknowledged before the kill: the tenant's next text waited
// for its answer, which came after the promotion. Either that text was
// the last (the transcript is one line short) or it was read against the
// state before the lost turn, so that its answer was not the script's
// (it diverged) and its line stands where the lost one should.
func lostTurn(c *conversation, got []bot.Line, n int) int {
	ref := c.ref.lines
	if c.diverged < 0 {
		if k := n - 1; k >= 0 && slices.Equal(got, ref[:k]) {
			return k
		}
		return -1
	}
	k := c.diverged - 1
	if k < 0 {
		return -1
	}
	want := append(slices.Clone(ref[:k]), bot.Line{Step: ref[k].Step, Text: c.script[c.diverged]})
	if slices.Equal(got, want) {
		return k
	}
	return -1
}

// checkQueue waits for the officer queue to take every handoff, then
// checks each conversation that handed off is in it exactly once, queued
// and never reopened, in `safecontact queue` too, and that no other
// conversation has a case.
func checkQueue(t *testing.T, st *state, bin string, convs []*conversation, handedOff map[bot.ConversationID]bool, f *figures) {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	for _, c := range convs {
		if !handedOff[c.id] {
			continue
		}
		for {
			_, err := st.queue.Get(ctx, c.id)
			if err == nil {
				break
			}
			if !errors.Is(err, handoff.ErrNoCase) || time.Now().After(deadline) {
				t.Fatalf("%s: handed off but not in the officer queue: %v\n%s", c.id, err, c.history(f.killedAt))
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	cases, err := st.queue.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	listed := map[bot.ConversationID]int{}
	for _, c := range cases {
		listed[c.ID]++
	}
	out, err := queueCommand(bin)
	if err != nil {
		t.Fatalf("safecontact queue: %v\n%s", err, out)
	}
	for _, c := range convs {
		cs, err := st.queue.Get(ctx, c.id)
		shown := strings.Count(out, "\n"+handoff.ShortRef(c.id)+" ")
		if !handedOff[c.id] {
			if !errors.Is(err, handoff.ErrNoCase) || listed[c.id] != 0 || shown != 0 {
				t.Errorf("%s did not hand off, yet has a case (%v), listed %d times, shown %d times by safecontact queue", c.id, err, listed[c.id], shown)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.id, err)
			continue
		}
		if listed[c.id] != 1 || shown != 1 {
			t.Errorf("%s: in the queue %d times, shown %d times by safecontact queue, want once", c.id, listed[c.id], shown)
		}
		if cs.State != handoff.StateQueued || cs.Reopened {
			t.Errorf("%s: case %s, reopened %v: want queued, opened once", c.id, cs.State, cs.Reopened)
		}
	}
}

// queueCommand runs `safecontact queue` as an officer would.
func queueCommand(bin string) (string, error) {
	cmd := exec.Command(bin, "queue")
	cmd.Env = append(os.Environ(), "SAFECONTACT_KEY="+masterKey)
	cmd.Stderr = io.Discard
	out, err := cmd.Output()
	return "\n" + string(out), err
}
