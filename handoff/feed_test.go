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
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/handoff"
)

var _ handoff.FeedLog = (*memstore.Store)(nil)

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

func exitTurn(t *testing.T, s *memstore.Store, id bot.ConversationID, version int64) {
	t.Helper()
	require.NoError(t, s.Save(context.Background(), id, version, bot.Commit{
		Conversation: &bot.Conversation{State: "ended"}, TTL: time.Hour,
		Events: []bot.Event{{Kind: bot.EventExited, Conversation: id}},
	}))
}

func TestConsoleFeedPrintsEachLoggedEventOnce(t *testing.T) {
	s := memstore.New(nil)
	var out strings.Builder
	feed := handoff.NewConsoleFeed(s, handoff.NewConsole(&out, nil), nil)
	exitTurn(t, s, "abcdefghij", 0)
	require.NoError(t, feed.Take(context.Background()))
	require.NoError(t, feed.Take(context.Background()))
	assert.Equal(t, "=== Case abcdefgh: tenant ended the chat. Do not text unless they write again ===\n", out.String())
	left, err := s.Events(context.Background(), 10)
	require.NoError(t, err)
	assert.Empty(t, left, "what was shown is trimmed from the log")

	exitTurn(t, s, "klmnopqrst", 0)
	require.NoError(t, feed.Take(context.Background()))
	assert.Contains(t, out.String(), "=== Case klmnopqr: tenant ended the chat")
}

func TestConsoleFeedRunsUntilItsContextEnds(t *testing.T) {
	s := memstore.New(nil)
	out := &lockedBuilder{}
	feed := handoff.NewConsoleFeed(s, handoff.NewConsole(out, nil), nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		feed.Run(ctx)
	}()
	exitTurn(t, s, "abcdefghij", 0)
	assert.Eventually(t, func() bool { return strings.Contains(out.String(), "Case abcdefgh") }, 5*time.Second, 5*time.Millisecond,
		"a logged event is shown without waiting for another")
	cancel()
	<-done
	assert.Equal(t, 1, strings.Count(out.String(), "Case abcdefgh"))
}
