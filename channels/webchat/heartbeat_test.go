package webchat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/webchat"
)

// An open page keeps its chat open while the tenant waits without
// writing; and if the chat ends or expires meanwhile, the open stream
// says so with an end event rather than go quiet.
func TestAnOpenStreamKeepsItsChatAndSaysWhenItEnds(t *testing.T) {
	defer webchat.SetHeartbeat(100 * time.Millisecond)()
	a, _, prefix := redisPair(t)
	token := a.start(t)
	first := a.stream(t, token, "", 1)
	require.Len(t, first, 1)

	rdb := storetest.Redis(t)
	ctx := context.Background()
	keys := storetest.Keys(t, rdb, prefix+"{*}:s")
	require.Len(t, keys, 1, "one session")
	require.NoError(t, rdb.PExpire(ctx, keys[0], 300*time.Millisecond).Err())

	got := make(chan []event, 1)
	go func() { got <- a.stream(t, token, first[0].ID, 1) }()
	time.Sleep(time.Second)
	ttl, err := rdb.PTTL(ctx, keys[0]).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, time.Minute, "the open stream kept the chat open past its old expiry")

	require.NoError(t, rdb.Del(ctx, keys[0]).Err()) // the chat expires, or ends elsewhere
	select {
	case evs := <-got:
		require.Len(t, evs, 1)
		assert.Equal(t, "end", evs[0].From, "the page is told the chat ended")
	case <-time.After(5 * time.Second):
		t.Fatal("the stream went quiet instead of ending")
	}
}

// A refusal gives the 999 advice: whoever is turned away may be in
// danger now.
func TestRefusalsGiveTheEmergencyAdvice(t *testing.T) {
	r := newRig(t, "", 1, 1)
	token := r.start(t)
	status, body := r.do(t, "POST", "/chat/api/session", "", "")
	assert.Equal(t, 429, status)
	assert.Contains(t, body["error"], "call 999", "a second new chat in the minute")
	require.Equal(t, 202, r.say(t, token, "yes"))
	status, body = r.do(t, "POST", "/chat/api/message", token, `{"text":"no"}`)
	assert.Equal(t, 429, status)
	assert.Contains(t, body["error"], "call 999", "a second message in the minute")
}
