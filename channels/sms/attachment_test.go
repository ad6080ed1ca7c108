package sms_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/sms/smstest"
)

// mediaURL is where Twilio would keep the picture. safecontact never
// fetches it: the test server would fail the test if it were asked.
const mediaURL = "https://api.twilio.com/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages/MM00000000000000000000000000000000/Media/ME00000000000000000000000000000000"

// picture posts a signed inbound message from the tenant with media
// pictures attached, as Twilio sends an MMS: NumMedia, and MediaUrlN and
// MediaContentTypeN for each.
func (s *server) picture(t *testing.T, sid, body string, media int) (int, []string) {
	t.Helper()
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"AC00000000000000000000000000000000"},
		"From": {tenant}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {fmt.Sprint(media)},
	}
	for i := range media {
		form.Set(fmt.Sprint("MediaUrl", i), fmt.Sprint(mediaURL, i))
		form.Set(fmt.Sprint("MediaContentType", i), "image/jpeg")
	}
	return s.post(t, sms.InboundPath, form, smstest.Sign(token, s.URL+sms.InboundPath, form))
}

// notice is the default flow's reply to a picture, in English.
func notice(t *testing.T, sh *shared) string {
	t.Helper()
	text := sh.bundle.Flow.Messages[bot.MsgAttachment]["en"]
	require.NotEmpty(t, text)
	return text
}

// assertDiscreet checks what a lock screen would show of each reply.
func assertDiscreet(t *testing.T, sh *shared, msgs []string) {
	t.Helper()
	for _, m := range msgs {
		assert.True(t, bot.FitsSegments(m), "over two segments: %q", m)
		w, _ := bot.LockScreenWord(m, sh.bundle.Flow.QuietWords...)
		assert.Empty(t, w, "%q shows %q on a lock screen", m, w)
	}
}

func (s *server) transcript(t *testing.T) []bot.Line {
	t.Helper()
	lines, err := s.store.Transcript(context.Background(), s.engine.ID(bot.ChannelSMS, tenant))
	require.NoError(t, err)
	return lines
}

// The notice is in every language of the default flow, and what a lock
// screen shows of it is neutral: flows check holds it to the rules of
// every message (testdata/broken/attachment_lock_screen_word).
func TestAttachmentNoticeIsDiscreet(t *testing.T) {
	bundle := newShared(t).bundle
	for _, lang := range bundle.Flow.Languages {
		text := bundle.Flow.Messages[bot.MsgAttachment][lang]
		require.NotEmpty(t, text, lang)
		assert.True(t, bot.FitsSegments(text), "%s: over two segments", lang)
		w, at := bot.LockScreenWord(text, bundle.Flow.QuietWords...)
		assert.Empty(t, w, "%s: %q at %d", lang, w, at)
	}
}

