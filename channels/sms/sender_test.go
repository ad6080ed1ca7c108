package sms_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/sms/smstest"
)

// A sender that cannot be texted back gets an empty TwiML answer (so
// Twilio neither retries nor sends anything), and no conversation is
// started that an officer could never answer; a WhatsApp user, who can be
// answered now, gets the 999 advice and is asked to text instead. The log
// says what kind of sender it was, never who.
func TestUnanswerableSendersRefused(t *testing.T) {
	cases := []struct {
		name, from, kind string
	}{
		{"whatsapp", "whatsapp:+447700900123", sms.SenderWhatsApp},
		{"whatsapp in capitals", "WhatsApp:+447700900123", sms.SenderWhatsApp},
		{"messenger", "messenger:1234567890", sms.SenderChannel},
		{"five-digit short code", "60006", sms.SenderShortCode},
		{"six-digit short code", "894546", sms.SenderShortCode},
		{"alphanumeric sender id", "HSBCUK", sms.SenderAlphanumeric},
		{"alphanumeric with digits", "Bank2Go", sms.SenderAlphanumeric},
		{"no plus", "447700900123", sms.SenderOther},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sh := newShared(t)
			var logs bytes.Buffer
			s := sh.start(t, nil, sms.Config{Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			for i, body := range []string{"hi", "he hit me, help now", "STOP"} {
				form := url.Values{"MessageSid": {"SMsender" + string(rune('a'+i))}, "From": {c.from}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {"0"}}
				req, err := http.NewRequest("POST", s.URL+sms.InboundPath, strings.NewReader(form.Encode()))
				require.NoError(t, err)
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				req.Header.Set("X-Twilio-Signature", smstest.Sign(token, s.URL+sms.InboundPath, form))
				resp, err := http.DefaultClient.Do(req)
				require.NoError(t, err)
				var raw bytes.Buffer
				raw.ReadFrom(resp.Body)
				resp.Body.Close()
				assert.Equal(t, http.StatusOK, resp.StatusCode)
				assert.Equal(t, "text/xml; charset=utf-8", resp.Header.Get("Content-Type"))
				assert.Contains(t, raw.String(), "<Response", "a TwiML response")
				if c.kind == sms.SenderWhatsApp {
					assert.Contains(t, raw.String(), "<Message>If you are in danger now, call 999.", "whatever they wrote, the 999 advice")
					assert.Contains(t, raw.String(), "only works by text message", "and how to reach officers")
				} else {
					assert.NotContains(t, raw.String(), "<Message", "nothing is sent: it could not reach them")
				}
			}
			c2, err := s.engine.Conversation(context.Background(), s.engine.ID(bot.ChannelSMS, c.from))
			require.NoError(t, err)
			assert.Nil(t, c2, "no conversation")
			assert.Empty(t, storetest.Keys(t, sh.rdb, sh.prefix+"*"), "nothing stored")
			assert.Empty(t, s.events.All(), "no events: no case, no alert")
			assert.Contains(t, logs.String(), "sms: refused a sender that cannot be texted back")
			assert.Contains(t, logs.String(), `"kind":"`+c.kind+`"`)
			number := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(c.from), "whatsapp:"), "messenger:")
			assert.NotContains(t, strings.ToLower(logs.String()), number, "the sender is not logged")
			assert.NotContains(t, logs.String(), "hit me")
		})
	}

	t.Run("an RCS user is their phone number", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		form := url.Values{"MessageSid": {"SMrcs"}, "From": {"rcs:" + tenant}, "To": {"+441952000000"}, "Body": {"hi"}, "NumMedia": {"0"}}
		req, err := http.NewRequest("POST", s.URL+sms.InboundPath, strings.NewReader(form.Encode()))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", smstest.Sign(token, s.URL+sms.InboundPath, form))
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		var raw bytes.Buffer
		raw.ReadFrom(resp.Body)
		resp.Body.Close()
		assert.Contains(t, raw.String(), "Is it safe for you to message now?", "answered as any texting tenant")
		c, err := s.engine.Conversation(context.Background(), s.engine.ID(bot.ChannelSMS, tenant))
		require.NoError(t, err)
		assert.NotNil(t, c, "one conversation with their number, however they write")
	})

	t.Run("a phone number is answered", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		status, msgs := s.text(t, "SMsender-ok", "hi")
		assert.Equal(t, http.StatusOK, status)
		assert.Len(t, msgs, 1)
	})
}
