package redisstore

import (
	"strings"
	"testing"

	"github.com/safecontact/safecontact/bot"
)

func TestStateRoundTripsAndPlainJSONStillReads(t *testing.T) {
	c := &bot.Conversation{Channel: bot.ChannelSMS, State: "children", Answers: map[string]string{"area": "shropshire"}}
	small, err := encodeState(c)
	if err != nil {
		t.Fatal(err)
	}
	if small[0] != '{' {
		t.Fatalf("a small state is stored as JSON, not %q", small)
	}
	c.LastReplies = []bot.Reply{{Text: strings.Repeat("Numbers you can call: National helpline, free, 24h: 0808 2000 247. ", 20)}}
	enc, err := encodeState(c)
	if err != nil {
		t.Fatal(err)
	}
	if enc[0] != stateDeflated {
		t.Fatalf("a large state starts %#x, want the DEFLATE mark", enc[0])
	}
	for _, in := range [][]byte{enc, []byte(`{"ch":"sms","st":"children","an":{"area":"shropshire"}}`)} {
		got, err := decodeState(in)
		if err != nil {
			t.Fatal(err)
		}
		if got.State != "children" || got.Answers["area"] != "shropshire" {
			t.Errorf("decoded %+v", got)
		}
	}
	if _, err := decodeState([]byte{stateDeflated, 0xff, 0x00}); err == nil {
		t.Error("a damaged compressed state decoded without an error")
	}
}
