package webchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/flows/flowstest"
	"github.com/safecontact/safecontact/seal"
)

// redisPair starts two web chat servers, as two serve processes would be,
// on one engine and one Redis, each with its own client and its own
// wake-up subscription. limits are messages and new chats per minute.
func redisPair(t *testing.T, limits ...int) (a, b *rig, prefix string) {
	t.Helper()
	return redisPairWith(t, nil, limits...)
}

// interrupted is an engine that runs before ahead of each turn.
type interrupted struct {
	webchat.Engine
	before func(bot.Inbound)
}

func (e interrupted) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	e.before(in)
	return e.Engine.Handle(ctx, in)
}

// redisPairWith is redisPair with beforeA run ahead of each of a's turns,
// when it is not nil.
func redisPairWith(t *testing.T, beforeA func(bot.Inbound), limits ...int) (a, b *rig, prefix string) {
	t.Helper()
	storetest.Redis(t)
	prefix = storetest.Prefix(t) + "chat:"
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	store := memstore.New(func() time.Time { return now })
	eng := &recording{Engine: flowstest.Engine(t, store, now)}
	key, err := seal.GenerateKey()
	require.NoError(t, err)
	sealer, err := seal.New(key)
	require.NoError(t, err)
	flowEngine := eng.Engine
	one := func(eng webchat.Engine) *rig {
		rdb := storetest.Redis(t)
		r := serveWith(t, eng, func(cfg *webchat.Config) {
			cfg.Store = webchat.NewRedisStore(rdb, sealer, prefix, nil)
			if len(limits) == 2 {
				cfg.MessagesPerMinute, cfg.SessionsPerMinute = limits[0], limits[1]
			}
		})
		r.engine = flowEngine
		r.events = flowstest.EventsIn(t, store)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { r.chat.Run(ctx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		return r
	}
	if beforeA == nil {
		a = one(eng)
	} else {
		a = one(interrupted{Engine: eng, before: beforeA})
	}
	b = one(eng)
	rdb := storetest.Redis(t)
	t.Cleanup(func() {
		ctx := context.Background()
		for _, k := range storetest.Keys(t, rdb, prefix+"*") {
			rdb.Del(ctx, k)
		}
	})
	return a, b, prefix
}

// A chat started through one process carries on through another, from
// the last event the page showed: nothing lost, nothing twice.
func TestRedisChatContinuesOnAnotherProcess(t *testing.T) {
	a, b, prefix := redisPair(t)
	token := a.start(t)
	first := a.stream(t, token, "", 1)
	require.Len(t, first, 1)
	assert.Contains(t, first[0].Text, "Is it safe for you to message now?")
	assert.Regexp(t, `^\d+-\d+$`, first[0].ID, "a Redis Stream id")

	require.Equal(t, http.StatusAccepted, b.say(t, token, "yes"))
	require.Equal(t, http.StatusAccepted, a.say(t, token, "no"))
	again := b.stream(t, token, first[0].ID, 2)
	require.Len(t, again, 2)
	assert.Contains(t, again[0].Text, "Are you in danger right now?")
	all := a.stream(t, token, "", 3)
	assert.Equal(t, []string{first[0].ID, again[0].ID, again[1].ID}, []string{all[0].ID, all[1].ID, all[2].ID}, "the same ids through either process")

	// An id of the in-memory kind is refused, not taken as a time.
	req, _ := http.NewRequest("GET", b.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Last-Event-ID", "1")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	// Redis holds no token and no words in the clear.
	rdb := storetest.Redis(t)
	keys := storetest.Keys(t, rdb, prefix+"*")
	require.NotEmpty(t, keys)
	for _, k := range keys {
		assert.NotContains(t, k, token)
		dump, err := rdb.Dump(context.Background(), k).Result()
		require.NoError(t, err)
		assert.NotContains(t, dump, token, k)
		assert.NotContains(t, dump, "safe", k)
	}

	// Ended through one, it is ended in both.
	status, _ := b.do(t, "POST", "/chat/api/end", token, "")
	require.Equal(t, http.StatusNoContent, status)
	status, body := a.do(t, "POST", "/chat/api/message", token, `{"text":"hi"}`)
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "no_session", body["code"], "the page offers a fresh start only on this code")
}

// An officer's message pushed through one process reaches the stream
// another holds, woken at once rather than at its next poll.
func TestRedisPushReachesAStreamOnAnotherProcess(t *testing.T) {
	a, b, _ := redisPair(t)
	token := a.start(t)
	require.Equal(t, http.StatusAccepted, a.say(t, token, "yes"))
	require.Equal(t, http.StatusAccepted, a.say(t, token, "no"))
	conv := conversationOf(t, a, token)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", a.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	var seen []event
	next := func() event {
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var e event
				require.NoError(t, json.Unmarshal([]byte(data), &e))
				seen = append(seen, e)
				return e
			}
		}
		t.Fatal("the stream ended")
		return event{}
	}
	for len(seen) < 4 { // the start, yes, no and the handoff's first reply
		next()
	}
	time.Sleep(300 * time.Millisecond) // the rest of the handoff's replies
	start := time.Now()
	require.NoError(t, b.chat.Push(context.Background(), conv, "slack:1", "Hello, I'm Sam."))
	var e event
	for e = next(); e.From != "officer"; e = next() {
	}
	took := time.Since(start)
	assert.Equal(t, "Hello, I'm Sam.", e.Text)
	// Sent again through the other process after a lost answer: shown
	// once.
	require.NoError(t, a.chat.Push(context.Background(), conv, "slack:1", "Hello, I'm Sam."))
	require.NoError(t, a.chat.Push(context.Background(), conv, "slack:9", "Is now a good time?"))
	for e = next(); e.From != "officer"; e = next() {
	}
	assert.Equal(t, "Is now a good time?", e.Text, "the repeated reply was not shown again")
	assert.Less(t, took, 2*time.Second, "woken by the notification, not the poll")
	t.Logf("pushed on one process, shown by the other in %s", took)
	ids := map[string]bool{}
	for _, e := range seen {
		assert.False(t, ids[e.ID], "event %s twice", e.ID)
		ids[e.ID] = true
	}
	assert.ErrorIs(t, b.chat.Push(context.Background(), "nobody", "slack:2", "hi"), webchat.ErrNoSession)
}

