package slackboard_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff/slackboard/slackfake"
)

// BenchmarkEventsAck measures how long POST /slack/events takes to answer
// a signed message event in a case's thread: verify the signature, parse,
// record the event id in Redis, queue the work. That is the time that
// counts against Slack's three seconds; relaying the reply comes after.
func BenchmarkEventsAck(b *testing.B) {
	e := newEnv(b)
	ts := e.cardFor("bench-0001", "shropshire", bot.Standard)
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		body := slackfake.MessageEvent(fmt.Sprintf("EvBench%d-%d", time.Now().UnixNano(), i), "U-BOB", "C-SHROP", ts,
			fmt.Sprintf("1764800000.%06d", i), "bench")
		h := slackfake.Sign(secret, body, time.Now())
		req := httptest.NewRequest(http.MethodPost, "/slack/events", bytes.NewReader(body))
		for k, v := range h {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		start := time.Now()
		e.slack.Events(rec, req)
		lat = append(lat, time.Since(start))
		if rec.Code != http.StatusOK {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}
