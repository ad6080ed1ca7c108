package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/seal"
)

// jobsSender is Twilio as the jobs tests need it: each send takes the
// next answer (nil: accepted).
type jobsSender struct {
	mu      sync.Mutex
	answers []error
	sent    []string
}

func (s *jobsSender) Send(_ context.Context, to, body string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.answers) > 0 {
		err := s.answers[0]
		s.answers = s.answers[1:]
		if err != nil {
			return "", err
		}
	}
	s.sent = append(s.sent, body)
	return "SM" + strings.Repeat("0", 31) + string(rune('0'+len(s.sent))), nil
}

func (s *jobsSender) Find(context.Context, string, string, time.Time) (string, error) { return "", nil }

func (s *jobsSender) bodies() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

func jobsEnv(k string) string {
	switch k {
	case "REDIS_URL", "REDIS_MODE":
		return os.Getenv(k)
	case "SAFECONTACT_KEY":
		return testKey
	}
	return ""
}

// `safecontact jobs` lists a text given up and one waiting by case,
// state and error, never the tenant's number or the words; retry sends
// the dead one once; drop removes the waiting one; the gauge counts the
// dead.
func TestJobsCommand(t *testing.T) {
	rdb, prefix := storetest.Redis(t), storetest.Prefix(t)
	ctx := context.Background()
	sealer, err := seal.New([]byte("jobs-test-key-0123456789abcdefgh"))
	require.NoError(t, err)
	sender := &jobsSender{answers: []error{
		&sms.SendError{Code: 21211, Err: errors.New("twilio: HTTP 400, error 21211")},
		&sms.SendError{Retry: true, After: time.Hour, Err: errors.New("twilio: connection refused")},
	}}
	gate := func(context.Context, bot.ConversationID) (bool, error) { return true, nil }
	o := sms.NewOutbox(rdb, sealer, sender, gate, sms.OutboxOptions{Prefix: prefix})
	const (
		number = "+447700900123"
		words  = "The locksmith comes Tuesday"
	)
	deadConv, waitingConv := bot.ConversationID("deadconv0000aaaa"), bot.ConversationID("waitconv0000bbbb")
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "slack:dead", Conversation: deadConv, To: number, Body: words}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "slack:wait", Conversation: waitingConv, To: number, Body: words + " at 3"}))
	for range 2 {
		did, err := o.SendNext(ctx)
		require.NoError(t, err)
		require.True(t, did)
	}
	require.Empty(t, sender.bodies())

	jobs := func(args ...string) (string, error) {
		t.Helper()
		var stdout, stderr bytes.Buffer
		err := run(ctx, append([]string{"jobs", "-prefix", prefix}, args...), jobsEnv, strings.NewReader(""), &stdout, &stderr)
		return stdout.String() + stderr.String(), err
	}
	id := func(listing, conv string) string {
		t.Helper()
		m := regexp.MustCompile(`(?m)^([0-9a-f]{12}) +text +` + conv + ` `).FindStringSubmatch(listing)
		require.NotNil(t, m, "no job of case %s in:\n%s", conv, listing)
		return m[1]
	}

	out, err := jobs()
	require.NoError(t, err, out)
	dead, waiting := handoff.ShortRef(deadConv), handoff.ShortRef(waitingConv)
	assert.Regexp(t, `(?m)^JOB +KIND +CASE +STATE +ATTEMPTS +LAST ERROR +QUEUED +LAST TRY +NEXT TRY / GAVE UP$`, out)
	assert.Regexp(t, `(?m)^[0-9a-f]{12} +text +`+dead+` +dead +1 +twilio 21211 `, out)
	assert.Regexp(t, `(?m)^[0-9a-f]{12} +text +`+waiting+` +queued +1 +network `, out)
	for _, secret := range []string{number, number[3:], "7700 900", "locksmith", "Tuesday"} {
		assert.NotContains(t, out, secret, "the listing holds no personal data")
	}
	deadID, waitingID := id(out, dead), id(out, waiting)

	m := newMetrics(slog.New(slog.DiscardHandler))
	m.queueEvery = 0
	m.watchJobs(slog.New(slog.DiscardHandler), outboxJobs{o})
	assert.Regexp(t, `(?m)^safecontact_jobs_dead\{kind="text"\} 1$`, scrape(t, m))

	_, err = jobs("retry", waitingID)
	assert.ErrorContains(t, err, "not dead", "a waiting text is not retried")
	_, err = jobs("retry", deadID[:4])
	assert.ErrorContains(t, err, "at least 6 characters")

	out, err = jobs("retry", deadID)
	require.NoError(t, err, out)
	assert.Equal(t, "Put text job "+deadID+" (case "+dead+") back: serve tries it again, behind any queued since for the case, with its attempts counted afresh.\n", out)
	_, err = jobs("retry", deadID)
	assert.ErrorContains(t, err, "is queued, not dead", "retried once")
	assert.Regexp(t, `(?m)^safecontact_jobs_dead\{kind="text"\} 0$`, scrape(t, m))
	did, err := o.SendNext(ctx)
	require.NoError(t, err)
	require.True(t, did)
	assert.Equal(t, []string{words}, sender.bodies(), "sent once")

	out, err = jobs("drop", waitingID[:8])
	require.NoError(t, err, out)
	assert.Equal(t, "Dropped text job "+waitingID+" (case "+waiting+"), which was queued: it will not be done, and its content is erased. Whoever is waiting on it has not been told.\n", out)
	out, err = jobs()
	require.NoError(t, err, out)
	assert.Equal(t, "No dead or waiting jobs.\n", out)
	did, err = o.SendNext(ctx)
	require.NoError(t, err)
	assert.False(t, did, "nothing left to send")
	assert.Equal(t, []string{words}, sender.bodies())

	_, err = jobs("resend", deadID)
	assert.ErrorContains(t, err, "want no arguments, retry ID or drop ID")
}
