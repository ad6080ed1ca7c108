package failover_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/safecontact/safecontact/test/servetest"
)

// The tenants' scripts: the short path to the handoff (docs/conversation.md)
// and one that stops at the choice, which opens no case.
var (
	toHandoff = []string{"hi", "y", "n", "2", "2", "text only, no calls", "1"}
	noHandoff = []string{"hi", "y", "n", "2"}
)

// The load and what the test allows of the failover.
const (
	// workers is how many tenants text at once, each waiting for the
	// answer and then think before the next text, as a phone does.
	workers, think = 32, 20 * time.Millisecond
	// numbers is how many tenants can start a conversation: more than
	// the load reaches.
	numbers = 4000
	// before and after are how long the load runs before the primary is
	// killed, and after the Sentinels name the new one.
	before, after = 2 * time.Second, 2 * time.Second
	// resendAfter is how soon a tenant who got the fallback (or no
	// answer) sends the same words again, as a new text.
	resendAfter = 200 * time.Millisecond
	// giveUp is how long one text is resent before the test stops trying.
	giveUp = 60 * time.Second
	// switchGrace is how long after the Sentinels name the new primary a
	// serve process may still answer a new text with the fallback: it
	// finds the new primary when it next connects, and go-redis spaces
	// its attempts to connect after failures (up to 0.9 s measured).
	switchGrace = 2 * time.Second
	// lossWindow is the claim the test checks about what a failover
	// loses (README.md, "Redis"): replication is asynchronous, so a turn
	// the old primary acknowledged but had not yet sent to the replica
	// is lost. That can only be a turn it acknowledged just before it
	// died; the tenant has the answer a moment later, once serve has
	// written it. Only turns answered this close to the kill may be lost.
	lossWindow = time.Second
)

// TestTextsThroughAFailover texts many conversations at once to two
// serve processes, several of them to the handoff, kills the Redis
// primary with SIGKILL in the middle, keeps texting while Sentinel
// promotes the replica and after, and resends every text that got the
// fallback, as a tenant would. Then:
//
//   - every text was answered in the end, and no request failed outright:
//     a turn that could not be saved got the fallback reply;
//   - the fallback came only to requests during the failover;
//   - no turn was applied twice: each conversation's transcript holds
//     each text once, at the step the script says, and its version is
//     its number of turns (under go-redis's three tries, a text in
//     flight at the kill, answered with the fallback and sent again, may
//     be applied twice, as README.md says; it is counted);
//   - every conversation whose handoff is in its transcript is in the
//     officer queue exactly once (`safecontact queue` too), queued and
//     never reopened, and no other has a case;
//   - a turn lost with the old primary (acknowledged but not yet
//     replicated) was answered within lossWindow of the kill.
//
// It does so twice: with go-redis's own three tries set in REDIS_URL, and
// with safecontact's default retries (package redisconn), under which a
// turn waits for the new primary rather than answer with the fallback.
func TestTextsThroughAFailover(t *testing.T) {
	set := theSentinelSet(t)
	bin := servetest.Build(t)
	refs := references(t, toHandoff, noHandoff)
	for _, m := range []mode{
		{name: "three tries", query: "&" + threeTries},
		{name: "retrying through the failover", waits: true},
	} {
		t.Run(m.name, func(t *testing.T) { throughAFailover(t, set, bin, refs, m) })
	}
}

// threeTries is go-redis's own retrying, which gives up on a command after
// three tries (about a second), set in REDIS_URL's query. By default
// safecontact retries until the turn's 5 s budget is spent
// (package redisconn).
const threeTries = "max_retries=3&max_retry_backoff=512ms"

// mode is how the serve processes reach Redis.
type mode struct {
	name string
	// query is added to REDIS_URL.
	query string
	// waits is set when a turn waits for the new primary, within its
	// budget, rather than answer with the fallback at once.
	waits bool
}

// fallbackAllowed reports whether a request sent and answered then may
// have got the fallback: it was sent during the failover, from the kill
// until the serve processes reach the new primary, and answered after the
// kill.
func fallbackAllowed(f *figures, sent, answered time.Time) bool {
	return !answered.Before(f.killedAt) && !sent.After(f.switchedAt.Add(switchGrace))
}

