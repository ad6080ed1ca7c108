package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
)

// archived is Slack refusing a thread line for good: its channel was
// archived.
type archived struct{}

func (archived) Error() string   { return "slack: is_archived" }
func (archived) Class() string   { return "slack is_archived" }
func (archived) Permanent() bool { return true }

// threadRefused is a board that posts cards and alerts and refuses every
// thread line until it is told to take them.
type threadRefused struct {
	handoff.Board
	take  bool
	lines []string
}

func (b *threadRefused) PostCase(context.Context, *handoff.Case) (handoff.Ref, error) {
	return handoff.Ref{Channel: "C-shropshire", TS: "1.0"}, nil
}
func (b *threadRefused) UpdateCase(context.Context, *handoff.Case) error { return nil }
func (b *threadRefused) Alert(context.Context, *handoff.Case, handoff.Alert, *handoff.Duty) error {
	return nil
}
func (b *threadRefused) PostThread(_ context.Context, _ *handoff.Case, l handoff.Line) (handoff.Ref, error) {
	if !b.take {
		return handoff.Ref{}, archived{}
	}
	b.lines = append(b.lines, l.Text)
	return handoff.Ref{Channel: "C-shropshire", TS: "2.0"}, nil
}
func (b *threadRefused) Lane(*handoff.Case, handoff.JobKind, handoff.Alert) string { return "C" }

// `safecontact jobs` lists a Slack post given up by kind "post", case,
// state and error class, without the tenant's words; retry puts it back
// and it is posted once; the gauge counts it.
func TestJobsCommandListsSlackPosts(t *testing.T) {
	storetest.Redis(t) // skips (or fails under CI) without REDIS_URL
	prefix := storetest.Prefix(t)
	ctx := context.Background()
	hours, problems := flows.LoadHours(os.DirFS("../../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	opened := time.Date(2026, 12, 1, 10, 0, 0, 0, hours.Location())
	board := &threadRefused{}
	s, err := build(ctx, Config{RedisURL: os.Getenv("REDIS_URL"), RedisMode: os.Getenv("REDIS_MODE"), Key: testKey}, time.Now, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer s.close()
	q := handoff.New(s.redis, s.sealer, hours, board, handoff.Options{Prefix: prefix, Now: func() time.Time { return opened }})
	const words = "He took my keys last night"
	conv := bot.ConversationID("postconv0000cccc")
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventHandoff, Conversation: conv, Priority: bot.Standard,
		Handoff: &bot.Handoff{Reason: bot.ReasonComplete, Priority: bot.Standard, Area: "shropshire", Channel: bot.ChannelSMS,
			Lang: "en", Address: "+447700900123", At: opened, Deadline: hours.Deadline(opened)}}))
	require.NoError(t, q.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: conv, At: opened, Text: words}))
	for range 3 {
		_, err := q.WorkOnce(ctx)
		require.NoError(t, err)
	}

	jobs := func(args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"jobs", "-queue-prefix", prefix, "-prefix", prefix + "out:"}, args...), jobsEnv, strings.NewReader(""), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	out, err := jobs()
	require.NoError(t, err, out)
	ref := handoff.ShortRef(conv)
	m := regexp.MustCompile(`(?m)^(p[0-9]{11}) +post +` + ref + ` +dead +1 +slack is_archived `).FindStringSubmatch(out)
	require.NotNil(t, m, "the dead post is listed:\n%s", out)
	for _, secret := range []string{"keys", "last night", "7700900123"} {
		assert.NotContains(t, out, secret, "the listing holds no personal data")
	}

	met := newMetrics(slog.New(slog.DiscardHandler))
	met.queueEvery = 0
	met.watchJobs(slog.New(slog.DiscardHandler), queueJobs{q})
	assert.Regexp(t, `(?m)^safecontact_jobs_dead\{kind="post"\} 1$`, scrape(t, met))

	out, err = jobs("retry", m[1][:8])
	require.NoError(t, err, out)
	assert.Contains(t, out, "Put post job "+m[1]+" (case "+ref+") back")
	assert.Regexp(t, `(?m)^safecontact_jobs_dead\{kind="post"\} 0$`, scrape(t, met))
	board.take = true
	for range 3 {
		_, err := q.WorkOnce(ctx)
		require.NoError(t, err)
	}
	require.Len(t, board.lines, 1, "posted once")
	assert.Contains(t, board.lines[0], words)
}
