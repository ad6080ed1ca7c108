package sms_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/sms/smstest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/flows/flowstest"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

const (
	token  = "0123456789abcdef0123456789abcdef" // shaped like a real auth token
	tenant = "+447700900123"
)

// shared is what every server instance of one test shares: the Redis
// server, the keys and the key prefix, as two serve processes would.
type shared struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	prefix string
	bundle *flows.Bundle
	now    time.Time
}

func newShared(t testing.TB) *shared {
	bundle, problems := flows.Load("", time.Now())
	require.Empty(t, problems.Errors())
	k, err := seal.GenerateKey()
	require.NoError(t, err)
	sl, err := seal.New(k)
	require.NoError(t, err)
	return &shared{
		rdb: storetest.Redis(t), sealer: sl, prefix: storetest.Prefix(t), bundle: bundle,
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC),
	}
}

type server struct {
	*httptest.Server
	engine *bot.Engine
	store  *redisstore.Store
	events *flowstest.Events
}

// start runs one server instance with its own Redis client.
func (sh *shared) start(t testing.TB, rdb redis.UniversalClient, cfg sms.Config) *server {
	if rdb == nil {
		rdb = storetest.Redis(t)
	}
	store := redisstore.New(rdb, sh.sealer, redisstore.Options{Prefix: sh.prefix, EventLog: sh.prefix + "events"})
	eng, err := bot.New(bot.Config{
		Flow: sh.bundle.Flow, Store: store, Directory: sh.bundle.Directory, Hours: sh.bundle.Hours,
		Keyer: bot.NewKeyer([]byte("sms-test-conversation-key-012345")), Now: func() time.Time { return sh.now },
	})
	require.NoError(t, err)
	s := &server{engine: eng, store: store, events: flowstest.EventsIn(t, store)}
	mux := http.NewServeMux()
	s.Server = httptest.NewServer(mux)
	t.Cleanup(s.Close)
	cfg.Engine = eng
	if cfg.AuthToken == "" {
		cfg.AuthToken = token
	}
	if cfg.PublicBaseURL == "" {
		cfg.PublicBaseURL = s.URL
	}
	h, err := sms.New(cfg)
	require.NoError(t, err)
	mux.Handle("/sms/", h)
	return s
}

// text posts a signed inbound SMS and returns the status and the bodies of
// the TwiML <Message> verbs.
func (s *server) text(t *testing.T, sid, body string) (int, []string) {
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {tenant}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {"0"},
	}
	return s.post(t, sms.InboundPath, form, smstest.Sign(token, s.URL+sms.InboundPath, form))
}

func (s *server) post(t *testing.T, path string, form url.Values, signature string) (int, []string) {
	req, err := http.NewRequest("POST", s.URL+path, strings.NewReader(form.Encode()))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if signature != "" {
		req.Header.Set("X-Twilio-Signature", signature)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil
	}
	assert.Equal(t, "text/xml; charset=utf-8", resp.Header.Get("Content-Type"))
	var doc struct {
		XMLName  xml.Name `xml:"Response"`
		Messages []string `xml:"Message"`
	}
	require.NoError(t, xml.Unmarshal(raw, &doc), string(raw))
	return resp.StatusCode, doc.Messages
}

func (s *server) conversation(t *testing.T) *bot.Conversation {
	c, err := s.engine.Conversation(context.Background(), s.engine.ID(bot.ChannelSMS, tenant))
	require.NoError(t, err)
	return c
}

var intake = []string{
	"Hi", "Y", "no", "TF11 8AB", "1", "1", "yes", "yes", "Log 1234 with the police", "yeah",
	"The back door lock is broken", "no", "1", "yes", "Text only after 6pm, no voicemail", "1",
}

func TestWholeIntakeBySMS(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	var last []string
	for i, body := range intake {
		status, msgs := s.text(t, fmt.Sprintf("SM%032d", i), body)
		require.Equal(t, http.StatusOK, status, "text %d", i)
		require.NotEmpty(t, msgs, "text %d (%q) got no reply", i, body)
		for _, m := range msgs {
			assert.True(t, bot.FitsSegments(m), "over two segments: %q", m)
			_, at := bot.LockScreenWord(m)
			assert.Negative(t, at, "lock-screen word in %q", m)
		}
		last = msgs
	}
	assert.Equal(t, "Thank you. An officer will contact you by Wed 2 Dec, 10am. If someone might check your phone, delete these messages. Reply X to leave.", last[0])
	assert.Contains(t, last[1], "999")
	assert.Contains(t, s.events.Kinds(), bot.EventHandoff)
	c := s.conversation(t)
	require.NotNil(t, c)
	assert.Equal(t, "handed_off", c.State)
	assert.Equal(t, bot.High, c.Priority)
}

