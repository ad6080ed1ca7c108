package sms_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/seal"
)

const accountSID = "AC00000000000000000000000000000001"

// fakeTwilio is a local Twilio REST API for Messages: create and list.
// Tell it how to answer the next creates with fail.
type fakeTwilio struct {
	*httptest.Server
	now   func() time.Time
	mu    sync.Mutex
	sent  []sentText // accepted texts, oldest first
	fails []func(w http.ResponseWriter) bool
	calls int
}

type sentText struct{ SID, To, From, Body, Created string }

func newFakeTwilio(t *testing.T) *fakeTwilio {
	f := &fakeTwilio{now: time.Now}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

// fail queues answers for the next creates: each returns true when it
// answered (refused) and false to let the create through afterwards.
func (f *fakeTwilio) fail(answers ...func(w http.ResponseWriter) bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fails = append(f.fails, answers...)
}

func status(code int, retryAfter string) func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		fmt.Fprintf(w, `{"code": 20500, "message": "try later", "more_info": "", "status": %d}`, code)
		return true
	}
}

// acceptThenDrop creates the text but never answers: the response is lost.
func acceptThenDrop() func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		hj, ok := w.(http.Hijacker)
		if !ok {
			panic("no hijacker")
		}
		conn, _, _ := hj.Hijack()
		conn.Close()
		return false
	}
}

// acceptThenFail creates the text but answers with a server error.
func acceptThenFail(code int) func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		status(code, "")(w)
		return false
	}
}

func (f *fakeTwilio) serve(w http.ResponseWriter, r *http.Request) {
	user, pass, ok := r.BasicAuth()
	if !ok || user != accountSID || pass != token {
		http.Error(w, `{"status": 401}`, http.StatusUnauthorized)
		return
	}
	path := "/2010-04-01/Accounts/" + accountSID + "/Messages.json"
	if r.URL.Path != path {
		http.NotFound(w, r)
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch r.Method {
	case "POST":
		f.calls++
		r.ParseForm()
		var answer func(http.ResponseWriter) bool
		if len(f.fails) > 0 {
			answer, f.fails = f.fails[0], f.fails[1:]
		}
		text := sentText{
			SID: fmt.Sprintf("SM%032d", len(f.sent)+1), To: r.Form.Get("To"), From: r.Form.Get("From"),
			Body: r.Form.Get("Body"), Created: f.now().UTC().Format(time.RFC1123Z),
		}
		if answer != nil {
			if answer(w) {
				return
			}
			f.sent = append(f.sent, text) // accepted, answer lost
			return
		}
		f.sent = append(f.sent, text)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"sid": text.SID, "to": text.To, "from": text.From, "body": text.Body, "status": "queued", "date_created": text.Created})
	case "GET":
		var out []map[string]any
		for i := len(f.sent) - 1; i >= 0; i-- {
			m := f.sent[i]
			if q := r.URL.Query().Get("To"); q != "" && q != m.To {
				continue
			}
			out = append(out, map[string]any{"sid": m.SID, "to": m.To, "from": m.From, "body": m.Body, "date_created": m.Created})
		}
		json.NewEncoder(w).Encode(map[string]any{"messages": out, "page": 0, "page_size": 50})
	}
}

func (f *fakeTwilio) texts() []sentText {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sentText(nil), f.sent...)
}

// outboxRig is one Redis and one fake Twilio, and a clock the test moves.
type outboxRig struct {
	t      *testing.T
	twilio *fakeTwilio
	sealer *seal.Sealer
	prefix string
	mu     sync.Mutex
	now    time.Time
	ended  map[bot.ConversationID]bool
}

func newOutboxRig(t *testing.T) *outboxRig {
	k, err := seal.GenerateKey()
	require.NoError(t, err)
	sl, err := seal.New(k)
	require.NoError(t, err)
	r := &outboxRig{t: t, twilio: newFakeTwilio(t), sealer: sl, prefix: storetest.Prefix(t),
		now: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), ended: map[bot.ConversationID]bool{}}
	r.twilio.now = r.clock
	return r
}

// end ends the conversation: the gate refuses it from now on.
func (r *outboxRig) end(id bot.ConversationID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ended[id] = true
}

