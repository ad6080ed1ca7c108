package export_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/export"
	"github.com/safecontact/safecontact/handoff"
)

var update = flag.Bool("update", false, "rewrite testdata/record.json")

var (
	secret = []byte("0123456789abcdef0123456789abcdef") // 32 bytes, the least allowed
	now    = time.Date(2026, 3, 3, 16, 5, 0, 0, time.UTC)
)

// Distinctive content of the example record: no error may carry it.
const (
	words = "he took my keys and broke the back door lock"
	phone = "+447700900123"
	token = "tok3n-in-the-query"
)

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// record is the example in docs/export.md: invented, with the fields a
// closed case has.
func record() export.Record {
	r := export.FromCase(closedCase(), export.EventClosed, 3)
	r.SentAt = at("2026-03-03T16:05:00Z")
	return r
}

// closedCase is a case as the officer queue holds it when an officer
// closes it: the record docs/export.md shows is made from it.
func closedCase() *handoff.Case {
	return &handoff.Case{
		ID: "c0ffee12d4a5b6e7", State: handoff.StateClosed, Priority: bot.High, Area: "telford_wrekin",
		Channel: bot.ChannelSMS, Lang: "en", Reason: bot.ReasonComplete,
		Opened: at("2026-03-02T09:14:00Z"), Deadline: at("2026-03-03T09:14:00Z"),
		Address: phone, ClaimedBy: "U0SAMJONES",
		ContactedAt: at("2026-03-02T11:30:00Z"), ContactedBy: "U0SAMJONES", ContactHow: "by phone",
		Outcome: "Contacted: safety plan agreed", Discussed: "yes",
		Summary: []bot.SummaryLine{
			{Step: "safe_to_talk", Label: "Safe to message", Value: "Yes"},
			{Step: "danger", Label: "In danger now", Value: "No"},
			{Step: "area", Label: "Area", Value: "Telford & Wrekin"},
			{Step: "children", Label: "Children in the home", Value: "Yes"},
			{Step: "security", Label: "Security at home", Value: words},
			{Step: "contact", Label: "Safe contact", Value: "phone after 10am, no voicemail", Private: true},
		},
		Duties: []*handoff.Duty{
			{ID: "dash", Title: "DASH risk assessment", Due: at("2026-03-03T09:14:00Z"),
				DoneBy: "U0SAMJONES", DoneAt: at("2026-03-02T12:10:00Z"), Value: "score 9"},
			{ID: "children_referral", Title: "Children's safeguarding referral", Due: at("2026-03-02T17:00:00Z"),
				DoneBy: "U0SAMJONES", DoneAt: at("2026-03-02T14:10:00Z")},
			{ID: "security_repairs", Title: "Security repairs request", Due: at("2026-03-03T09:14:00Z"),
				DoneBy: "U0SAMJONES", DoneAt: at("2026-03-02T15:40:00Z")},
			{ID: "perpetrator_caution", Title: "A perpetrator may pose as the victim", Reminder: true},
			{ID: "closure", Title: "Closing the case", DoneBy: "U0SAMJONES", DoneAt: at("2026-03-03T16:04:00Z"),
				Value: "discussed with the tenant"},
		},
		Actions: []handoff.Action{
			{At: at("2026-03-02T09:31:00Z"), Officer: "U0ALEXPATEL", What: "claimed"},
			{At: at("2026-03-02T10:02:00Z"), Officer: "U0ALEXPATEL", What: "gave the case to U0SAMJONES"},
			{At: at("2026-03-02T11:30:00Z"), Officer: "U0SAMJONES", What: "contacted the tenant: by phone"},
			{At: at("2026-03-02T12:10:00Z"), Officer: "U0SAMJONES", What: "did dash"},
			{At: at("2026-03-03T16:04:00Z"), Officer: "U0SAMJONES", What: "closed: Contacted: safety plan agreed"},
		},
	}
}

// receiver is a housing system as docs/export.md asks for one: it checks
// the signature with Verify, applies each Idempotency-Key once and answers
// 409 to a repeat. While status is set it answers that instead, as a
// receiver that is down.
type receiver struct {
	mu      sync.Mutex
	status  int
	header  http.Header // on the answer while down
	seen    map[string]bool
	applied []export.Record
	bodies  [][]byte // every body it took, applied or not
	headers []http.Header
	hits    int
}