func TestOptOutMidScript(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	for i, body := range []string{"hi", "y", "n", "1", "STOP"} {
		status, msgs := s.text(t, fmt.Sprint("SMstop", i), body)
		require.Equal(t, http.StatusOK, status)
		if body == "STOP" {
			assert.Empty(t, msgs, "nothing is sent after STOP")
		}
	}
	assert.Nil(t, s.conversation(t), "the conversation is erased")
	assert.Contains(t, s.events.Kinds(), bot.EventOptedOut)
	lines, err := s.store.Transcript(context.Background(), s.engine.ID(bot.ChannelSMS, tenant))
	require.NoError(t, err)
	assert.Empty(t, lines)

	// Writing again later starts afresh with the safe-to-talk check.
	_, msgs := s.text(t, "SMstop-later", "hello")
	require.Len(t, msgs, 1)
	assert.Contains(t, msgs[0], "Is it safe for you to message now?")
}

func TestDeleteErases(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	for i, body := range []string{"hi", "y", "n", "tf1 1aa", "1", "delete"} {
		status, _ := s.text(t, fmt.Sprint("SMdel", i), body)
		require.Equal(t, http.StatusOK, status)
	}
	assert.Nil(t, s.conversation(t))
	assert.Contains(t, s.events.Kinds(), bot.EventErased)
	n, err := sh.rdb.Exists(context.Background(), s.store.LogKey(s.engine.ID(bot.ChannelSMS, tenant))).Result()
	require.NoError(t, err)
	assert.Zero(t, n, "no transcript is left")
}

func TestRefused(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{MaxBody: 4 << 10})
	form := url.Values{"MessageSid": {"SMrefused"}, "From": {tenant}, "Body": {"hi"}}
	full := s.URL + sms.InboundPath
	other := url.Values{"MessageSid": {"SMrefused"}, "From": {tenant}, "Body": {"y"}}

	cases := []struct {
		name   string
		form   url.Values
		sig    string
		path   string
		status int
	}{
		{"missing signature", form, "", sms.InboundPath, http.StatusForbidden},
		{"forged with another token", form, smstest.Sign("not-the-token", full, form), sms.InboundPath, http.StatusForbidden},
		{"stale: an earlier request's signature on a new body", form, smstest.Sign(token, full, other), sms.InboundPath, http.StatusForbidden},
		{"signed for another URL", form, smstest.Sign(token, "https://evil.example"+sms.InboundPath, form), sms.InboundPath, http.StatusForbidden},
		{"signed for the other path", form, smstest.Sign(token, s.URL+sms.StatusPath, form), sms.InboundPath, http.StatusForbidden},
		{"garbage signature", form, "!!!", sms.InboundPath, http.StatusForbidden},
		{"no From", url.Values{"MessageSid": {"SMx"}, "Body": {"hi"}}, "", sms.InboundPath, http.StatusBadRequest},
		{"oversized body", url.Values{"MessageSid": {"SMbig"}, "From": {tenant}, "Body": {strings.Repeat("a", 5000)}}, "", sms.InboundPath, http.StatusRequestEntityTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sig := c.sig
			if sig == "" && c.status != http.StatusForbidden {
				sig = smstest.Sign(token, s.URL+c.path, c.form)
			}
			status, msgs := s.post(t, c.path, c.form, sig)
			assert.Equal(t, c.status, status)
			assert.Empty(t, msgs)
		})
	}
	assert.Nil(t, s.conversation(t), "no refused request started a conversation")

	t.Run("malformed form", func(t *testing.T) {
		body := "From=%2B447700900123&Body=%zz&MessageSid=SMbad"
		req, _ := http.NewRequest("POST", full, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", smstest.Sign(token, full, url.Values{"From": {tenant}, "Body": {"%zz"}, "MessageSid": {"SMbad"}}))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Contains(t, []int{http.StatusBadRequest, http.StatusForbidden}, resp.StatusCode)
	})
	t.Run("GET", func(t *testing.T) {
		resp, err := http.Get(full)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
	})
}

