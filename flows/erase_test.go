package flows_test

import (
	"context"
	"errors"
	"testing"

	"github.com/safecontact/safecontact/bot"
)

// The web chat's quick-exit button erases without a message.
func TestEraseLeavesNothing(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const addr = "web-session-1"
	for _, text := range []string{"hi", "y", "n", "1", "he took my phone"} {
		if _, err := r.engine.Handle(ctx, bot.Inbound{Channel: bot.ChannelWebChat, Address: addr, Text: text}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := r.engine.Erase(ctx, bot.ChannelWebChat, addr)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Replies) != 0 || len(res.Events) != 1 || res.Events[0].Kind != bot.EventExited {
		t.Errorf("Erase: %d replies, events %v; want none and one exited event", len(res.Replies), res.Events)
	}
	id := r.engine.ID(bot.ChannelWebChat, addr)
	if c, err := r.engine.Conversation(ctx, id); c != nil || err != nil {
		t.Errorf("conversation after Erase: %v, %v; want none", c, err)
	}
	if lines, err := r.store.Transcript(ctx, id); len(lines) != 0 || err != nil {
		t.Errorf("transcript after Erase: %v, %v; want none", lines, err)
	}
	res, err = r.engine.Erase(ctx, bot.ChannelWebChat, addr)
	if err != nil || len(res.Events) != 0 {
		t.Errorf("second Erase: %v, %v; want nothing to do", res.Events, err)
	}
	_, c := r.sendOn(bot.ChannelWebChat, addr, "hello")
	if c.State != r.bundle.Flow.Start || len(c.History) != 0 {
		t.Errorf("after Erase a new message starts afresh; at %s with history %v", c.State, c.History)
	}
}

// A message that can only continue a conversation (the web chat's after
// its first) is refused, and applies nothing, when the conversation is
// gone or was erased while it was on its way.
func TestContinueRefusedWithoutAConversation(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	const addr = "web-session-2"
	id := r.engine.ID(bot.ChannelWebChat, addr)
	cont := bot.Inbound{Channel: bot.ChannelWebChat, Address: addr, Text: "he's got a knife", Continue: true}

	if _, err := r.engine.Handle(ctx, cont); !errors.Is(err, bot.ErrNoConversation) {
		t.Fatalf("no conversation yet: %v; want ErrNoConversation", err)
	}
	if c, err := r.engine.Conversation(ctx, id); c != nil || err != nil {
		t.Fatalf("conversation after a refused message: %v, %v; want none", c, err)
	}

	if _, err := r.engine.Handle(ctx, bot.Inbound{Channel: bot.ChannelWebChat, Address: addr}); err != nil {
		t.Fatal(err)
	}
	res, err := r.engine.Handle(ctx, bot.Inbound{Channel: bot.ChannelWebChat, Address: addr, Text: "y", Continue: true})
	if err != nil || len(res.Replies) == 0 {
		t.Fatalf("a started conversation continues: %v, %d replies", err, len(res.Replies))
	}

	if _, err := r.engine.Erase(ctx, bot.ChannelWebChat, addr); err != nil {
		t.Fatal(err)
	}
	res, err = r.engine.Handle(ctx, cont)
	if !errors.Is(err, bot.ErrNoConversation) || len(res.Replies) != 0 || len(res.Events) != 0 {
		t.Fatalf("after the erasure: %v, %d replies, events %v; want ErrNoConversation and nothing", err, len(res.Replies), res.Events)
	}
	if c, err := r.engine.Conversation(ctx, id); c != nil || err != nil {
		t.Errorf("conversation after a refused message: %v, %v; want it to stay erased", c, err)
	}
}
