package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/channels/console"
	"github.com/safecontact/safecontact/flows/flowstest"
)

func engine(t *testing.T, now time.Time) *bot.Engine {
	return flowstest.Engine(t, memstore.New(func() time.Time { return now }), now)
}

func TestSessionRunsAnIntakeToTheHandoff(t *testing.T) {
	now := time.Date(2026, 12, 4, 16, 0, 0, 0, time.UTC) // a Friday
	store := memstore.New(func() time.Time { return now })
	events := flowstest.EventsIn(t, store)
	s := console.Session{Engine: flowstest.Engine(t, store, now), Address: "terminal", Area: "shropshire"}
	in := strings.NewReader("hi\ny\nn\n1\n1\nn\nn\nn\ny\nn\nn\n3\ny\ntext only\n1\n")
	var out strings.Builder
	require.NoError(t, s.Run(context.Background(), in, &out))

	text := out.String()
	assert.True(t, strings.HasPrefix(text, "Hi, this is your housing team. Is it safe"), text)
	assert.Contains(t, text, "An officer will contact you by Mon 7 Dec, 4pm.")
	all := events.All()
	require.NotEmpty(t, all)
	last := all[len(all)-1]
	assert.Equal(t, bot.EventHandoff, last.Kind)
	assert.Equal(t, "shropshire", last.Handoff.Area)
}

func TestSessionSendsEachRunAsNewMessages(t *testing.T) {
	// Two runs on one store with the same lines: the second run's lines
	// must not be taken for redeliveries of the first run's.
	eng := engine(t, time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC))
	s := console.Session{Engine: eng, Address: "terminal"}
	var first, second strings.Builder
	require.NoError(t, s.Run(context.Background(), strings.NewReader("hi\n"), &first))
	require.NoError(t, s.Run(context.Background(), strings.NewReader("y\n"), &second))
	assert.Contains(t, second.String(), "Are you in danger right now?")
}