func (r *outboxRig) clock() time.Time { r.mu.Lock(); defer r.mu.Unlock(); return r.now }
func (r *outboxRig) advance(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.now = r.now.Add(d)
}

// process is one safecontact process's outbox: a new one after a restart.
func (r *outboxRig) process(timeout time.Duration, configure ...func(*sms.OutboxOptions)) *sms.Outbox {
	sender, err := sms.NewTwilioSender(sms.TwilioConfig{
		AccountSID: accountSID, AuthToken: token, From: "+441952000000", APIBase: r.twilio.URL, Timeout: timeout,
	})
	require.NoError(r.t, err)
	gate := func(_ context.Context, id bot.ConversationID) (bool, error) {
		r.mu.Lock()
		defer r.mu.Unlock()
		return !r.ended[id], nil
	}
	rdb := storetest.Redis(r.t)
	opts := sms.OutboxOptions{Prefix: r.prefix, Now: r.clock}
	for _, f := range configure {
		f(&opts)
	}
	return sms.NewOutbox(rdb, r.sealer, sender, gate, opts)
}

// drain steps the outbox until nothing is due now.
func drain(t *testing.T, o *sms.Outbox) {
	for range 100 {
		did, err := o.SendNext(context.Background())
		if err != nil {
			t.Logf("step: %v", err)
		}
		if !did {
			return
		}
	}
	t.Fatal("outbox still busy after 100 steps")
}

func TestOutboxSurvivesErrorsAndARestart(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	first := r.process(5 * time.Second)
	require.NoError(t, first.Enqueue(ctx, sms.OutMessage{Key: "slack:1", Conversation: "conv-a", To: tenant, Body: "Hello, this is Sam from the housing team."}))
	require.NoError(t, first.Enqueue(ctx, sms.OutMessage{Key: "slack:1", Conversation: "conv-a", To: tenant, Body: "Hello, this is Sam from the housing team."}), "queueing a key again does nothing")

	r.twilio.fail(status(500, ""), status(429, "120"))
	drain(t, first) // the 500
	assert.Empty(t, r.twilio.texts())
	r.advance(3 * time.Second)
	drain(t, first) // the 429, asking for two minutes
	assert.Empty(t, r.twilio.texts())
	r.advance(time.Minute)
	drain(t, first)
	assert.Empty(t, r.twilio.texts(), "Retry-After is honoured")

	// The process stops; another takes over on the same Redis.
	second := r.process(5 * time.Second)
	r.advance(2 * time.Minute)
	drain(t, second)
	drain(t, first)
	texts := r.twilio.texts()
	require.Len(t, texts, 1, "delivered once")
	assert.Equal(t, tenant, texts[0].To)
	assert.Equal(t, 3, r.twilio.calls)
	state, _, err := second.Status(ctx, "slack:1")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)

	require.NoError(t, second.RecordStatus(ctx, texts[0].SID, "delivered"))
	_, delivery, err := first.Status(ctx, "slack:1")
	require.NoError(t, err)
	assert.Equal(t, "delivered", delivery)
}

// The answer to a send is lost: the text went. The next attempt finds it
// and does not send it again.
func TestOutboxLostAnswerIsNotSentTwice(t *testing.T) {
	for name, answer := range map[string]func(http.ResponseWriter) bool{
		"no answer": acceptThenDrop(),
		// A server error after the message was made (a timeout behind
		// Twilio's front).
		"server error": acceptThenFail(http.StatusInternalServerError),
	} {
		t.Run(name, func(t *testing.T) { lostAnswerIsNotSentTwice(t, answer) })
	}
}

func lostAnswerIsNotSentTwice(t *testing.T, answer func(http.ResponseWriter) bool) {
	r := newOutboxRig(t)
	ctx := context.Background()
	o := r.process(5 * time.Second)
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Are you free to talk at 3?"}))
	r.twilio.fail(answer)
	drain(t, o)
	state, _, err := o.Status(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSending, state, "outcome unknown")
	r.advance(time.Hour)
	drain(t, o)
	assert.Len(t, r.twilio.texts(), 1)
	assert.Equal(t, 1, r.twilio.calls, "no second create")
	state, _, err = o.Status(ctx, "k")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)
}

// hangingSender stands for a process that dies mid-send: it never
// answers, and its context ends with the process.
type hangingSender struct{}

func (hangingSender) Send(ctx context.Context, _, _ string) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

