package handoff_test

import (
	"context"
	"errors"
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
)

// queueMemory is the Redis memory the test's keys use (MEMORY USAGE,
// every sample), in bytes.
func queueMemory(t *testing.T, f *fixture) int64 {
	t.Helper()
	var total int64
	for _, k := range storetest.Keys(t, f.rdb, f.prefix+"*") {
		n, err := f.rdb.MemoryUsage(context.Background(), k, 0).Result()
		require.NoError(t, err)
		total += n
	}
	return total
}

// floodBound is what a case's waiting thread lines may take in Redis,
// as the package says (MaxLinePosts posts of MaxPostText bytes of sealed
// lines, and about 300 bytes of each post's fields): with Redis's own
// overheads, a kilobyte a post.
const floodBound = handoff.MaxLinePosts * (handoff.MaxPostText + 1024)

var (
	floodLine = regexp.MustCompile(`Tenant: flood (\d{4})`)
	leftLine  = regexp.MustCompile(`… (\d+) more lines? left out here`)
)

// floodLines reads the flood's posts: the numbers of the lines posted,
// in the order they were, and how many lines were left out.
func floodLines(posts []string) (numbers []int, left int) {
	for _, p := range posts {
		for _, m := range floodLine.FindAllStringSubmatch(p, -1) {
			n, _ := strconv.Atoi(m[1])
			numbers = append(numbers, n)
		}
		for _, m := range leftLine.FindAllStringSubmatch(p, -1) {
			n, _ := strconv.Atoi(m[1])
			left += n
		}
	}
	return numbers, left
}

// A tenant sends 2,000 texts while Slack is down: the case's waiting
// posts stay within MaxLinePosts and the bound in Redis. When Slack is
// back, every line is in a post, as its words or counted among those
// left out, in order, none twice; the first lines and the newest are
// there in words.
func TestAFloodWhileSlackIsDownIsCoalescedAndBounded(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("flood-0001")
	f.handoff(t, q, string(id), bot.Standard)
	f.stepAt(t, q, handedOff)
	before := queueMemory(t, f)

	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "thread") {
			return errors.New("slack server error: 503 Service Unavailable")
		}
		return nil
	})
	for i := range 2000 {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: fmt.Sprintf("flood %04d", i)}))
		if i%100 == 99 {
			f.stepAt(t, q, handedOff.Add(time.Duration(i)*time.Second)) // the worker keeps trying
		}
	}
	jobs, err := q.Jobs(ctx)
	require.NoError(t, err)
	lines := 0
	for _, j := range jobs {
		require.Equal(t, handoff.JobThread, j.Kind)
		lines += j.Lines
	}
	assert.Len(t, jobs, handoff.MaxLinePosts, "the case's waiting posts")
	assert.Equal(t, 2000, lines, "every line is in a waiting post, in words or counted")
	grown := queueMemory(t, f) - before
	t.Logf("Redis: %d bytes for 2,000 texts waiting (bound %d)", grown, floodBound)
	assert.Less(t, grown, int64(floodBound))

	f.board.setFail(nil)
	for s := range 10 {
		f.stepAt(t, q, handedOff.Add(time.Hour+time.Duration(s)*time.Minute))
	}
	posts := grep(f.board.Posts(), "thread flood")
	numbers, left := floodLines(posts)
	assert.Len(t, posts, handoff.MaxLinePosts)
	assert.Equal(t, 2000, len(numbers)+left, "each line posted or counted")
	for i := 1; i < len(numbers); i++ {
		require.Less(t, numbers[i-1], numbers[i], "in order, none twice")
	}
	require.NotEmpty(t, numbers)
	assert.Equal(t, 0, numbers[0], "the first line")
	assert.Equal(t, 1999, numbers[len(numbers)-1], "the newest line")
	n, err := f.rdb.ZCard(ctx, f.key("jobs")).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left waiting")
}