func TestNoAuthTokenRefusesEverything(t *testing.T) {
	sh := newShared(t)
	bundle := sh.bundle
	eng, err := bot.New(bot.Config{Flow: bundle.Flow, Store: redisstore.New(sh.rdb, sh.sealer, redisstore.Options{Prefix: sh.prefix}),
		Directory: bundle.Directory, Hours: bundle.Hours, Keyer: bot.NewKeyer([]byte("k"))})
	require.NoError(t, err)
	h, err := sms.New(sms.Config{Engine: eng, PublicBaseURL: "https://contact.example.org"})
	require.NoError(t, err)
	assert.False(t, h.Enabled())
	form := url.Values{"MessageSid": {"SM1"}, "From": {tenant}, "Body": {"hi"}}
	for _, sig := range []string{"", smstest.Sign("", "https://contact.example.org"+sms.InboundPath, form)} {
		req := httptest.NewRequest("POST", sms.InboundPath, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		assert.Equal(t, http.StatusForbidden, w.Code)
	}
}

func TestPublicBaseURLBehindAProxy(t *testing.T) {
	// Twilio calls https://contact.example.org/safecontact/sms/twilio; the
	// proxy strips /safecontact and forwards over plain HTTP.
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{PublicBaseURL: "https://contact.example.org/safecontact/"})
	form := url.Values{"MessageSid": {"SMproxy"}, "From": {tenant}, "Body": {"hi"}}
	status, msgs := s.post(t, sms.InboundPath, form, smstest.Sign(token, "https://contact.example.org/safecontact"+sms.InboundPath, form))
	assert.Equal(t, http.StatusOK, status)
	assert.Len(t, msgs, 1)
	status, _ = s.post(t, sms.InboundPath, form, smstest.Sign(token, s.URL+sms.InboundPath, form))
	assert.Equal(t, http.StatusForbidden, status, "the Host the request arrived on does not count")
}

func TestSameMessageSidTwice(t *testing.T) {
	sh := newShared(t)
	a := sh.start(t, nil, sms.Config{})
	b := sh.start(t, nil, sms.Config{})
	a.text(t, "SM-first", "hi")
	_, first := a.text(t, "SM-dup", "y")
	_, again := b.text(t, "SM-dup", "y") // redelivered, to the other process
	assert.Equal(t, first, again, "a redelivery gets the same reply")
	c := a.conversation(t)
	assert.Equal(t, "danger", c.State, "applied once: still at the danger question")
	lines, err := a.store.Transcript(context.Background(), a.engine.ID(bot.ChannelSMS, tenant))
	require.NoError(t, err)
	assert.Len(t, lines, 2)
}

// Two texts from one tenant arrive at once, on one process and on two
// processes sharing Redis: each is applied exactly once, one after the
// other, and each gets the reply for its place in that order.
func TestTwoTextsAtOnce(t *testing.T) {
	for _, processes := range []int{1, 2} {
		t.Run(fmt.Sprint(processes, " processes"), func(t *testing.T) {
			sh := newShared(t)
			servers := []*server{sh.start(t, nil, sms.Config{})}
			if processes == 2 {
				servers = append(servers, sh.start(t, nil, sms.Config{}))
			}
			// Up to "security", a free-text question followed by another
			// ("needs"), so any text is an answer to either.
			for i, body := range []string{"hi", "y", "n", "tf1 1aa", "1", "1", "y", "n", "n", "y"} {
				servers[0].text(t, fmt.Sprint("SM-setup-", i), body)
			}
			require.Equal(t, "security", servers[0].conversation(t).State)
			const rounds = 10
			for round := range rounds {
				texts := []string{fmt.Sprintf("first text %d", round), fmt.Sprintf("second text %d", round)}
				replies := make([][]string, 2)
				var wg sync.WaitGroup
				for i, body := range texts {
					wg.Add(1)
					go func() {
						defer wg.Done()
						s := servers[i%len(servers)]
						var status int
						status, replies[i] = s.text(t, fmt.Sprintf("SM-%d-%d", round, i), body)
						assert.Equal(t, http.StatusOK, status)
					}()
				}
				wg.Wait()
				c := servers[0].conversation(t)
				require.NotNil(t, c)
				assert.Equal(t, "officer_pref", c.State, "round %d: both texts applied", round)
				sec, needs := c.Answers["security"], c.Answers["needs"]
				assert.ElementsMatch(t, texts, []string{sec, needs}, "round %d: each text applied once", round)
				for i, body := range texts {
					require.Len(t, replies[i], 1)
					want := "Do you need an interpreter" // the question after security
					if body == needs {
						want = "Would you prefer a woman or a man officer?"
					}
					assert.Contains(t, replies[i][0], want, "round %d: %q got the reply of its turn", round, body)
				}
				for j := range 2 {
					servers[0].text(t, fmt.Sprintf("SM-back-%d-%d", round, j), "back")
				}
				require.Equal(t, "security", servers[0].conversation(t).State)
			}
			lines, err := servers[0].store.Transcript(context.Background(), servers[0].engine.ID(bot.ChannelSMS, tenant))
			require.NoError(t, err)
			assert.Len(t, lines, 10+rounds*4, "every text once in the transcript")
		})
	}
}