func (hangingSender) Find(ctx context.Context, _, _ string, _ time.Time) (string, error) {
	<-ctx.Done()
	return "", ctx.Err()
}

// A worker dies after claiming a message, before its send is answered:
// once the lease runs out another worker looks it up, finds it was never
// sent, and sends it, once.
// slowSender is a Twilio that takes its time to answer, then takes the
// text.
type slowSender struct {
	wait time.Duration
	mu   sync.Mutex
	sent []string
}

func (s *slowSender) Send(ctx context.Context, _, body string) (string, error) {
	select {
	case <-time.After(s.wait):
	case <-ctx.Done():
		return "", ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sent = append(s.sent, body)
	return fmt.Sprintf("SM%032d", len(s.sent)), nil
}

func (s *slowSender) Find(context.Context, string, string, time.Time) (string, error) { return "", nil }

func (s *slowSender) texts() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.sent...)
}

// A Twilio slower than the lease does not hand a live worker's text to
// another: the lease is renewed while Twilio is asked, and the text goes
// once.
func TestOutboxLeaseHeldWhileTwilioIsSlow(t *testing.T) {
	r := newOutboxRig(t)
	const lease = 300 * time.Millisecond
	gate := func(context.Context, bot.ConversationID) (bool, error) { return true, nil }
	slow := &slowSender{wait: 4 * lease}
	opts := sms.OutboxOptions{Prefix: r.prefix, Now: time.Now, Lease: lease}
	busy := sms.NewOutbox(storetest.Redis(t), r.sealer, slow, gate, opts)
	other := sms.NewOutbox(storetest.Redis(t), r.sealer, slow, gate, opts)
	require.NoError(t, busy.Enqueue(context.Background(), sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Reply when safe."}))

	done := make(chan struct{})
	go func() {
		defer close(done)
		did, err := busy.SendNext(context.Background())
		assert.NoError(t, err)
		assert.True(t, did)
	}()
	for { // wait until the busy worker holds the message
		if state, _, _ := busy.Status(context.Background(), "k"); state == sms.StateSending {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	tries := 0
	for {
		select {
		case <-done:
			assert.Equal(t, []string{"Reply when safe."}, slow.texts(), "sent once, by the worker that held it")
			assert.Positive(t, tries)
			state, _, err := other.Status(context.Background(), "k")
			require.NoError(t, err)
			assert.Equal(t, sms.StateSent, state)
			return
		default:
		}
		did, err := other.SendNext(context.Background())
		require.NoError(t, err)
		assert.False(t, did, "another worker takes nothing while the lease is renewed")
		tries++
		time.Sleep(lease / 4)
	}
}

// deafSender is Twilio as twilio-go reaches it: a send, once asked for,
// is neither stopped nor hurried by the caller's context.
type deafSender struct {
	wait   time.Duration
	asked  chan struct{}
	once   sync.Once
	mu     sync.Mutex
	bodies []string
}

func (s *deafSender) Send(_ context.Context, _, body string) (string, error) {
	s.once.Do(func() { close(s.asked) })
	time.Sleep(s.wait)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.bodies = append(s.bodies, body)
	return "SM00000000000000000000000000000001", nil
}

func (s *deafSender) Find(context.Context, string, string, time.Time) (string, error) { return "", nil }

// A text being sent when the process shuts down is recorded as sent,
// with its lease held until then: it is not left as sending (its
// delivery statuses lost, and sent again by whoever claims it next).
func TestOutboxShutdownFinishesTheSendUnderWay(t *testing.T) {
	r := newOutboxRig(t)
	const lease = 300 * time.Millisecond
	gate := func(context.Context, bot.ConversationID) (bool, error) { return true, nil }
	deaf := &deafSender{wait: 3 * lease, asked: make(chan struct{})}
	opts := sms.OutboxOptions{Prefix: r.prefix, Now: time.Now, Lease: lease, Poll: 10 * time.Millisecond}
	o := sms.NewOutbox(storetest.Redis(t), r.sealer, deaf, gate, opts)
	other := sms.NewOutbox(storetest.Redis(t), r.sealer, deaf, gate, opts)
	require.NoError(t, o.Enqueue(context.Background(), sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Reply when safe."}))

	ctx, shutdown := context.WithCancel(context.Background())
	ran := make(chan error, 1)
	go func() { ran <- o.Run(ctx) }()
	<-deaf.asked
	shutdown()
	// Past the lease while the send goes on: the claim is still held.
	time.Sleep(2 * lease)
	did, err := other.SendNext(context.Background())
	require.NoError(t, err)
	assert.False(t, did, "nothing to take while the send under way holds its lease")
	require.NoError(t, <-ran)
	deaf.mu.Lock()
	assert.Equal(t, []string{"Reply when safe."}, deaf.bodies, "sent once")
	deaf.mu.Unlock()

	state, _, err := o.Status(context.Background(), "k")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state)
	require.NoError(t, o.RecordStatus(context.Background(), "SM00000000000000000000000000000001", "delivered"))
	_, delivery, err := o.Status(context.Background(), "k")
	require.NoError(t, err)
	assert.Equal(t, "delivered", delivery, "its delivery status is recorded")
}

func TestOutboxLeaseOfADeadWorker(t *testing.T) {
	r := newOutboxRig(t)
	alive := r.process(5 * time.Second)
	gate := func(context.Context, bot.ConversationID) (bool, error) { return true, nil }
	dead := sms.NewOutbox(storetest.Redis(t), r.sealer, hangingSender{}, gate, sms.OutboxOptions{Prefix: r.prefix, Now: r.clock})
	require.NoError(t, alive.Enqueue(context.Background(), sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "Reply when safe."}))

	dying, kill := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		dead.SendNext(dying)
	}()
	for { // wait until the dead worker holds the message
		if state, _, _ := alive.Status(context.Background(), "k"); state == sms.StateSending {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	kill()
	<-done

	drain(t, alive)
	assert.Empty(t, r.twilio.texts(), "nothing is sent while the dead worker's lease runs")
	r.advance(5 * time.Second) // the lease, unrenewed: a dead worker's text goes on within it
	drain(t, alive)
	assert.Len(t, r.twilio.texts(), 1)
	r.advance(time.Hour)
	drain(t, alive)
	assert.Len(t, r.twilio.texts(), 1, "sent once")
}

// Texts queued for a conversation that then ended are cancelled, and the
// officer, who saw them go, is told once; a text to a conversation
// already ended is refused as it is queued.
func TestOutboxGateStopsTextsToAnEndedConversation(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.Undelivered = officer.undelivered })
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a2", Conversation: "conv-a", To: tenant, Body: "second"}))
	r.end("conv-a")
	drain(t, o)
	assert.Empty(t, r.twilio.texts())
	for _, k := range []string{"a1", "a2"} {
		state, _, err := o.Status(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, sms.StateCancelled, state)
	}
	assert.Equal(t, []string{"conv-a opted out false: the tenant's conversation ended (they left, or texted STOP or DELETE) or expired before it could be sent, so it was not sent"}, officer.all())

	err := o.Enqueue(ctx, sms.OutMessage{Key: "a3", Conversation: "conv-a", To: tenant, Body: "third"})
	assert.ErrorIs(t, err, sms.ErrConversationEnded)
	assert.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}),
		"a key queued before is queued, whatever came of it")
	state, _, err := o.Status(ctx, "a3")
	require.NoError(t, err)
	assert.Empty(t, state, "nothing queued")
	drain(t, o)
	assert.Empty(t, r.twilio.texts())
}

