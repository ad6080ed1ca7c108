package export_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/export"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/seal"
)

// housing is the housing system's end: it checks each delivery's
// signature and keeps what it got, and is down until a set time.
type housing struct {
	t      *testing.T
	secret []byte
	clock  func() time.Time
	upAt   time.Time
	mu     sync.Mutex
	got    []export.Record
	keys   []string
	down   int
}

func (rc *housing) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.clock().Before(rc.upAt) {
		rc.down++
		http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		return
	}
	if err := export.Verify(rc.secret, r.Header, body, rc.clock()); err != nil {
		rc.t.Errorf("signature: %v", err)
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var rec export.Record
	require.NoError(rc.t, json.Unmarshal(body, &rec))
	rc.got = append(rc.got, rec)
	rc.keys = append(rc.keys, r.Header.Get("Idempotency-Key"))
	w.WriteHeader(http.StatusNoContent)
}

func (rc *housing) records() ([]export.Record, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]export.Record(nil), rc.got...), rc.down
}

func TestEachCaseReachesTheHousingSystemOnceThroughAMinuteDown(t *testing.T) {
	hours, problems := flows.LoadHours(os.DirFS("../flows/default"), flows.HoursFile)
	require.Empty(t, problems)
	sealer, err := seal.New([]byte("export-test-key-0123456789abcdef"))
	require.NoError(t, err)
	var mu sync.Mutex
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, hours.Location())
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }

	secret := []byte("a-shared-secret-of-32-bytes-or-more")
	rc := &housing{t: t, secret: secret, clock: clock, upAt: now.Add(time.Minute)}
	srv := httptest.NewServer(rc)
	t.Cleanup(srv.Close)

	q := handoff.New(storetest.Redis(t), sealer, hours, handoff.NewConsole(io.Discard, hours.Location()), handoff.Options{
		Prefix: storetest.Prefix(t) + "case:", Now: clock,
		Exporter: export.Queue{Client: &export.Client{URL: srv.URL, Secret: secret, Now: clock}},
	})
	ctx := context.Background()
	id := bot.ConversationID("export-case-0001")
	require.NoError(t, q.Deliver(ctx, bot.Event{
		Kind: bot.EventHandoff, Conversation: id, Priority: bot.High,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: bot.High, Area: "shropshire", Lang: "en", Channel: bot.ChannelSMS,
			Address: "+447700900123", At: now, Deadline: hours.Deadline(now),
			Summary: []bot.SummaryLine{
				{Step: "children", Label: "Children in the home", Value: "Yes"},
				{Step: "contact", Label: "Safe contact", Value: "text after 6pm", Private: true},
			},
		},
	}))
	step := func() {
		t.Helper()
		_, err := q.WorkOnce(ctx)
		require.NoError(t, err)
	}
	// Ninety seconds of ticks, the first minute with the housing down.
	for range 18 {
		step()
		advance(5 * time.Second)
	}
	got, down := rc.records()
	assert.Positive(t, down, "the housing refused while down")
	require.Len(t, got, 1, "delivered once it was up, and once only")
	r := got[0]
	assert.Equal(t, string(id), r.ID)
	assert.Equal(t, export.EventHandoff, r.Event)
	assert.Equal(t, "+447700900123", r.Phone, "the tenant said how to contact them")
	assert.Equal(t, "high", r.Priority)
	assert.Contains(t, r.Answers, export.Answer{Step: "children", Label: "Children in the home", Value: "Yes"})

	_, err = q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	require.NoError(t, q.CloseWith(ctx, id, "U-ALICE", handoff.Closure{Outcome: "Tenant declined support", Discussed: "yes"}))
	for range 5 {
		step()
		advance(5 * time.Second)
	}
	got, _ = rc.records()
	require.Len(t, got, 2, "the close, once")
	assert.Equal(t, export.EventClosed, got[1].Event)
	assert.Equal(t, "Tenant declined support", got[1].Outcome)
	assert.True(t, got[1].ClosureDiscussed)
	assert.NotEqual(t, rc.keys[0], rc.keys[1], "each event is its own delivery")
}
