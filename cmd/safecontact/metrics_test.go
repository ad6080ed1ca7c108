package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/seal"
)

func scrape(t *testing.T, m *metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler("").ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	return rec.Body.String()
}

// The queue's series stay when Redis stops answering, with
// safecontact_queue_up saying so; the oldest unclaimed case is a
// timestamp; posted cards and alerts are counted.
func TestQueueMetricsOutliveARedisFailure(t *testing.T) {
	storetest.Redis(t)
	hours, problems := flows.LoadHours(os.DirFS("../../flows/default"), flows.HoursFile)
	if len(problems) > 0 {
		t.Fatal(problems)
	}
	rdb := storetest.Redis(t) // closed below, as if Redis went away
	sealer, err := seal.New([]byte("metrics-test-key-0123456789abcde"))
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	m := newMetrics(log)
	m.queueEvery = 0 // read the queue at every scrape
	opened := time.Date(2026, 12, 1, 10, 0, 0, 0, hours.Location())
	q := handoff.New(rdb, sealer, hours, handoff.NewConsole(io.Discard, hours.Location()), handoff.Options{
		Prefix: storetest.Prefix(t) + "case:", Now: func() time.Time { return opened }, Posted: m.posted,
	})
	m.watchQueue(q, log)
	ctx := context.Background()
	if err := q.Deliver(ctx, bot.Event{Kind: bot.EventHandoff, Conversation: "metrics-0001", Priority: bot.Urgent,
		Handoff: &bot.Handoff{Reason: bot.ReasonComplete, Priority: bot.Urgent, Area: "shropshire", Channel: bot.ChannelSMS,
			Lang: "en", Address: "+447700900123", At: opened, Deadline: hours.Deadline(opened)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := q.WorkOnce(ctx); err != nil {
		t.Fatal(err)
	}

	up := scrape(t, m)
	for _, want := range []string{
		`(?m)^safecontact_queue_up 1$`,
		`(?m)^safecontact_cases_open\{priority="urgent",state="queued"\} 1$`,
		`(?m)^safecontact_cases_oldest_unclaimed_timestamp_seconds ` + regexp.QuoteMeta(strconv.FormatFloat(float64(opened.Unix()), 'g', -1, 64)) + `$`,
		`(?m)^safecontact_cases_opened_total\{priority="urgent"\} 1$`,
		`(?m)^safecontact_escalations_total\{kind="oncall"\} 1$`,
	} {
		if !regexp.MustCompile(want).MatchString(up) {
			t.Errorf("with Redis up, want %s in:\n%s", want, up)
		}
	}

	rdb.Close()
	time.Sleep(10 * time.Millisecond)
	down := scrape(t, m)
	for _, want := range []string{
		`(?m)^safecontact_queue_up 0$`,
		`(?m)^safecontact_cases_open\{priority="urgent",state="queued"\} 1$`,
		`(?m)^safecontact_cases_oldest_unclaimed_timestamp_seconds ` + regexp.QuoteMeta(strconv.FormatFloat(float64(opened.Unix()), 'g', -1, 64)) + `$`,
	} {
		if !regexp.MustCompile(want).MatchString(down) {
			t.Errorf("with Redis gone, want %s (the last figures) in:\n%s", want, down)
		}
	}
}