func newReceiver() *receiver { return &receiver{seen: map[string]bool{}} }

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.hits++
	if rv.status != 0 {
		for k, v := range rv.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rv.status)
		return
	}
	if err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if err := export.Verify(secret, r.Header, body, now); err != nil {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	rv.bodies = append(rv.bodies, body)
	rv.headers = append(rv.headers, r.Header.Clone())
	key := r.Header.Get(export.HeaderIdempotencyKey)
	if rv.seen[key] {
		w.WriteHeader(http.StatusConflict)
		return
	}
	var rec export.Record
	if err := json.Unmarshal(body, &rec); err != nil || rec.IdempotencyKey() != key {
		http.Error(w, "bad record", http.StatusBadRequest)
		return
	}
	rv.seen[key] = true
	rv.applied = append(rv.applied, rec)
	w.WriteHeader(http.StatusNoContent)
}

func (rv *receiver) down(status int, h http.Header) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	rv.status, rv.header = status, h
}

func (rv *receiver) got() (applied []export.Record, hits int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return append([]export.Record(nil), rv.applied...), rv.hits
}

// client is a Client for url on its own connections, with the test clock.
func client(t *testing.T, url string) *export.Client {
	t.Helper()
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &export.Client{URL: url, Secret: secret, HTTP: &http.Client{Transport: tr, Timeout: 5 * time.Second},
		Now: func() time.Time { return now }}
}

// start serves rv on a loopback address.
func start(t *testing.T, rv http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(rv)
	t.Cleanup(srv.Close)
	return srv
}

// sign is the signature as docs/export.md describes it, written from the
// description rather than with export.Signature, so the two check each
// other.
func sign(key []byte, ts string, body []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts + "." + string(body)))
	return "v1=" + hex.EncodeToString(m.Sum(nil))
}

func TestSendDeliversOnce(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	srv := start(t, rv)
	c := client(t, srv.URL+"/safecontact")
	r := record()

	require.NoError(t, c.Send(t.Context(), r))
	require.NoError(t, c.Send(t.Context(), r), "a repeat is answered 409, which is delivered")

	applied, hits := rv.got()
	assert.Equal(t, 2, hits)
	require.Len(t, applied, 1, "the receiver applies the record once")
	assert.Equal(t, r, applied[0])

	h := rv.headers[0]
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Equal(t, "c0ffee12d4a5b6e7:closed:3", h.Get("Idempotency-Key"))
	assert.Equal(t, strconv.FormatInt(now.Unix(), 10), h.Get("Safecontact-Timestamp"))
	assert.Equal(t, sign(secret, h.Get("Safecontact-Timestamp"), rv.bodies[0]), h.Get("Safecontact-Signature"))
	assert.Equal(t, rv.bodies[0], rv.bodies[1], "a retried delivery sends the same body")
}

func TestSendSetsSentAt(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	c := client(t, start(t, rv).URL)
	r := record()
	r.SentAt = time.Time{}
	c.Now = func() time.Time { return now.Add(1500 * time.Millisecond) }

	require.NoError(t, c.Send(t.Context(), r))
	applied, _ := rv.got()
	require.Len(t, applied, 1)
	assert.Equal(t, now.Add(time.Second), applied[0].SentAt, "the clock, to the second")
}

