package sms

import (
	"testing"

	"github.com/twilio/twilio-go/twiml"

	"github.com/safecontact/safecontact/bot"
)

// twilioTwiML is the response as twilio-go's twiml package writes it.
func twilioTwiML(t *testing.T, replies []bot.Reply) string {
	t.Helper()
	verbs := make([]twiml.Element, 0, len(replies))
	for _, r := range replies {
		verbs = append(verbs, &twiml.MessagingMessage{Body: r.Text})
	}
	doc, err := twiml.Messages(verbs)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestTwiMLAsTwilioWritesIt(t *testing.T) {
	for _, replies := range [][]bot.Reply{
		nil,
		{{Text: "Is it safe for you to message now? Reply Y or N."}},
		{{Text: "In danger now? Call 999.\nCan't speak? 999 then 55"}, {Text: `Tom & Jerry's <"team">`}},
		{{Text: ""}, {Text: "tab\there\r\nbell\a nul\x00 bad\xff utf-8 ✓ \uFFFE\U0001F600"}},
	} {
		want := twilioTwiML(t, replies)
		if got := string(appendTwiML(nil, replies)); got != want {
			t.Errorf("appendTwiML(%q) =\n%s\nwant\n%s", replies, got, want)
		}
	}
}

func FuzzTwiML(f *testing.F) {
	for _, s := range []string{"", "a & b", "<Message>", "\xff\xfe", "\uFFFD", "\x1b[0m", "it's \"quoted\""} {
		f.Add(s, "second")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		replies := []bot.Reply{{Text: a}, {Text: b}}
		if got, want := string(appendTwiML(nil, replies)), twilioTwiML(t, replies); got != want {
			t.Errorf("appendTwiML(%q) =\n%s\nwant\n%s", replies, got, want)
		}
	})
}
