package handoff_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

func TestConsolePrintsTheCaseAndNoAddress(t *testing.T) {
	var out strings.Builder
	london, err := time.LoadLocation("Europe/London")
	require.NoError(t, err)
	c := handoff.NewConsole(&out, london)
	ev := bot.Event{
		Kind: bot.EventHandoff, Conversation: "abcdefghijklmnop", Priority: bot.Urgent,
		Handoff: &bot.Handoff{
			Reason: bot.ReasonComplete, Priority: bot.Urgent, Area: "shropshire", Lang: "en",
			Channel: bot.ChannelSMS, Deadline: time.Date(2026, 12, 29, 15, 0, 0, 0, time.UTC),
			Summary: []bot.SummaryLine{{Step: "contact", Label: "Safe contact", Value: "text only"}},
		},
	}
	require.NoError(t, c.Deliver(context.Background(), ev))
	got := out.String()
	assert.Contains(t, got, "=== Case abcdefgh: URGENT priority, queued ===")
	assert.Contains(t, got, "Contact by: Tue 29 Dec 2026, 15:00")
	assert.Contains(t, got, "  Safe contact: text only\n")
	assert.NotContains(t, got, "ijklmnop", "only a short reference to the conversation")
}

func TestConsoleTellsOfAnExit(t *testing.T) {
	var out strings.Builder
	c := handoff.NewConsole(&out, nil)
	require.NoError(t, c.Deliver(context.Background(), bot.Event{Kind: bot.EventExited, Conversation: "abcdefghij"}))
	assert.Equal(t, "=== Case abcdefgh: tenant ended the chat. Do not text unless they write again ===\n", out.String())
}