// TestRecordGolden pins the JSON the housing system receives, and checks
// docs/export.md shows the same. Rewrite with go test ./export -update.
func TestRecordGolden(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	require.NoError(t, client(t, start(t, rv).URL).Send(t.Context(), record()))
	var got bytes.Buffer
	require.NoError(t, json.Indent(&got, rv.bodies[0], "", "  "))
	got.WriteString("\n")

	const golden = "testdata/record.json"
	if *update {
		require.NoError(t, os.WriteFile(golden, got.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./export -update to write it")
	assert.Equal(t, string(want), got.String())

	doc, err := os.ReadFile("../docs/export.md")
	require.NoError(t, err)
	assert.Contains(t, string(doc), string(want), "docs/export.md shows the record as sent")
}

func TestErasedRecordCarriesOnlyItsID(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	c := client(t, start(t, rv).URL)
	r := record() // everything filled, as a careless caller might leave it
	r.Event, r.Version = export.EventErased, 4

	require.NoError(t, c.Send(t.Context(), r))
	require.Len(t, rv.bodies, 1)
	assert.JSONEq(t, `{"id":"c0ffee12d4a5b6e7","event":"erased","version":4,"sent_at":"2026-03-03T16:05:00Z","erased":true}`,
		string(rv.bodies[0]))
	assert.Equal(t, "c0ffee12d4a5b6e7:erased:4", rv.headers[0].Get("Idempotency-Key"))
}

func TestRecordWithoutPhone(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	c := client(t, start(t, rv).URL)
	r := record()
	r.Phone, r.Answers, r.ContactedAt, r.ContactedHow = "", nil, time.Time{}, "" // not agreed to contact; not contacted
	r.Event, r.Version = export.EventHandoff, 1

	require.NoError(t, c.Send(t.Context(), r))
	var m map[string]any
	require.NoError(t, json.Unmarshal(rv.bodies[0], &m))
	assert.NotContains(t, m, "phone")
	assert.NotContains(t, m, "contacted_at", "an unknown time is left out")
	assert.Equal(t, []any{}, m["answers"], "an empty list is [], not null")
	assert.Equal(t, "", m["contacted_how"], "strings are always present")
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"id":"c0ffee12d4a5b6e7","event":"erased","version":4,"sent_at":"2026-03-03T16:05:00Z","erased":true}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := sign(secret, ts, body)
	other := []byte("fedcba9876543210fedcba9876543210")
	tests := []struct {
		label  string
		secret []byte
		ts     string
		sig    string
		body   []byte
		now    time.Time
		want   error
	}{
		{label: "good", ts: ts, sig: good},
		{label: "good, clock 4m59s behind", ts: ts, sig: good, now: now.Add(-(4*time.Minute + 59*time.Second))},
		{label: "good, clock 5m ahead", ts: ts, sig: good, now: now.Add(5 * time.Minute)},
		{label: "good among several", ts: ts, sig: sign(other, ts, body) + ", " + good},
		{label: "other secret", ts: ts, sig: sign(other, ts, body), want: export.ErrSignature},
		{label: "body changed", ts: ts, sig: good, body: bytes.Replace(body, []byte(`"version":4`), []byte(`"version":9`), 1), want: export.ErrSignature},
		{label: "timestamp changed", ts: strconv.FormatInt(now.Unix()+1, 10), sig: good, want: export.ErrSignature},
		{label: "no signature", ts: ts, want: export.ErrSignature},
		{label: "not hex", ts: ts, sig: "v1=" + strings.Repeat("zz", 32), want: export.ErrSignature},
		{label: "truncated", ts: ts, sig: good[:40], want: export.ErrSignature},
		{label: "other scheme", ts: ts, sig: "v0=" + strings.TrimPrefix(good, "v1="), want: export.ErrSignature},
		{label: "upper-case hex", ts: ts, sig: "v1=" + strings.ToUpper(strings.TrimPrefix(good, "v1="))},
		{label: "no timestamp", sig: good, want: export.ErrTimestamp},
		{label: "signed timestamp", ts: "+" + ts, sig: sign(secret, "+"+ts, body), want: export.ErrTimestamp},
		{label: "milliseconds", ts: ts + "000", sig: sign(secret, ts+"000", body), want: export.ErrTimestamp},
		{label: "stale", ts: ts, sig: good, now: now.Add(5*time.Minute + time.Second), want: export.ErrTimestamp},
		{label: "from the future", ts: ts, sig: good, now: now.Add(-6 * time.Minute), want: export.ErrTimestamp},
		{label: "short secret", secret: []byte("too short"), ts: ts, sig: sign([]byte("too short"), ts, body), want: export.ErrBadSecret},
		{label: "empty secret", secret: []byte{}, ts: ts, sig: sign(nil, ts, body), want: export.ErrBadSecret},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			h := http.Header{}
			if tc.ts != "" {
				h.Set("Safecontact-Timestamp", tc.ts)
			}
			if tc.sig != "" {
				h.Set("Safecontact-Signature", tc.sig)
			}
			key, b, clock := secret, body, now
			if tc.secret != nil {
				key = tc.secret
			}
			if tc.body != nil {
				b = tc.body
			}
			if !tc.now.IsZero() {
				clock = tc.now
			}
			err := export.Verify(key, h, b, clock)
			if tc.want == nil {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestReceiverRefusesBadSignature(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	c := client(t, start(t, rv).URL)
	c.Secret = []byte("fedcba9876543210fedcba9876543210")

	err := c.Send(t.Context(), record())
	require.ErrorIs(t, err, export.ErrRefused)
	assert.NotErrorIs(t, err, export.ErrUnavailable)
	applied, _ := rv.got()
	assert.Empty(t, applied)
}

func TestSendWhileReceiverAnswers503(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	c := client(t, start(t, rv).URL)
	rv.down(http.StatusServiceUnavailable, nil)

	err := c.Send(t.Context(), record())
	require.ErrorIs(t, err, export.ErrUnavailable)
	assert.NotErrorIs(t, err, export.ErrRefused)
	var ra interface{ RetryAfter() time.Duration }
	assert.False(t, errors.As(err, &ra), "no Retry-After, no RetryAfter method")

	rv.down(0, nil)
	require.NoError(t, c.Send(t.Context(), record()))
	applied, hits := rv.got()
	assert.Len(t, applied, 1)
	assert.Equal(t, 2, hits)
}

func TestSendWhileReceiverIsGone(t *testing.T) {
	t.Parallel()
	rv := newReceiver()
	srv := httptest.NewServer(rv)
	addr := srv.Listener.Addr().String()
	c := client(t, srv.URL)
	r := record()
	require.NoError(t, c.Send(t.Context(), r))

	srv.Close()
	r.Version++
	err := c.Send(t.Context(), r)
	require.ErrorIs(t, err, export.ErrUnavailable, "connection refused is worth retrying")
	assert.NotErrorIs(t, err, export.ErrRefused)

	// Back up on the same address.
	l, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	srv = httptest.NewUnstartedServer(rv)
	srv.Listener.Close()
	srv.Listener = l
	srv.Start()
	t.Cleanup(srv.Close)
	require.NoError(t, c.Send(t.Context(), r))

	applied, _ := rv.got()
	require.Len(t, applied, 2)
	assert.Equal(t, []int{3, 4}, []int{applied[0].Version, applied[1].Version})
}

func TestSendAnswers(t *testing.T) {
	t.Parallel()
	tests := []struct {
		label      string
		status     int
		retryAfter string
		want       error // nil: delivered
		wait       time.Duration
		hasWait    bool
	}{
		{label: "200", status: 200},
		{label: "201", status: 201},
		{label: "202", status: 202},
		{label: "409 already has it", status: 409},
		{label: "400", status: 400, want: export.ErrRefused},
		{label: "401", status: 401, want: export.ErrRefused},
		{label: "403", status: 403, want: export.ErrRefused},
		{label: "404", status: 404, want: export.ErrRefused},
		{label: "413", status: 413, want: export.ErrRefused},
		{label: "422", status: 422, want: export.ErrRefused},
		{label: "429 with Retry-After", status: 429, retryAfter: "7", want: export.ErrUnavailable, wait: 7 * time.Second, hasWait: true},
		{label: "429 without", status: 429, want: export.ErrUnavailable},
		{label: "408", status: 408, want: export.ErrUnavailable},
		{label: "500", status: 500, want: export.ErrUnavailable},
		{label: "502", status: 502, want: export.ErrUnavailable},
		{label: "503 with a date", status: 503, retryAfter: now.Add(90 * time.Second).Format(http.TimeFormat), want: export.ErrUnavailable, wait: 90 * time.Second, hasWait: true},
		{label: "503 with a past date", status: 503, retryAfter: now.Add(-time.Hour).Format(http.TimeFormat), want: export.ErrUnavailable, wait: 0, hasWait: true},
		{label: "503 asking for a day", status: 503, retryAfter: "86400", want: export.ErrUnavailable, wait: export.MaxRetryAfter, hasWait: true},
		{label: "503 with nonsense", status: 503, retryAfter: "soon", want: export.ErrUnavailable},
		{label: "400 with Retry-After", status: 400, retryAfter: "7", want: export.ErrRefused},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			t.Parallel()
			rv := newReceiver()
			h := http.Header{}
			if tc.retryAfter != "" {
				h.Set("Retry-After", tc.retryAfter)
			}
			rv.down(tc.status, h)
			err := client(t, start(t, rv).URL).Send(t.Context(), record())
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tc.want)
			var se *export.StatusError
			require.True(t, errors.As(err, &se))
			assert.Equal(t, tc.status, se.Code)
			assert.Contains(t, err.Error(), strconv.Itoa(tc.status))
			var ra interface{ RetryAfter() time.Duration }
			require.Equal(t, tc.hasWait, errors.As(err, &ra))
			if tc.hasWait {
				assert.Equal(t, tc.wait, ra.RetryAfter())
			}
		})
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	t.Parallel()
	elsewhere := newReceiver()
	target := start(t, elsewhere)
	srv := start(t, http.RedirectHandler(target.URL, http.StatusTemporaryRedirect))

	err := client(t, srv.URL).Send(t.Context(), record())
	require.ErrorIs(t, err, export.ErrRefused)
	assert.Contains(t, err.Error(), "redirect")
	_, hits := elsewhere.got()
	assert.Zero(t, hits, "the record did not go where the redirect pointed")
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		ok   bool
		says string
	}{
		{url: "https://housing.example.org/safecontact", ok: true},
		{url: "https://housing.example.org:8443/in?token=" + token, ok: true},
		{url: "HTTPS://housing.example.org/", ok: true},
		{url: "http://127.0.0.1:8080/in", ok: true},
		{url: "http://127.9.9.9/in", ok: true},
		{url: "http://localhost:8080/in", ok: true},
		{url: "http://[::1]:8080/in", ok: true},
		{url: "http://housing.example.org/in", says: "must use https"},
		{url: "http://10.0.0.5/in", says: "must use https"},
		{url: "http://localhost.example.org/in", says: "must use https"},
		{url: "ftp://housing.example.org/in", says: "https://"},
		{url: "housing.example.org/in", says: "no host"},
		{url: "https:///in", says: "no host"},
		{url: "", says: "empty"},
		{url: "https://housing.example.org/%zz?token=" + token, says: "not a URL"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := export.CheckURL(tc.url)
			if tc.ok {
				assert.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, export.ErrBadURL)
			assert.Contains(t, err.Error(), tc.says)
			assert.Contains(t, err.Error(), "SAFECONTACT_EXPORT_URL", "the error names the setting")
			assert.NotContains(t, err.Error(), token)
		})
	}
}

// noNetwork fails the test if a request is made.
type noNetwork struct{ t *testing.T }

func (n noNetwork) RoundTrip(*http.Request) (*http.Response, error) {
	n.t.Error("a request was made")
	return nil, fmt.Errorf("no network")
}

func TestSendRefusesBeforeSending(t *testing.T) {
	t.Parallel()
	tests := []struct {
		label string
		edit  func(c *export.Client, r *export.Record)
		want  error
		says  string
	}{
		{label: "plain http to a remote host", want: export.ErrBadURL, says: "must use https",
			edit: func(c *export.Client, r *export.Record) { c.URL = "http://housing.example.org/in" }},
		{label: "no URL", want: export.ErrBadURL, edit: func(c *export.Client, r *export.Record) { c.URL = "" }},
		{label: "short secret", want: export.ErrBadSecret, says: "at least 32",
			edit: func(c *export.Client, r *export.Record) { c.Secret = []byte("secret") }},
		{label: "no id", want: export.ErrInvalid, edit: func(c *export.Client, r *export.Record) { r.ID = "" }},
		{label: "id with a newline", want: export.ErrInvalid, edit: func(c *export.Client, r *export.Record) { r.ID = "a\nb" }},
		{label: "unknown event", want: export.ErrInvalid, edit: func(c *export.Client, r *export.Record) { r.Event = "updated" }},
		{label: "version 0", want: export.ErrInvalid, edit: func(c *export.Client, r *export.Record) { r.Version = 0 }},
		{label: "erased but closed", want: export.ErrInvalid, edit: func(c *export.Client, r *export.Record) { r.Erased = true }},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			t.Parallel()
			c := &export.Client{URL: "https://housing.example.org/in", Secret: secret,
				HTTP: &http.Client{Transport: noNetwork{t}}}
			r := record()
			tc.edit(c, &r)
			err := c.Send(t.Context(), r)
			require.ErrorIs(t, err, tc.want)
			assert.NotErrorIs(t, err, export.ErrUnavailable)
			assert.Contains(t, err.Error(), tc.says)
		})
	}
}

