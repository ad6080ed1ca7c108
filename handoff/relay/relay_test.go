package relay_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/relay"
)

// fakes records what the relay asks of the outbox, the chat and the queue.
type fakes struct {
	mu        sync.Mutex
	texts     []sms.OutMessage
	pushed    []string
	delivered []string
	notes     []string
	events    []bot.Event
	pushErr   error
	queueErr  error
	// enqueueErr is Enqueue's answer; queued, whether the text was
	// queued all the same; statusErr, Status's answer.
	enqueueErr error
	queued     bool
	statusErr  error
}

func (f *fakes) Enqueue(_ context.Context, m sms.OutMessage) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.enqueueErr == nil || f.queued {
		f.texts = append(f.texts, m)
	}
	return f.enqueueErr
}

func (f *fakes) Status(_ context.Context, key string) (string, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.statusErr != nil {
		return "", "", f.statusErr
	}
	for _, m := range f.texts {
		if m.Key == key {
			return sms.StateQueued, "", nil
		}
	}
	return "", "", nil
}

func (f *fakes) Push(_ context.Context, id bot.ConversationID, _, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.pushErr != nil {
		return f.pushErr
	}
	f.pushed = append(f.pushed, string(id)+": "+text)
	return nil
}

func (f *fakes) Delivered(_ context.Context, id bot.ConversationID, how string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.delivered = append(f.delivered, string(id)+": "+how)
	return f.queueErr
}

func (f *fakes) Note(_ context.Context, id bot.ConversationID, text string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.notes = append(f.notes, string(id)+": "+text)
	return f.queueErr
}

func (f *fakes) Deliver(_ context.Context, ev bot.Event) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.events = append(f.events, ev)
	return f.queueErr
}

var ctx = context.Background()

func smsCase() *handoff.Case {
	return &handoff.Case{ID: "relay-sms-0001", Channel: bot.ChannelSMS, Address: "+447700900123"}
}

func chatCase() *handoff.Case {
	return &handoff.Case{ID: "relay-chat-0001", Channel: bot.ChannelWebChat}
}

func TestRelaySend(t *testing.T) {
	for _, tc := range []struct {
		label    string
		c        *handoff.Case
		noOutbox bool
		pushErr  error
		// What queueing a text answers (fakes' fields of the names).
		enqueueErr error
		queued     bool
		statusErr  error
		wantErr    string
		texts      []sms.OutMessage
		pushed     []string
		delivered  []string
	}{
		{
			label: "a text goes to the outbox, keyed by the officer's submission",
			c:     smsCase(),
			texts: []sms.OutMessage{{Key: "slack-1", Conversation: "relay-sms-0001", To: "+447700900123", Body: "Hello, I'm Sam."}},
		},
		{
			label: "queueing's answer lost after the text was queued: sent", c: smsCase(),
			enqueueErr: context.DeadlineExceeded, queued: true,
			texts: []sms.OutMessage{{Key: "slack-1", Conversation: "relay-sms-0001", To: "+447700900123", Body: "Hello, I'm Sam."}},
		},
		{
			label: "queueing failed and the text is not queued: not sent", c: smsCase(),
			enqueueErr: errors.New("outbox: enqueue: redis down"),
			wantErr:    "outbox: enqueue: redis down",
		},
		{
			label: "queueing failed and nobody can tell: the officer is told to look first", c: smsCase(),
			enqueueErr: context.DeadlineExceeded, statusErr: errors.New("redis down"),
			wantErr: "it is not known whether the text was queued, as safecontact's store did not answer: it may still go. Wait a minute and look at the case's thread and card before sending it again",
		},
		{
			label: "a failure before the text was written is passed on, with no look", c: smsCase(),
			enqueueErr: sms.ErrNotQueued, statusErr: errors.New("must not be asked"),
			wantErr: sms.ErrNotQueued.Error(),
		},
		{
			label: "an ended conversation is said so", c: smsCase(),
			enqueueErr: sms.ErrConversationEnded,
			wantErr:    sms.ErrConversationEnded.Error(),
		},
		{
			label: "no outbox: a text is refused", c: smsCase(), noOutbox: true,
			wantErr: "texts cannot be sent: Twilio's REST API is not configured (TWILIO_ACCOUNT_SID)",
		},
		{
			label: "a web chat reply is shown, and is the first contact", c: chatCase(),
			pushed: []string{"relay-chat-0001: Hello, I'm Sam."}, delivered: []string{"relay-chat-0001: shown in the web chat"},
		},
		{
			label: "a closed web chat is said so", c: chatCase(), pushErr: webchat.ErrNoSession,
			wantErr: "the tenant's web chat is closed; they can only be reached if they open it again",
		},
		{
			label: "another failure of the chat is passed on", c: chatCase(), pushErr: errors.New("redis down"),
			wantErr: "redis down",
		},
		{
			label: "the console cannot be replied to", c: &handoff.Case{ID: "relay-con-0001", Channel: bot.ChannelConsole},
			wantErr: "replies cannot reach the console channel",
		},
	} {
		t.Run(tc.label, func(t *testing.T) {
			f := &fakes{pushErr: tc.pushErr, enqueueErr: tc.enqueueErr, queued: tc.queued, statusErr: tc.statusErr}
			r := relay.Relay{Outbox: f, Chat: f, Queue: f}
			if tc.noOutbox {
				r.Outbox = nil
			}
			err := r.Send(ctx, tc.c, "slack-1", "Hello, I'm Sam.")
			if tc.wantErr != "" {
				require.EqualError(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tc.texts, f.texts)
			assert.Equal(t, tc.pushed, f.pushed)
			assert.Equal(t, tc.delivered, f.delivered)
		})
	}
}

// A reply shown in the web chat has reached the tenant: a failure to
// record it is logged, never reported as unsent (and sent again).
func TestRelayShownButNotRecorded(t *testing.T) {
	var logs bytes.Buffer
	f := &fakes{queueErr: errors.New("redis down")}
	r := relay.Relay{Chat: f, Queue: f, Log: slog.New(slog.NewJSONHandler(&logs, nil))}
	require.NoError(t, r.Send(ctx, chatCase(), "slack-1", "Hello, I'm Sam."))
	assert.Contains(t, logs.String(), "not recorded as the first contact")
	assert.NotContains(t, logs.String(), "Hello, I'm Sam.", "no words in the logs")
}
