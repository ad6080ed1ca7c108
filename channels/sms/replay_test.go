package sms_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/sms/smstest"
)

// webhook is one signed inbound request as Twilio sent it, kept to be
// posted again byte for byte: Twilio's signature carries no timestamp, so
// whoever captured it can replay it at any time.
type webhook struct {
	form      url.Values
	signature string
}

func (s *server) signed(sid, body string) webhook {
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {tenant}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {"0"},
	}
	return webhook{form, smstest.Sign(token, s.URL+sms.InboundPath, form)}
}

// stored is everything Redis holds for the tenant's conversation.
type stored struct {
	conv    *bot.Conversation
	version int64
	lines   []bot.Line
}

func (s *server) stored(t *testing.T) stored {
	t.Helper()
	id := s.engine.ID(bot.ChannelSMS, tenant)
	c, v, err := s.store.Load(context.Background(), id)
	require.NoError(t, err)
	lines, err := s.store.Transcript(context.Background(), id)
	require.NoError(t, err)
	return stored{c, v, lines}
}

// An old signed webhook replayed after many texts, to either process,
// gets an empty TwiML reply and changes nothing; the latest one still
// gets its reply again.
func TestReplayedWebhook(t *testing.T) {
	sh := newShared(t)
	a := sh.start(t, nil, sms.Config{})
	b := sh.start(t, nil, sms.Config{})
	texts := append(append([]string(nil), intake...), "ok", "thanks", "ok", "thank you", "ok")
	var hooks []webhook
	var last []string
	for i, body := range texts {
		h := a.signed(fmt.Sprintf("SM%032d", i), body)
		hooks = append(hooks, h)
		var status int
		status, last = a.post(t, sms.InboundPath, h.form, h.signature)
		require.Equal(t, http.StatusOK, status)
	}
	before := a.stored(t)
	require.Equal(t, "handed_off", before.conv.State)
	// Both processes log to the one event log.
	events := len(a.events.All())

	for i, h := range hooks[:len(hooks)-1] {
		// Both processes serve the same URL in production; here each
		// has its own, so sign for the one that receives it.
		s := []*server{a, b}[i%2]
		replay := s.signed(h.form.Get("MessageSid"), h.form.Get("Body"))
		if s == a {
			replay = h
		}
		status, msgs := s.post(t, sms.InboundPath, replay.form, replay.signature)
		assert.Equal(t, http.StatusOK, status)
		assert.Empty(t, msgs, "text %d (%q) replayed: the reply must be empty", i, texts[i])
	}
	assert.Equal(t, before, a.stored(t), "a replay changed the conversation")
	assert.Equal(t, events, len(b.events.All()), "a replay emitted events")

	latest := hooks[len(hooks)-1]
	status, msgs := a.post(t, sms.InboundPath, latest.form, latest.signature)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, last, msgs, "the latest text replayed gets its reply again")
	assert.Equal(t, before, a.stored(t))
}

// After X, a replayed "hi" does not start the conversation again and a
// replayed answer is not applied to anything.
func TestReplayedWebhookAfterExit(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	var hooks []webhook
	for i, body := range []string{"hi", "y", "n", "X"} {
		h := s.signed(fmt.Sprint("SMexit", i), body)
		hooks = append(hooks, h)
		status, _ := s.post(t, sms.InboundPath, h.form, h.signature)
		require.Equal(t, http.StatusOK, status)
	}
	before := s.stored(t)
	require.True(t, before.conv.Erased)
	for _, h := range hooks {
		status, msgs := s.post(t, sms.InboundPath, h.form, h.signature)
		assert.Equal(t, http.StatusOK, status)
		assert.Empty(t, msgs, "%s replayed after X", h.form.Get("Body"))
	}
	assert.Equal(t, before, s.stored(t), "nothing restarted")
	assert.Nil(t, s.conversation(t))
}