// TestErrorsCarryNoWords fails every way Send can and checks that no
// error carries the tenant's words, number, or the URL's token.
func TestErrorsCarryNoWords(t *testing.T) {
	t.Parallel()
	echo := func(status int) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("Retry-After", "3")
			w.WriteHeader(status)
			w.Write(b) // a receiver that quotes the record back
		})
	}
	gone := httptest.NewServer(newReceiver())
	gone.Close()
	slow := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so the server notices the client hang up
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	}))
	moved := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere?q="+url.QueryEscape(words), http.StatusFound)
	}))

	tests := []struct {
		label string
		url   string
		ctx   func() (context.Context, context.CancelFunc)
		edit  func(r *export.Record)
	}{
		{label: "refused, body quoted", url: start(t, echo(400)).URL},
		{label: "unavailable, body quoted", url: start(t, echo(503)).URL},
		{label: "rate limited, body quoted", url: start(t, echo(429)).URL},
		{label: "connection refused", url: gone.URL},
		{label: "timed out", url: slow.URL, ctx: func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 50*time.Millisecond)
		}},
		{label: "redirected", url: moved.URL},
		{label: "plain http", url: "http://housing.example.org/in"},
		{label: "not a URL", url: "https://housing.example.org/%zz"},
		{label: "invalid record", url: start(t, newReceiver()).URL, edit: func(r *export.Record) { r.Version = -1 }},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(context.Background())
			if tc.ctx != nil {
				ctx, cancel = tc.ctx()
			}
			defer cancel()
			u := tc.url
			if strings.Contains(u, "?") {
				u += "&token=" + token
			} else {
				u += "/in?token=" + token
			}
			r := record()
			if tc.edit != nil {
				tc.edit(&r)
			}
			err := client(t, u).Send(ctx, r)
			require.Error(t, err)
			msg := err.Error()
			for _, s := range []string{words, url.QueryEscape(words), phone, token, r.Outcome, "Sam Jones"} {
				assert.NotContains(t, msg, s)
			}
		})
	}
}

