package webchat_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/seal"
)

// After the quick exit, what the chat showed is kept only the minute an
// open stream needs to read the end: neither the end event added after
// the exit nor a request's touch keeps it for the idle hour.
func TestQuickExitLeavesTheStreamAMinuteAtMost(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t) + "chat:"
	key, err := seal.GenerateKey()
	require.NoError(t, err)
	sealer, err := seal.New(key)
	require.NoError(t, err)
	st := webchat.NewRedisStore(rdb, sealer, prefix, nil)
	ctx := context.Background()
	const hash = "0123456789abcdef"
	require.NoError(t, st.Create(ctx, webchat.Session{Hash: hash, Conv: "conv-exit", Client: "client-1"}, time.Hour, webchat.OpenLimits{}))
	_, err = st.Append(ctx, hash, webchat.Event{From: "bot", Text: "Is it safe for you to message now?"}, time.Hour, true)
	require.NoError(t, err)

	require.NoError(t, st.Drop(ctx, hash))
	_, err = st.Append(ctx, hash, webchat.Event{From: "end"}, time.Hour, false)
	require.NoError(t, err, "the end event still reaches an open stream")
	_, err = st.Touch(ctx, hash, time.Hour)
	assert.ErrorIs(t, err, webchat.ErrNoSession)

	left, err := rdb.PTTL(ctx, prefix+"{"+hash+"}:e").Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, left, time.Minute, "kept a minute at most after the exit")
	assert.Positive(t, left)
	_, err = st.Append(ctx, hash, webchat.Event{From: "officer", Text: "Hello"}, time.Hour, true)
	assert.ErrorIs(t, err, webchat.ErrNoSession, "an officer's message does not reach an ended chat")
}
