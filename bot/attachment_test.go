package bot_test

import (
	"context"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
)

// A picture is answered in the conversation's language, the answers on
// offer stay on the last reply, and the 999 reply still comes first.
func TestAttachmentNotice(t *testing.T) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	bundle, problems := flows.Load("", now)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatal(errs)
	}
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: memstore.New(func() time.Time { return now }), Directory: bundle.Directory,
		Hours: bundle.Hours, Keyer: bot.NewKeyer([]byte("attachment-test-key-0123456789ab")), Now: func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	msgs := bundle.Flow.Messages[bot.MsgAttachment]
	send := func(t *testing.T, address, text string, attachments int) bot.Result {
		t.Helper()
		res, err := eng.Handle(context.Background(), bot.Inbound{Channel: bot.ChannelWebChat, Address: address, Text: text, Attachments: attachments})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	t.Run("welsh", func(t *testing.T) {
		send(t, "cy", "cymraeg", 0)
		res := send(t, "cy", "", 1)
		if len(res.Replies) != 2 || res.Replies[0].Text != msgs["cy"] {
			t.Fatalf("replies %+v, want the Welsh notice and the question", res.Replies)
		}
		if res.Replies[0].Choices != nil || res.Replies[1].Choices == nil {
			t.Errorf("choices belong on the question, the last reply: %+v", res.Replies)
		}
	})
	t.Run("danger at the end", func(t *testing.T) {
		// After "not safe to talk", words of danger get the 999 reply
		// and then the start again; the notice goes between them.
		send(t, "end", "hi", 0)
		send(t, "end", "n", 0)
		res := send(t, "end", "help now", 1)
		if len(res.Replies) < 2 || res.Replies[1].Text != msgs["en"] {
			t.Fatalf("replies %+v, want the 999 reply then the notice", res.Replies)
		}
		if res.Replies[0].Text != bundle.Flow.Messages[bot.MsgEmergency]["en"] {
			t.Errorf("first reply %q, want the 999 reply", res.Replies[0].Text)
		}
	})
	t.Run("no attachment, no notice", func(t *testing.T) {
		res := send(t, "none", "hi", 0)
		for _, r := range res.Replies {
			if r.Text == msgs["en"] {
				t.Errorf("notice without a picture: %+v", res.Replies)
			}
		}
	})
}