// countBody counts what is read of a response body.
type countBody struct {
	io.ReadCloser
	n *int64
}

func (b countBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	*b.n += int64(n)
	return n, err
}

type countTransport struct {
	http.RoundTripper
	n *int64
}

func (c countTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.RoundTripper.RoundTrip(r)
	if err == nil {
		resp.Body = countBody{resp.Body, c.n}
	}
	return resp, err
}

func TestSendReadsLittleOfTheAnswer(t *testing.T) {
	t.Parallel()
	srv := start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 32<<10)
		for range 2048 { // 64 MiB, or until the client hangs up
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	var n int64
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	c := client(t, srv.URL)
	c.HTTP = &http.Client{Transport: countTransport{tr, &n}, Timeout: 5 * time.Second}

	require.NoError(t, c.Send(t.Context(), record()))
	assert.LessOrEqual(t, n, int64(export.MaxResponseRead))
}

func TestCheckSecret(t *testing.T) {
	t.Parallel()
	assert.NoError(t, export.CheckSecret(secret))
	assert.ErrorIs(t, export.CheckSecret(secret[:31]), export.ErrBadSecret)
	assert.ErrorIs(t, export.CheckSecret(nil), export.ErrBadSecret)
}

func FuzzVerify(f *testing.F) {
	body := []byte(`{"id":"c0ffee12d4a5b6e7"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	f.Add(ts, sign(secret, ts, body), body)
	f.Add(ts, "v1=", body)
	f.Add("", "", []byte{})
	f.Add("-1", "v1=00,v1=zz,,v1", body)
	f.Fuzz(func(t *testing.T, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set(export.HeaderTimestamp, ts)
		h.Set(export.HeaderSignature, sig)
		err := export.Verify(secret, h, body, now)
		if err != nil {
			return
		}
		// Accepted: the header must hold the true signature.
		want := strings.TrimPrefix(sign(secret, h.Get(export.HeaderTimestamp), body), "v1=")
		if !strings.Contains(strings.ToLower(sig), want) {
			t.Fatalf("accepted a signature it should not have: ts %q sig %q", ts, sig)
		}
	})
}