// A text whose attempt got no clear answer, to a conversation that then
// ended, is looked up before the rest are cancelled: Twilio had made it,
// so it is recorded as sent, and the officer is not told it was not.
func TestOutboxEndedConversationsUnsureTextIsLookedUp(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var officer told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) { opts.Undelivered = officer.undelivered })
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a2", Conversation: "conv-a", To: tenant, Body: "second"}))
	r.twilio.fail(acceptThenFail(http.StatusInternalServerError))
	drain(t, o)
	state, _, err := o.Status(ctx, "a1")
	require.NoError(t, err)
	require.Equal(t, sms.StateSending, state, "made by Twilio, answered 500: unsure")

	r.end("conv-a")
	r.advance(time.Minute)
	drain(t, o)
	state, _, err = o.Status(ctx, "a1")
	require.NoError(t, err)
	assert.Equal(t, sms.StateSent, state, "found in Twilio's list")
	state, _, err = o.Status(ctx, "a2")
	require.NoError(t, err)
	assert.Equal(t, sms.StateCancelled, state)
	assert.Len(t, r.twilio.texts(), 1)
	assert.Equal(t, []string{"conv-a opted out false: the tenant's conversation ended (they left, or texted STOP or DELETE) or expired before it could be sent, so it was not sent"}, officer.all(),
		"told of the second only")
}

