package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/seal"
	"github.com/safecontact/safecontact/channels/webchat"
)

// chatBus takes an officer's message to the process that holds the
// tenant's web chat. A chat lives in the memory of the process that
// started it (a load balancer keeps it there), but Slack's requests reach
// any process: the message is published on Redis, the process with the
// chat shows it and says so, and the sender waits briefly for that word.
type chatBus struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	chat   *webchat.Server
	log    *slog.Logger
}

const (
	chatBusChannel = "sc:chat:push"
	chatBusAck     = "sc:chat:ack:"
	// chatBusWait is how long the sender waits for the process with the
	// chat to say it showed the message.
	chatBusWait = 2 * time.Second
)

type chatPush struct {
	ID   string             `json:"i"`
	Conv bot.ConversationID `json:"c"`
	Text string             `json:"t"`
}

// Push shows the message in the tenant's chat, here or in another process;
// webchat.ErrNoSession when no process has it open.
func (b *chatBus) Push(ctx context.Context, conv bot.ConversationID, text string) error {
	err := b.chat.Push(ctx, conv, text)
	if !errors.Is(err, webchat.ErrNoSession) || b.rdb == nil {
		return err
	}
	var raw [12]byte
	rand.Read(raw[:])
	p := chatPush{ID: hex.EncodeToString(raw[:]), Conv: conv, Text: text}
	plain, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := b.rdb.Publish(ctx, chatBusChannel, b.sealer.Seal(plain, []byte(chatBusChannel))).Err(); err != nil {
		return err
	}
	deadline := time.Now().Add(chatBusWait)
	for time.Now().Before(deadline) {
		n, err := b.rdb.Exists(ctx, chatBusAck+p.ID).Result()
		if err != nil {
			return err
		}
		if n == 1 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
	return webchat.ErrNoSession
}

// Run shows, until ctx ends, the messages other processes publish for
// chats open here.
func (b *chatBus) Run(ctx context.Context) {
	sub := b.rdb.Subscribe(ctx, chatBusChannel)
	defer sub.Close()
	if _, err := sub.Receive(ctx); err != nil {
		if ctx.Err() == nil {
			b.log.Error("webchat: cannot hear officers' messages from other processes", "err", err)
		}
		return
	}
	ch := sub.Channel()
	for {
		var msg *redis.Message
		select {
		case <-ctx.Done():
			return
		case msg = <-ch:
		}
		if msg == nil {
			return
		}
		plain, err := b.sealer.Open([]byte(msg.Payload), []byte(chatBusChannel))
		var p chatPush
		if err == nil {
			err = json.Unmarshal(plain, &p)
		}
		if err != nil {
			b.log.Warn("webchat: a message for a chat could not be read", "err", err)
			continue
		}
		if err := b.chat.Push(ctx, p.Conv, p.Text); err != nil {
			continue // not open here
		}
		if err := b.rdb.Set(ctx, chatBusAck+p.ID, 1, time.Minute).Err(); err != nil {
			b.log.Warn("webchat: could not confirm a message shown", "conversation", p.Conv, "err", err)
		}
	}
}
