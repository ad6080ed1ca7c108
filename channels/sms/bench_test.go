package sms_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/sms/smstest"
)

// loadClient posts signed inbound texts for many tenants, each walking
// through the intake, as Twilio would.
type loadClient struct {
	s      *server
	client *http.Client
	run    string
}

func newLoadClient(s *server) *loadClient {
	tr := &http.Transport{MaxIdleConns: 512, MaxIdleConnsPerHost: 512}
	return &loadClient{s: s, client: &http.Client{Transport: tr, Timeout: 15 * time.Second}, run: fmt.Sprint(time.Now().UnixNano() % 1e6)}
}

// post sends a tenant's text: line of the intake, so every request is
// one turn of that tenant's conversation. The number stays a valid E.164
// number (at most 15 digits) for any tenant below 10^9: a sender that
// cannot be texted back is refused without a turn, which would measure
// nothing. A response without a reply is an error: every line of the
// intake is answered.
func (l *loadClient) post(tenant, line int64) error {
	form := url.Values{
		"MessageSid": {fmt.Sprintf("SM%s%013d%013d", l.run, tenant, line)},
		"From":       {fmt.Sprintf("+4477%09d", tenant)},
		"Body":       {intake[line]},
	}
	full := l.s.URL + sms.InboundPath
	req, err := http.NewRequest("POST", full, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign(token, full, form))
	resp, err := l.client.Do(req)
	if err != nil {
		return err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	switch {
	case err != nil:
		return err
	case resp.StatusCode != http.StatusOK:
		return fmt.Errorf("status %s", resp.Status)
	case !bytes.Contains(body, []byte("<Message>")):
		return fmt.Errorf("line %d of tenant %d: no reply: %s", line, tenant, body)
	}
	return nil
}

// BenchmarkWebhook is turns/s at saturation: many tenants at once, each
// request a signed POST /sms/twilio over loopback HTTP, with the engine on
// real Redis. Tenants are spread so that no two requests of one
// conversation are in flight at once, as a tenant texts one at a time.
func BenchmarkWebhook(b *testing.B) {
	sh := newShared(b)
	s := sh.start(b, nil, sms.Config{})
	l := newLoadClient(s)
	b.SetParallelism(32)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var conv atomic.Int64
	b.RunParallel(func(pb *testing.PB) {
		// Each goroutine owns its conversations and sends their lines in
		// order.
		var i int64
		base := conv.Add(1) * 1_000_000
		for pb.Next() {
			n := int64(len(intake))
			if err := l.post(base+i/n, i%n); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "turns/s")
}

// BenchmarkWebhookAt1000 sends turns at a steady 1,000 per second (open
// loop: each request has its start time fixed in advance, and latency is
// counted from then, so a stall is not hidden) and reports p50 and p99.
func BenchmarkWebhookAt1000(b *testing.B) {
	sh := newShared(b)
	s := sh.start(b, nil, sms.Config{})
	l := newLoadClient(s)
	const rate = 1000 // turns per second, and tenants
	n := max(b.N, 2000)
	lat := make([]time.Duration, n)
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for i := range n {
		due := start.Add(time.Duration(i) * time.Second / rate)
		if d := time.Until(due); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			// 1,000 tenants each text once a second, walking through the
			// intake: a request is a turn of a conversation under way.
			if err := l.post(int64(i%rate), int64(i/rate%len(intake))); err != nil {
				b.Error(err)
			}
			lat[i] = time.Since(due)
		}()
	}
	wg.Wait()
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[n/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[n*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[n-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "turns/s")
}
