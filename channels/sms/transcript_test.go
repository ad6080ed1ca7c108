package sms_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/flows/flowstest"
	"github.com/safecontact/safecontact/redisstore"
)

// transcripts are the engine's golden transcripts, played here over the
// webhook.
var transcripts = filepath.Join("..", "..", "flows", "testdata", "transcripts")

// TestTranscriptsOverWebhook plays every transcript of the default flows
// as signed Twilio webhooks to the handler on a Redis store, and checks
// that each text's TwiML says what the transcript's golden says the
// engine answers: the same lines, in order. Events are not compared: the
// tenant never sees them. The clock, the tenant's number and the
// conversation key are the engine transcripts' own.
func TestTranscriptsOverWebhook(t *testing.T) {
	for _, tc := range flowstest.Transcripts(t, transcripts) {
		script, golden, in := tc.Script, tc.Golden, tc.Path
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			if script.Lang != "" || script.Area != "" {
				t.Fatalf("%s sets lang: or area:, which a text cannot carry", in)
			}
			s, clock := transcriptServer(t)
			for i, turn := range script.Turns {
				want := golden[i]
				require.Equal(t, turn.Text, want.Text, "turn %d: the golden is of another script (go test ./flows -run TestTranscripts -update)", i+1)
				clock.Set(turn.At)
				status, msgs := s.text(t, fmt.Sprintf("SM%032d", i), turn.Text)
				require.Equal(t, http.StatusOK, status, "turn %d (%q)", i+1, turn.Text)
				if !assert.Equal(t, want.Replies, flowstest.ReplyLines(msgs...), "turn %d (%q): TwiML and golden differ", i+1, turn.Text) {
					return
				}
			}
		})
	}
}

// transcriptServer is the SMS handler on a Redis store with its own key
// prefix, on an engine with the transcripts' key and a clock the test sets.
func transcriptServer(t *testing.T) (*server, *flowstest.Clock) {
	t.Helper()
	// Each engine indexes the flow it is given: one bundle per engine.
	bundle, problems := flows.Load("", flowstest.TranscriptLoaded)
	require.Empty(t, problems.Errors())
	require.Equal(t, tenant, flowstest.TranscriptAddress, "the transcripts' tenant texts")
	sh := newShared(t)
	clock := flowstest.NewClock(flowstest.TranscriptStart)
	store := redisstore.New(sh.rdb, sh.sealer, redisstore.Options{Prefix: sh.prefix, EventLog: sh.prefix + "events"})
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte(flowstest.TranscriptKey)), Now: clock.Now,
	})
	require.NoError(t, err)
	s := &server{engine: eng, store: store, events: flowstest.EventsIn(t, store)}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	h, err := sms.New(sms.Config{Engine: eng, AuthToken: token, PublicBaseURL: s.URL})
	require.NoError(t, err)
	mux.Handle("/sms/", h)
	return s, clock
}
