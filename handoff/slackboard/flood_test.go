package slackboard_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
)

// queueMemory is the Redis memory of the queue's keys (MEMORY USAGE,
// every sample), in bytes.
func (e *env) queueMemory() int64 {
	e.t.Helper()
	var total int64
	for _, k := range storetest.Keys(e.t, e.rdb, e.prefix+"case:*") {
		n, err := e.rdb.MemoryUsage(context.Background(), k, 0).Result()
		require.NoError(e.t, err)
		total += n
	}
	return total
}

// floodBound is what one case's waiting thread lines may take in Redis
// (package handoff): MaxLinePosts posts of MaxPostText bytes of sealed
// lines, with a kilobyte a post for its fields and Redis's overheads.
const floodBound = handoff.MaxLinePosts * (handoff.MaxPostText + 1024)

var (
	floodLine = regexp.MustCompile(`Tenant: flood (\d{4})`)
	leftOut   = regexp.MustCompile(`… (\d+) more lines? left out`)
)

// posted returns the first chat.postMessage in the channel whose text
// holds what, and whether there is one.
func posted(api *slackfake.Server, channel, what string) (slackfake.Call, bool) {
	for _, c := range api.Calls("chat.postMessage") {
		if c.Channel() == channel && strings.Contains(c.Text(), what) {
			return c, true
		}
	}
	return slackfake.Call{}, false
}

// One handed-off tenant sends 2,000 texts, 20 a second, while Slack
// takes one post a second per channel. Half way, an urgent case opens in
// the same channel: its on-call alert and its card are posted within 5
// seconds. The flood's waiting posts stay within MaxLinePosts, and the
// queue's Redis within floodBound of what it was. Once Slack takes all
// again, every line is in a post, in order, and nothing is posted twice.
// The clock is the test's: the 100 seconds of the flood take a few of
// wall time.
func TestAFloodHoldsBackNoUrgentCase(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.api.RateLimit(time.Second, e.clock)
	floodCard := e.cardFor("flood-0001", "shropshire", bot.Standard)
	before := e.queueMemory()

	const tick = 250 * time.Millisecond
	var opened time.Time
	var card, alert slackfake.Call
	maxWaiting, maxGrown := 0, int64(0)
	for i := range 2000 {
		require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "flood-0001",
			Text: fmt.Sprintf("flood %04d", i), At: e.clock()}))
		if i%5 != 4 {
			continue
		}
		e.advance(tick)
		if i == 999 {
			e.handoff("urgent-0001", "shropshire", bot.Urgent)
			opened = e.clock()
		}
		e.step()
		if !opened.IsZero() && (card.TS == "" || alert.TS == "") {
			card, _ = posted(e.api, "C-SHROP", "Urgent case urgent-0")
			alert, _ = posted(e.api, "C-ONCALL", "URGENT case urgent-0")
		}
		jobs, err := e.queue.Jobs(ctx)
		require.NoError(t, err)
		waiting := 0
		for _, j := range jobs {
			if j.Conversation == "flood-0001" && j.Kind == handoff.JobThread {
				waiting++
			}
		}
		maxWaiting = max(maxWaiting, waiting)
		if i%100 == 99 {
			maxGrown = max(maxGrown, e.queueMemory()-before)
		}
	}
	require.NotEmpty(t, card.TS, "the urgent card was posted")
	require.NotEmpty(t, alert.TS, "on-call was alerted")
	t.Logf("urgent case: alert %s and card %s after it opened; at most %d posts of the flood waiting; Redis at most %d bytes over (bound %d)",
		alert.At.Sub(opened), card.At.Sub(opened), maxWaiting, maxGrown, floodBound)
	assert.LessOrEqual(t, alert.At.Sub(opened), 5*time.Second, "on-call alerted within 5 s")
	assert.LessOrEqual(t, card.At.Sub(opened), 5*time.Second, "the card posted within 5 s")
	assert.LessOrEqual(t, maxWaiting, handoff.MaxLinePosts)
	assert.Less(t, maxGrown, int64(floodBound))

	// Slack takes all again.
	e.api.RateLimit(0, nil)
	for range 10 {
		e.advance(time.Second)
		e.step()
	}
	var numbers []int
	left := 0
	for _, c := range e.api.Calls("chat.postMessage") {
		if c.ThreadTS() != floodCard {
			continue
		}
		for _, m := range floodLine.FindAllStringSubmatch(c.Text(), -1) {
			n, _ := strconv.Atoi(m[1])
			numbers = append(numbers, n)
		}
		for _, m := range leftOut.FindAllStringSubmatch(c.Text(), -1) {
			n, _ := strconv.Atoi(m[1])
			left += n
		}
	}
	assert.Zero(t, left, "no line left out while Slack took a post a second")
	require.Len(t, numbers, 2000, "every line in a post")
	for i, n := range numbers {
		require.Equal(t, i, n, "in order, none twice")
	}
	for what, channel := range map[string]string{"Standard case flood-00": "C-SHROP", "Urgent case urgent-0": "C-SHROP", "URGENT case urgent-0": "C-ONCALL"} {
		n := 0
		for _, c := range e.api.Calls("chat.postMessage") {
			if c.Channel() == channel && c.ThreadTS() == "" && strings.Contains(c.Text(), what) {
				n++
			}
		}
		assert.Equal(t, 1, n, "%s posted once", what)
	}
	jobs, err := e.queue.Jobs(ctx)
	require.NoError(t, err)
	assert.Empty(t, jobs, "nothing left waiting")
}
