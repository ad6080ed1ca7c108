package memstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/bot/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (bot.Store, bot.Store) {
		s := memstore.New(nil)
		return s, s
	})
}

func TestSweep(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	s := memstore.New(func() time.Time { return now })
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, "short", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Minute}))
	require.NoError(t, s.Save(ctx, "long", 0, bot.Commit{Conversation: &bot.Conversation{State: "safe"}, TTL: time.Hour}))

	now = now.Add(59 * time.Second)
	assert.Zero(t, s.Sweep())
	now = now.Add(time.Second)
	assert.Equal(t, 1, s.Sweep(), "the conversation whose TTL ended is dropped")
	assert.Equal(t, 1, s.Len())
	c, _, err := s.Load(ctx, "long")
	require.NoError(t, err)
	assert.NotNil(t, c)
}