func TestOutboxKeepsOrderPerConversation(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	a, b := r.process(5*time.Second), r.process(5*time.Second)
	for i := range 5 {
		require.NoError(t, a.Enqueue(ctx, sms.OutMessage{Key: fmt.Sprint("m", i), Conversation: "conv-a", To: tenant, Body: fmt.Sprint("reply ", i)}))
	}
	r.twilio.fail(status(503, "")) // the first fails once
	// Both workers step at once, round after round; the clock moves
	// between rounds, never past a lease while a send is under way.
	for range 20 {
		var wg sync.WaitGroup
		for _, o := range []*sms.Outbox{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				o.SendNext(ctx)
			}()
		}
		wg.Wait()
		r.advance(5 * time.Second)
	}
	var bodies []string
	for _, m := range r.twilio.texts() {
		bodies = append(bodies, m.Body)
	}
	assert.Equal(t, []string{"reply 0", "reply 1", "reply 2", "reply 3", "reply 4"}, bodies, "each once, in order")
}

func TestOutboxKeepsNothingInClear(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	o := r.process(5 * time.Second)
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "k", Conversation: "conv-a", To: tenant, Body: "The locksmith comes Tuesday"}))
	rdb := storetest.Redis(t)
	keys := storetest.Keys(t, rdb, r.prefix+"*")
	require.NotEmpty(t, keys)
	for _, k := range keys {
		var dump string
		switch rdb.Type(ctx, k).Val() {
		case "hash":
			dump = fmt.Sprint(rdb.HGetAll(ctx, k).Val())
		case "list":
			dump = strings.Join(rdb.LRange(ctx, k, 0, -1).Val(), " ")
		case "zset":
			dump = strings.Join(rdb.ZRange(ctx, k, 0, -1).Val(), " ")
		default:
			dump = rdb.Get(ctx, k).Val()
		}
		for _, secret := range []string{"7700900123", "locksmith"} {
			assert.NotContains(t, k+dump, secret)
		}
		ttl := rdb.PTTL(ctx, k).Val()
		if !strings.HasSuffix(k, "ready") {
			assert.Positive(t, ttl, "%s has no TTL", k)
		}
	}
}

