package flows_test

import (
	"context"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
)

// Every reply passes the lock-screen mask, including words a landlord adds
// (SAFECONTACT_LOCKSCREEN_WORDS) that the embedded flow uses.
func TestEveryReplyIsDiscreet(t *testing.T) {
	r := newRig(t)
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	eng, err := bot.New(bot.Config{
		Flow: r.bundle.Flow, Store: memstore.New(nil), Directory: r.bundle.Directory, Hours: r.bundle.Hours,
		Keyer: bot.NewKeyer([]byte("discreet-test-key-0123456789abcd")), Now: func() time.Time { return now },
		Options: bot.Options{LockScreenWords: []string{"housing", "helpline"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range []string{"hi", "y", "n", "1", "2", "help"} {
		res, err := eng.Handle(context.Background(), bot.Inbound{Channel: bot.ChannelSMS, Address: "+447700900123", Text: text})
		if err != nil {
			t.Fatal(err)
		}
		for _, reply := range res.Replies {
			if w, at := bot.LockScreenWord(reply.Text, "housing", "helpline"); at >= 0 {
				t.Errorf("%q: reply shows %q at %d: %q", text, w, at, reply.Text)
			}
		}
	}
}