// While Slack keeps up, each line is a post of its own; lines join a
// post only once MergeAfter posts of the case wait.
func TestLinesJoinAPostOnlyBehindABacklog(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("some-0001")
	f.handoff(t, q, string(id), bot.Standard)
	f.stepAt(t, q, handedOff)
	say := func(text string) {
		t.Helper()
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: text}))
	}
	say("one")
	f.stepAt(t, q, handedOff.Add(time.Second))
	f.board.setFail(func(what string) error {
		if strings.HasPrefix(what, "thread") {
			return errors.New("slack server error: 500")
		}
		return nil
	})
	for _, text := range []string{"two", "three", "four", "five", "six"} {
		say(text)
	}
	f.stepAt(t, q, handedOff.Add(2*time.Second)) // "two" is tried and fails
	for _, text := range []string{"seven", "eight"} {
		say(text)
	}
	f.board.setFail(nil)
	f.stepAt(t, q, handedOff.Add(time.Minute))
	assert.Equal(t, []string{
		"thread some-000 [tenant] Tenant: one",
		"thread some-000 [tenant] Tenant: two",
		"thread some-000 [tenant] Tenant: three",
		"thread some-000 [tenant] Tenant: four",
		"thread some-000 [tenant] Tenant: five\nTenant: six\nTenant: seven\nTenant: eight",
	}, grep(f.board.Posts(), "thread"))
}

// Notes about the case join a post of the tenant's lines in the order
// they came; an officer's action is a post of its own.
func TestNotesJoinInOrderAndOfficersActionsStandAlone(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("mixed-0001")
	f.handoff(t, q, string(id), bot.Standard)
	f.stepAt(t, q, handedOff)
	for i := range 5 {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: fmt.Sprintf("line %d", i)}))
	}
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventEmergency, Conversation: id, Priority: bot.Urgent}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "line 5"}))
	_, err := q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	_, err = q.ShowContact(ctx, id, "U-ALICE")
	require.NoError(t, err)
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: "line 6"}))
	f.stepAt(t, q, handedOff.Add(time.Second))
	assert.Equal(t, []string{
		"thread mixed-00 [tenant] Tenant: line 0",
		"thread mixed-00 [tenant] Tenant: line 1",
		"thread mixed-00 [tenant] Tenant: line 2",
		"thread mixed-00 [tenant] Tenant: line 3\nTenant: line 4\nTenant wrote words of danger and was told to call 999.\nTenant: line 5",
		"thread mixed-00 <@U-ALICE> looked up the tenant's contact details.",
		"thread mixed-00 [tenant] Tenant: line 6",
	}, grep(f.board.Posts(), "thread"))
}

// DELETE while the tenant's lines wait: their words go, and the notes
// among them stay. A post of their words being made as they ask is
// found, and redacted with the rest.
func TestErasureDropsWaitingWordsAndFindsAPostInFlight(t *testing.T) {
	f := newFixture(t, handedOff)
	q := f.queue()
	ctx := context.Background()
	id := bot.ConversationID("erase-0001")
	f.handoff(t, q, string(id), bot.Standard)
	f.stepAt(t, q, handedOff)
	for i := range 5 {
		require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: id, Text: fmt.Sprintf("line %d", i)}))
	}
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventEmergency, Conversation: id, Priority: bot.Urgent}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: id}))
	f.stepAt(t, q, handedOff.Add(time.Second))
	posts := grep(f.board.Posts(), "erase-00")
	assert.Empty(t, grep(posts, "Tenant: line"), "no words of theirs posted: %q", posts)
	assert.Equal(t, []string{
		"thread erase-00 Tenant wrote words of danger and was told to call 999.",
		"thread erase-00 The tenant asked for their words to be erased: their answers and messages are removed, and their contact details are gone. Do not try to contact them unless they write again.",
	}, grep(posts, "thread"))

	flight := bot.ConversationID("flight-0001")
	f.handoff(t, q, string(flight), bot.Standard)
	f.stepAt(t, q, handedOff.Add(2*time.Second))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: flight, Text: "he is here"}))
	f.board.setFail(func(what string) error {
		if strings.Contains(what, "he is here") {
			// The tenant asks while the line is being posted.
			require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventErased, Conversation: flight}))
		}
		return nil
	})
	f.stepAt(t, q, handedOff.Add(3*time.Second))
	f.stepAt(t, q, handedOff.Add(4*time.Second))
	assert.Contains(t, f.board.Posts(), "redact flight-0 1 lines, 1 tried",
		"the line posted as they asked is redacted, and looked for in case its answer was lost")
}