func throughAFailover(t *testing.T, set *sentinelSet, bin string, refs map[int]*reference, m mode) {
	set.waitHealthy(t)
	ctx := context.Background()
	env := []string{"REDIS_URL=" + os.Getenv("REDIS_URL") + m.query}
	serves := []*servetest.Process{startServe(t, bin, env...), startServe(t, bin, env...)}
	st := openState(t)
	l := &load{serves: serves, client: &http.Client{Timeout: 15 * time.Second}, refs: refs, numbers: make(chan string, numbers)}
	for _, from := range freshNumbers(t, st, numbers) {
		l.numbers <- from
	}
	close(l.numbers)

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() { l.tenant(st) })
	}
	stop := func() {
		l.stop.Store(true)
		wg.Wait()
	}
	began := time.Now()
	time.Sleep(before)
	old, err := set.primary(ctx)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	behind := set.replicaBehind(ctx, old)
	killed, err := set.kill(ctx, old)
	killedAt := time.Now()
	if err != nil {
		stop()
		t.Fatalf("killing the primary %s: %v", old, err)
	}
	promoted, switchedAt, err := waitForNewPrimary(set, old)
	if err != nil {
		stop()
		t.Fatal(err)
	}
	time.Sleep(after)
	stop()
	ended := time.Now()
	// Once every check has run, the killed node comes back as a replica,
	// so that the set can lose its primary again.
	t.Cleanup(func() {
		ft, err := set.failoverTimeout(ctx)
		if err != nil {
			t.Error(err)
			return
		}
		time.Sleep(time.Until(switchedAt.Add(2 * ft)))
		set.restart(t, killed, promoted)
	})

	f := &figures{began: began, killedAt: killedAt, switchedAt: switchedAt, ended: ended, behind: behind}
	checkAnswers(t, m, l.convs, f)
	handedOff := checkTranscripts(t, st, m, l.convs, f)
	checkQueue(t, st, bin, l.convs, handedOff, f)
	t.Log(f)
	if t.Failed() {
		for _, s := range serves {
			path, err := s.Stdout.Save("safecontact-serve-cards-*.txt")
			t.Logf("serve's cards: saved in %s (%v)", path, err)
		}
	}
}

// waitForNewPrimary waits until the Sentinels all name a primary other
// than old, and returns it and when they did.
func waitForNewPrimary(set *sentinelSet, old string) (string, time.Time, error) {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		addr, err := set.primary(ctx)
		cancel()
		if err == nil && addr != old {
			return addr, time.Now(), nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return "", time.Time{}, fmt.Errorf("the Sentinels did not promote a replica within 60 s of killing %s", old)
}

// figures are what the test measured, for its log.
type figures struct {
	began, killedAt, switchedAt, ended time.Time
	// firstAfter is the first real answer to a text sent after the
	// kill; lastFallback the last fallback answer.
	firstAfter, lastFallback time.Time
	// behind is how many bytes of replication the replica lacked just
	// before the kill.
	behind                            int64
	conversations, handoffs, requests int
	fallbacks, lost                   int
	// twice counts the texts applied twice after a lost answer, allowed
	// only under go-redis's three tries.
	twice int
	// waited counts the texts sent during the failover and answered for
	// real once it was over; spanning the conversations with texts
	// answered both before the kill and after the promotion.
	waited, spanning int
}

func (f *figures) String() string {
	rel := func(t time.Time) string { return t.Sub(f.killedAt).Round(time.Millisecond).String() }
	last := "none"
	if !f.lastFallback.IsZero() {
		last = "+" + rel(f.lastFallback)
	}
	return fmt.Sprintf("%d conversations (%d handed off, %d across the failover), %d requests in %s (%.0f a second); "+
		"replica %d bytes behind at the kill; promoted at +%s; first answer to a text sent after the kill at +%s; "+
		"%d texts waited through the failover; %d fallback replies, the last at %s; %d acknowledged turns lost; %d texts applied twice after a lost answer",
		f.conversations, f.handoffs, f.spanning, f.requests, f.ended.Sub(f.began).Round(time.Millisecond),
		float64(f.requests)/f.ended.Sub(f.began).Seconds(), f.behind, rel(f.switchedAt), rel(f.firstAfter),
		f.waited, f.fallbacks, last, f.lost, f.twice)
}
