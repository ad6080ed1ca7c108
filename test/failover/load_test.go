package failover_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/test/servetest"
)

// attempt is one text sent to a serve process and what came back.
type attempt struct {
	sent, answered time.Time
	status         int // 0: no HTTP answer
	err            error
	messages       []string
}

func (a attempt) fallback() bool { return len(a.messages) == 1 && a.messages[0] == sms.Fallback }

// ok reports whether the tenant got a real answer.
func (a attempt) ok() bool { return a.err == nil && a.status == http.StatusOK && !a.fallback() }

// conversation is one tenant's texts and what each got.
type conversation struct {
	from   string
	id     bot.ConversationID
	script []string
	ref    *reference
	// turns holds each text's attempts; the text was answered when its
	// last attempt is ok.
	turns [][]attempt
	// diverged is the index of the first text whose answer was not the
	// script's, or -1.
	diverged int
}

func (c *conversation) handsOff() bool { return len(c.script) == len(toHandoff) }

// answered returns when text i got its real answer, or false.
func (c *conversation) answered(i int) (time.Time, bool) {
	if i >= len(c.turns) || len(c.turns[i]) == 0 {
		return time.Time{}, false
	}
	a := c.turns[i][len(c.turns[i])-1]
	return a.answered, a.ok()
}

// history is a conversation's attempts, timed from the kill, for a
// failure's message.
func (c *conversation) history(killedAt time.Time) string {
	var b strings.Builder
	for i, attempts := range c.turns {
		for _, a := range attempts {
			what := "answered"
			switch {
			case a.err != nil || a.status != http.StatusOK:
				what = fmt.Sprintf("failed (%d, %v)", a.status, a.err)
			case a.fallback():
				what = "fallback"
			}
			first := ""
			if len(a.messages) > 0 {
				first = start(a.messages[0])
			}
			fmt.Fprintf(&b, "  text %d %q: sent %s, %s %s: %q\n", i+1, c.script[i], a.sent.Sub(killedAt).Round(time.Millisecond),
				what, a.answered.Sub(killedAt).Round(time.Millisecond), first)
		}
	}
	return b.String()
}

// freshNumbers returns n numbers that have never texted this Redis,
// found ahead of the load: a test run again on the same set must not
// continue an old conversation.
func freshNumbers(t *testing.T, st *state, n int) []string {
	t.Helper()
	ctx := context.Background()
	var found atomic.Int64
	candidates := make(chan string)
	go func() {
		defer close(candidates)
		seen := map[string]bool{}
		for found.Load() < int64(n) && len(seen) < 3*n {
			from := fmt.Sprintf("+4477009%05d", rand.IntN(100_000))
			if !seen[from] {
				seen[from] = true
				candidates <- from
			}
		}
	}()
	var mu sync.Mutex
	var out []string
	var failed atomic.Pointer[error]
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for from := range candidates {
				ok, err := st.fresh(ctx, st.keyer.ID(bot.ChannelSMS, from))
				if err != nil {
					failed.Store(&err)
				}
				mu.Lock()
				if ok && len(out) < n {
					out = append(out, from)
					found.Add(1)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := failed.Load(); err != nil {
		t.Fatal(*err)
	}
	if len(out) < n {
		t.Fatalf("only %d numbers have not texted this Redis before; want %d", len(out), n)
	}
	return out
}

// load is the tenants texting.
type load struct {
	serves  []*servetest.Process
	client  *http.Client
	refs    map[int]*reference
	numbers chan string
	sent    atomic.Int64
	stop    atomic.Bool
	mu      sync.Mutex
	convs   []*conversation
}

// tenant starts conversations on fresh numbers, one after the other,
// until the load stops; one in three goes to the handoff.
func (l *load) tenant(st *state) {
	for !l.stop.Load() {
		from, ok := <-l.numbers
		if !ok {
			return
		}
		l.mu.Lock()
		script := noHandoff
		if len(l.convs)%3 == 0 {
			script = toHandoff
		}
		c := &conversation{from: from, id: st.keyer.ID(bot.ChannelSMS, from), script: script, ref: l.refs[len(script)]}
		l.convs = append(l.convs, c)
		l.mu.Unlock()
		l.run(c)
	}
}

// run texts one tenant's script, each text after the answer to the one
// before, resending a text that got the fallback or no answer. It stops
// at the first answer that is not the script's.
func (l *load) run(c *conversation) {
	c.turns = make([][]attempt, len(c.script))
	c.diverged = -1
	for i, body := range c.script {
		deadline := time.Now().Add(giveUp)
		for {
			srv := l.serves[int(l.sent.Add(1))%len(l.serves)]
			a := attempt{sent: time.Now()}
			a.status, a.messages, a.err = text(l.client, srv.Base, c.from, body, newSid())
			a.answered = time.Now()
			c.turns[i] = append(c.turns[i], a)
			if a.ok() || time.Now().After(deadline) {
				break
			}
			time.Sleep(resendAfter)
		}
		last := c.turns[i][len(c.turns[i])-1]
		if !last.ok() {
			return
		}
		if !c.ref.matches(i, last.messages) {
			c.diverged = i
			return
		}
		time.Sleep(think)
	}
}