// A picture with no words, before the handoff: the tenant is told it
// cannot be received here, the question still open is asked again, and
// nothing is taken as an answer, not even at a free-text question.
func TestPictureAloneBeforeHandoff(t *testing.T) {
	sh := newShared(t)
	var logs bytes.Buffer
	s := sh.start(t, nil, sms.Config{Log: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	want := notice(t, sh)

	// The very first message: the notice, then the first question.
	status, msgs := s.picture(t, "SMpic-0", "", 1)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, msgs, 2)
	assert.Equal(t, want, msgs[0])
	assert.Contains(t, msgs[1], "Is it safe for you to message now?")
	assertDiscreet(t, sh, msgs)
	assert.Equal(t, "safe_to_talk", s.conversation(t).State)

	// Up to the free-text question about the police or a support worker.
	for i, body := range intake[1:8] {
		s.text(t, fmt.Sprint("SMpic-q", i), body)
	}
	require.Equal(t, "reported", s.conversation(t).State)
	status, msgs = s.picture(t, "SMpic-1", "", 1)
	require.Equal(t, http.StatusOK, status)
	require.Len(t, msgs, 2)
	assert.Equal(t, want, msgs[0])
	assert.Contains(t, msgs[1], "Have you told the police or a support worker?")
	assertDiscreet(t, sh, msgs)
	c := s.conversation(t)
	assert.Equal(t, "reported", c.State, "a picture answers nothing")
	assert.NotContains(t, c.Answers, "reported")

	// Twilio's redelivery of it gets the same answer and is not applied
	// again.
	_, again := s.picture(t, "SMpic-1", "", 1)
	assert.Equal(t, msgs, again)

	lines := s.transcript(t)
	require.NotEmpty(t, lines)
	assert.Equal(t, bot.Line{At: lines[len(lines)-1].At, Step: "reported", Text: bot.AttachmentNote(1)}, lines[len(lines)-1])
	assert.NotContains(t, s.events.Kinds(), bot.EventTenantMessage, "no thread before the handoff")
	assert.NotContains(t, logs.String(), "MM0000", "the media's address is not logged")
}

// A picture with no words after the handoff: the notice, and a line in
// the officer's thread that a picture was sent and not kept.
func TestPictureAloneAfterHandoff(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	for i, body := range intake {
		s.text(t, fmt.Sprint("SMafter", i), body)
	}
	require.Equal(t, "handed_off", s.conversation(t).State)
	before := len(s.events.All())

	status, msgs := s.picture(t, "SMafter-pic", "", 1)
	require.Equal(t, http.StatusOK, status)
	// The "officer will contact you by" notice went with the handoff
	// today: only the picture's notice now.
	assert.Equal(t, []string{notice(t, sh)}, msgs)
	assertDiscreet(t, sh, msgs)

	events := s.events.All()[before:]
	require.Len(t, events, 1)
	assert.Equal(t, bot.EventTenantMessage, events[0].Kind)
	assert.Equal(t, "[sent a picture or file; it was not kept]", events[0].Text)
	assert.NotContains(t, events[0].Text, "MM0000")
	assert.Equal(t, "handed_off", s.conversation(t).State)

	// Two at once say so.
	_, msgs = s.picture(t, "SMafter-pics", "", 2)
	assert.Equal(t, []string{notice(t, sh)}, msgs)
	ev, ok := s.events.Last(bot.EventTenantMessage)
	require.True(t, ok)
	assert.Equal(t, "[sent 2 pictures or files; none was kept]", ev.Text)
}

// A picture with words: the words are handled as they would be alone,
// and the notice comes with them; never before the 999 reply.
func TestPictureWithWords(t *testing.T) {
	t.Run("an answer", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		s.text(t, "SMww-0", "hi")
		status, msgs := s.picture(t, "SMww-1", "Y", 1)
		require.Equal(t, http.StatusOK, status)
		require.Len(t, msgs, 2)
		assert.Equal(t, notice(t, sh), msgs[0])
		assert.Contains(t, msgs[1], "Are you in danger right now?", "Y answered the question")
		assertDiscreet(t, sh, msgs)
		c := s.conversation(t)
		assert.Equal(t, "danger", c.State)
		assert.Equal(t, "yes", c.Answers["safe_to_talk"])
		lines := s.transcript(t)
		require.Len(t, lines, 3)
		assert.Equal(t, []string{"hi", "Y", bot.AttachmentNote(1)}, []string{lines[0].Text, lines[1].Text, lines[2].Text})
	})
	t.Run("words of danger", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		s.text(t, "SMwd-0", "hi")
		s.text(t, "SMwd-1", "Y")
		_, msgs := s.picture(t, "SMwd-2", "he has a knife", 1)
		require.GreaterOrEqual(t, len(msgs), 2)
		assert.Contains(t, msgs[0], "999", "the 999 reply comes first")
		assert.Equal(t, notice(t, sh), msgs[1])
		assertDiscreet(t, sh, msgs[1:])
		assert.Contains(t, s.events.Kinds(), bot.EventEmergency)
	})
	t.Run("after the handoff", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		for i, body := range intake {
			s.text(t, fmt.Sprint("SMwa", i), body)
		}
		_, msgs := s.picture(t, "SMwa-pic", "this is the back door", 1)
		assert.Equal(t, []string{notice(t, sh)}, msgs)
		ev, ok := s.events.Last(bot.EventTenantMessage)
		require.True(t, ok)
		assert.Equal(t, "this is the back door [sent a picture or file; it was not kept]", ev.Text)
	})
	t.Run("exit", func(t *testing.T) {
		sh := newShared(t)
		s := sh.start(t, nil, sms.Config{})
		s.text(t, "SMwx-0", "hi")
		_, msgs := s.picture(t, "SMwx-1", "X", 1)
		assert.Empty(t, msgs, "nothing at all after a quick exit, not even the notice")
		assert.Nil(t, s.conversation(t))
	})
}

// Twilio's count is what counts; a garbled one with a MediaUrl0 is still
// a picture, and a text without media is a text.
func TestAttachmentCount(t *testing.T) {
	sh := newShared(t)
	s := sh.start(t, nil, sms.Config{})
	s.text(t, "SMcount-0", "hi")
	form := url.Values{"MessageSid": {"SMcount-1"}, "From": {tenant}, "Body": {""}, "NumMedia": {"lots"}, "MediaUrl0": {mediaURL}}
	status, msgs := s.post(t, sms.InboundPath, form, smstest.Sign(token, s.URL+sms.InboundPath, form))
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, msgs)
	assert.Equal(t, notice(t, sh), msgs[0])

	_, msgs = s.text(t, "SMcount-2", "Y")
	for _, m := range msgs {
		assert.False(t, strings.HasPrefix(m, "Sorry, pictures"), "no notice without a picture: %q", m)
	}
}