// twilioError answers as Twilio does when it refuses a text.
func twilioError(httpStatus, code int) func(w http.ResponseWriter) bool {
	return func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(httpStatus)
		fmt.Fprintf(w, `{"code": %d, "message": "Attempt to send to unsubscribed recipient %s", "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
			code, tenant, code, httpStatus)
		return true
	}
}

func TestOutboxStopsForATenantWhoOptedOut(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	type told struct {
		conv     bot.ConversationID
		optedOut bool
		reason   string
	}
	var undelivered []told
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.Undelivered = func(_ context.Context, conv bot.ConversationID, optedOut bool, reason string) {
			undelivered = append(undelivered, told{conv, optedOut, reason})
		}
	})
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a2", Conversation: "conv-a", To: tenant, Body: "second"}))
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "b1", Conversation: "conv-b", To: "+447700900999", Body: "other"}))
	r.twilio.fail(twilioError(400, 21610))
	drain(t, o)

	texts := r.twilio.texts()
	require.Len(t, texts, 1)
	assert.Equal(t, "other", texts[0].Body, "other tenants' texts still go")
	for k, want := range map[string]string{"a1": sms.StateFailed, "a2": sms.StateCancelled, "b1": sms.StateSent} {
		state, _, err := o.Status(ctx, k)
		require.NoError(t, err)
		assert.Equal(t, want, state, k)
	}
	require.Len(t, undelivered, 1)
	assert.Equal(t, bot.ConversationID("conv-a"), undelivered[0].conv)
	assert.True(t, undelivered[0].optedOut)
	assert.NotContains(t, undelivered[0].reason, tenant[3:], "the officer is told why, without the number")
}

func TestOutboxRefusalIsReportedWithoutTheNumber(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var reasons []string
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.Undelivered = func(_ context.Context, _ bot.ConversationID, optedOut bool, reason string) {
			assert.False(t, optedOut)
			reasons = append(reasons, reason)
		}
	})
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}))
	r.twilio.fail(twilioError(400, 21211))
	drain(t, o)
	assert.Equal(t, []string{"Twilio refused it (error 21211)"}, reasons)
}

func TestLookupErrorsDoNotCarryTheNumber(t *testing.T) {
	sender, err := sms.NewTwilioSender(sms.TwilioConfig{
		AccountSID: accountSID, AuthToken: token, From: "+441952000000", APIBase: "http://127.0.0.1:1", Timeout: time.Second,
	})
	require.NoError(t, err)
	_, err = sender.Find(context.Background(), tenant, "hello", time.Now())
	require.Error(t, err)
	assert.NotContains(t, err.Error(), tenant[3:], "a lookup's URL holds the number; errors are logged")
	_, err = sender.Send(context.Background(), tenant, "hello")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), tenant[3:])
}

func TestUndeliveredStatusIsReportedOnce(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	var reasons []string
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.Undelivered = func(_ context.Context, conv bot.ConversationID, _ bool, reason string) {
			reasons = append(reasons, string(conv)+": "+reason)
		}
	})
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "a1", Conversation: "conv-a", To: tenant, Body: "first"}))
	drain(t, o)
	texts := r.twilio.texts()
	require.Len(t, texts, 1)
	for _, status := range []string{"sent", "undelivered", "undelivered"} {
		require.NoError(t, o.RecordStatus(ctx, texts[0].SID, status))
	}
	assert.Equal(t, []string{"conv-a: the phone network did not deliver it (Twilio status undelivered)"}, reasons)
}

// A text Twilio keeps refusing is retried at about 1 s, 5 s and 30 s,
// then backs off; a minute after it was queued the officer is told, once,
// that it has not gone, with Twilio's code and without the number.
func TestOutboxRetriesSoonAndSaysWhenATextIsLate(t *testing.T) {
	r := newOutboxRig(t)
	ctx := context.Background()
	type lateNote struct {
		conv   bot.ConversationID
		reason string
	}
	var mu sync.Mutex
	var notes []lateNote
	o := r.process(5*time.Second, func(opts *sms.OutboxOptions) {
		opts.Late = func(_ context.Context, conv bot.ConversationID, reason string) {
			mu.Lock()
			defer mu.Unlock()
			notes = append(notes, lateNote{conv, reason})
		}
	})
	require.NoError(t, o.Enqueue(ctx, sms.OutMessage{Key: "slack:late", Conversation: "conv-late", To: tenant, Body: "Hello, this is Sam."}))
	r.twilio.fail(status(503, ""), status(503, ""), status(503, ""), status(503, ""), status(503, ""))

	calls := func() int { r.twilio.mu.Lock(); defer r.twilio.mu.Unlock(); return r.twilio.calls }
	drain(t, o)
	require.Equal(t, 1, calls())
	// The retries come at about 1 s, 5 s (6 s in) and 30 s (36 s in),
	// each with at most a fifth more of jitter.
	for _, step := range []struct {
		wait  time.Duration
		calls int
	}{{1200 * time.Millisecond, 2}, {6 * time.Second, 3}, {36 * time.Second, 4}} {
		r.advance(step.wait)
		drain(t, o)
		assert.Equal(t, step.calls, calls(), "after %s more", step.wait)
	}
	mu.Lock()
	assert.Empty(t, notes, "not a minute yet")
	mu.Unlock()

	r.advance(72 * time.Second) // the fourth retry, a minute on: 1m 55s after it was queued
	drain(t, o)
	require.Equal(t, 5, calls())
	mu.Lock()
	require.Len(t, notes, 1, "the officer is told once it is over a minute late")
	assert.Equal(t, lateNote{"conv-late", "Twilio error 20500"}, notes[0])
	mu.Unlock()

	r.advance(3 * time.Minute)
	drain(t, o)
	texts := r.twilio.texts()
	require.Len(t, texts, 1, "sent once Twilio takes it")
	mu.Lock()
	assert.Len(t, notes, 1, "and told only once")
	mu.Unlock()
}
