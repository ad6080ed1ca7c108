package handoff_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// lockedBuilder is a strings.Builder safe to read while the feed writes.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func exitTurn(l *eventLog, id bot.ConversationID) {
	l.log(1764500000000, bot.Event{Kind: bot.EventExited, Conversation: id})
}

func TestConsoleFeedPrintsEachLoggedEventOnce(t *testing.T) {
	l := newEventLog()
	var out strings.Builder
	feed := handoff.NewConsoleFeed(l, handoff.NewConsole(&out, nil), nil)
	exitTurn(l, "abcdefghij")
	require.NoError(t, feed.Take(context.Background()))
	require.NoError(t, feed.Take(context.Background()))
	assert.Equal(t, "=== Case abcdefgh: tenant ended the chat. Do not text unless they write again ===\n", out.String())
	assert.Zero(t, l.left(), "what was shown is taken from the log")

	exitTurn(l, "klmnopqrst")
	require.NoError(t, feed.Take(context.Background()))
	assert.Contains(t, out.String(), "=== Case klmnopqr: tenant ended the chat")
}

func TestConsoleFeedRunsUntilItsContextEnds(t *testing.T) {
	l := newEventLog()
	out := &lockedBuilder{}
	feed := handoff.NewConsoleFeed(l, handoff.NewConsole(out, nil), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Run(ctx)
	}()
	exitTurn(l, "abcdefghij")
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), "Case abcdefgh") }, 5*time.Second, 5*time.Millisecond,
		"a logged event is shown without waiting for another")
	cancel()
	<-done
	assert.Equal(t, 1, strings.Count(out.String(), "Case abcdefgh"))
}
