package relay_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/relay"
)

func TestTextsTellTheOfficer(t *testing.T) {
	const conv = bot.ConversationID("texts-0001")
	for _, tc := range []struct {
		label   string
		do      func(relay.Texts)
		notes   []string
		events  []bot.Event
		deliv   []string
		counted []bool
	}{
		{
			label: "an opted-out tenant ends the case",
			do: func(tx relay.Texts) {
				tx.TextUndelivered(ctx, conv, true, "the tenant has opted out of texts")
			},
			events:  []bot.Event{{Kind: bot.EventOptedOut, Conversation: conv, Channel: bot.ChannelSMS}},
			counted: []bool{true},
		},
		{
			label: "a text given up is noted with why",
			do: func(tx relay.Texts) {
				tx.TextUndelivered(ctx, conv, false, "Twilio refused it (error 21211)")
			},
			notes:   []string{"texts-0001: A text from an officer did not reach the tenant: Twilio refused it (error 21211)."},
			counted: []bool{false},
		},
		{
			label: "a late text is noted",
			do:    func(tx relay.Texts) { tx.TextLate(ctx, conv, "Twilio is not answering") },
			notes: []string{"texts-0001: A text from an officer has not gone to the tenant after a minute (Twilio is not answering). safecontact keeps trying, and says here if it gives up."},
		},
		{
			label: "a delivered text is the first contact",
			do:    func(tx relay.Texts) { tx.TextDelivered(ctx, conv) },
			deliv: []string{"texts-0001: text delivered"},
		},
	} {
		t.Run(tc.label, func(t *testing.T) {
			f := &fakes{}
			var counted []bool
			tx := relay.Texts{Queue: f, Undelivered: func(optedOut bool) { counted = append(counted, optedOut) }}
			tc.do(tx)
			assert.Equal(t, tc.notes, f.notes)
			assert.Equal(t, tc.events, f.events)
			assert.Equal(t, tc.deliv, f.delivered)
			assert.Equal(t, tc.counted, counted)
		})
	}
}

func TestTextsLogWhatTheyCannotTell(t *testing.T) {
	for _, tc := range []struct {
		label string
		err   error
		want  string
	}{
		{"a queue failure is logged", errors.New("redis down"), "a delivered text was not recorded on its case"},
		{"a text to no case is not", handoff.ErrNoCase, ""},
	} {
		t.Run(tc.label, func(t *testing.T) {
			var logs bytes.Buffer
			tx := relay.Texts{Queue: &fakes{queueErr: tc.err}, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
			tx.TextDelivered(ctx, "texts-0002")
			if tc.want == "" {
				assert.Empty(t, logs.String())
			} else {
				assert.Contains(t, logs.String(), tc.want)
			}
		})
	}
}

func TestTextsOptions(t *testing.T) {
	f := &fakes{}
	o := relay.Texts{Queue: f}.Options(sms.OutboxOptions{MaxAttempts: 3})
	assert.Equal(t, 3, o.MaxAttempts, "the other options are kept")
	require.NotNil(t, o.Undelivered)
	require.NotNil(t, o.Delivered)
	require.NotNil(t, o.Late)
	o.Delivered(context.Background(), "texts-0003")
	assert.Equal(t, []string{"texts-0003: text delivered"}, f.delivered)
}