// The rate limits count across processes.
func TestRedisRateLimitsHoldAcrossProcesses(t *testing.T) {
	a, b, _ := redisPair(t, 4, 2)
	token := a.start(t)
	b.start(t)
	status, body := a.do(t, "POST", "/chat/api/session", "", "")
	assert.Equal(t, http.StatusTooManyRequests, status, "%v", body)
	status, _ = b.do(t, "POST", "/chat/api/session", "", "")
	assert.Equal(t, http.StatusTooManyRequests, status)

	var codes []int
	for i := range 6 {
		r := a
		if i%2 == 1 {
			r = b
		}
		codes = append(codes, r.say(t, token, "yes"))
	}
	assert.Equal(t, []int{202, 202, 202, 202, 429, 429}, codes)
}

// An open stream is not a way to hold the process: a few per chat.
func TestRedisStreamsPerChat(t *testing.T) {
	a, _, _ := redisPair(t)
	token := a.start(t)
	var open []*http.Response
	for range 2 {
		req, _ := http.NewRequest("GET", a.URL+"/chat/api/events", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, resp.StatusCode)
		open = append(open, resp)
	}
	// A third (a phone that changed networks again): it is served, and
	// the oldest stream is ended to make room.
	req, _ := http.NewRequest("GET", a.URL+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the newest stream is served")
	ended := make(chan struct{})
	go func() { io.Copy(io.Discard, open[0].Body); close(ended) }()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Error("the oldest stream was not ended")
	}
	for _, r := range open {
		r.Body.Close()
	}
}

// A message on its way through one process when the tenant presses the
// quick exit on another is not applied: the erased conversation does not
// start again from the words the tenant left behind, and no case opens.
func TestRedisMessageInFlightAtTheQuickExitIsNotApplied(t *testing.T) {
	var b *rig
	var token string
	exited := make(chan int, 1)
	a, b, _ := redisPairWith(t, func(in bot.Inbound) {
		if in.Text == "he's got a knife" {
			status, _ := b.do(t, "POST", "/chat/api/end", token, "")
			exited <- status
		}
	})
	token = a.start(t)
	require.Equal(t, http.StatusAccepted, a.say(t, token, "yes"))

	status, body := a.do(t, "POST", "/chat/api/message", token, `{"text":"he's got a knife"}`)
	require.Equal(t, http.StatusNoContent, <-exited, "the quick exit went first")
	assert.Equal(t, http.StatusNotFound, status)
	assert.Equal(t, "no_session", body["code"], "the page ends the chat")

	conv, err := a.engine.Conversation(context.Background(), a.engine.ID(bot.ChannelWebChat, a.chat.Address(token)))
	require.NoError(t, err)
	assert.Nil(t, conv, "the conversation stays erased")
	assert.Equal(t, []bot.EventKind{bot.EventExited}, a.events.Kinds(), "no case, no danger alert")
	assert.Equal(t, http.StatusNotFound, b.say(t, token, "hello"))
}