// When Redis is slow the tenant gets the fallback reply well inside
// Twilio's 15 seconds, and the turn is not applied: the next text is
// read against the same question.
func TestSlowRedisFallsBack(t *testing.T) {
	sh := newShared(t)
	slow, setDelay := storetest.SlowRedis(t, sh.rdb, func(o *redis.Options) { o.ContextTimeoutEnabled = true })
	var logs bytes.Buffer
	s := sh.start(t, slow, sms.Config{TurnTimeout: 300 * time.Millisecond, Log: slog.New(slog.NewJSONHandler(&logs, nil))})
	s.text(t, "SM-slow-0", "hi")

	setDelay(time.Second)
	start := time.Now()
	status, msgs := s.text(t, "SM-slow-1", "y")
	took := time.Since(start)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, []string{sms.Fallback}, msgs)
	assert.Less(t, took, 10*time.Second, "answered inside Twilio's limit")
	assert.Contains(t, logs.String(), "turn failed")

	setDelay(0)
	time.Sleep(1200 * time.Millisecond) // let the held commands reach Redis
	c := s.conversation(t)
	assert.Equal(t, "safe_to_talk", c.State, "the slow turn was not applied")
	_, msgs = s.text(t, "SM-slow-2", "y")
	require.NotEmpty(t, msgs)
	assert.Contains(t, msgs[0], "Are you in danger right now?")
}

// Logs name conversations by id: no number and nothing the tenant wrote.
func TestLogsHoldNothingPersonal(t *testing.T) {
	sh := newShared(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s := sh.start(t, nil, sms.Config{Log: log})
	for i, body := range intake {
		s.text(t, fmt.Sprint("SMlog", i), body)
	}
	s.text(t, "SMlog3", "redelivered") // a duplicate id, logged
	s.post(t, sms.InboundPath, url.Values{"From": {tenant}, "Body": {"forged"}}, "bad")
	require.NotEmpty(t, logs.String(), "the test must see some log lines")
	for _, secret := range []string{"7700900123", "7700 900123", "Log 1234", "back door", "6pm", "TF11", "forged"} {
		assert.NotContains(t, logs.String(), secret)
	}
}

func TestStatusCallback(t *testing.T) {
	sh := newShared(t)
	var mu sync.Mutex
	got := map[string]string{}
	s := sh.start(t, nil, sms.Config{OnStatus: func(_ context.Context, sid, status string) error {
		mu.Lock()
		defer mu.Unlock()
		got[sid] = status
		return nil
	}})
	form := url.Values{"MessageSid": {"SM1"}, "MessageStatus": {"delivered"}, "AccountSid": {"AC1"}}
	full := s.URL + sms.StatusPath
	status, _ := s.post(t, sms.StatusPath, form, "")
	assert.Equal(t, http.StatusForbidden, status, "unsigned")
	status, _ = s.post(t, sms.StatusPath, form, smstest.Sign(token, s.URL+sms.InboundPath, form))
	assert.Equal(t, http.StatusForbidden, status, "signed for the other path")
	mu.Lock()
	assert.Empty(t, got)
	mu.Unlock()
	status, _ = s.post(t, sms.StatusPath, form, smstest.Sign(token, full, form))
	assert.Equal(t, http.StatusNoContent, status)
	mu.Lock()
	assert.Equal(t, map[string]string{"SM1": "delivered"}, got)
	mu.Unlock()
}
