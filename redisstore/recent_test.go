package redisstore_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/redisstore"
)

// counter counts the commands a client sends, a pipeline's each; but not
// a script called by its digest on a server that does not know it yet
// (each server of a cluster, once), which is sent again whole.
type counter struct{ n atomic.Int64 }

func (c *counter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *counter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		err := next(ctx, cmd)
		if err == nil || !redis.HasErrorPrefix(err, "NOSCRIPT") {
			c.n.Add(1)
		}
		return err
	}
}

func (c *counter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.n.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// A turn of a conversation this process saved last is one command: the
// save. One that another process changed since is two (the refused save
// returns the current state), as a turn without the memory always was.
func TestTurnIsOneRoundTrip(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	var cmds counter
	rdb.AddHook(&cmds)
	engA, _ := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	send := func(eng *bot.Engine, i int) int64 {
		t.Helper()
		before := cmds.n.Load()
		_, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("SM", i), Text: storetest.Intake[i]})
		require.NoError(t, err)
		return cmds.n.Load() - before
	}
	assert.Equal(t, int64(2), send(engA, 0), "a new conversation: load, save")
	for i := 1; i < 5; i++ {
		assert.Equal(t, int64(1), send(engA, i), "turn %d: the save alone", i)
	}
	send(engB, 5)
	assert.Equal(t, int64(2), send(engA, 6), "after another process's turn: a refused save, then the save")
	assert.Equal(t, int64(1), send(engA, 7))
}

// Two processes take turns with one conversation: each turn is applied
// once, in order, whichever process remembers what.
func TestTurnsAlternateBetweenProcesses(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, store := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	engines := []*bot.Engine{engA, engB, engA, engA, engB, engB, engA, engB, engA, engB, engA, engA, engB, engA, engB, engA}
	for i, text := range storetest.Intake {
		res, err := engines[i].Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("SM", i), Text: text})
		require.NoError(t, err)
		require.False(t, res.Duplicate, "turn %d", i)
	}
	id := engA.ID(bot.ChannelSMS, phone)
	c, v, err := storetest.Fresh(store).Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(len(storetest.Intake)), v, "one version a turn")
	assert.Equal(t, "handed_off", c.State)
	lines, err := store.Transcript(ctx, id)
	require.NoError(t, err)
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.Text)
	}
	assert.Equal(t, storetest.Intake, texts, "every text once, in order")
}

// A conversation deleted in Redis (as an operator's erasure or Redis
// evicting it would) and started again through another process, up to
// the very version a process still remembers, is not the conversation it
// remembers: its turn goes to the new one, and nothing of the deleted
// one comes back.
func TestDeletedConversationDoesNotComeBack(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, storeA := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	first := []string{"Hi", "Y", "no", "TF11 8AB"}
	for i, text := range first {
		_, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("A", i), Text: text})
		require.NoError(t, err)
	}
	id := engA.ID(bot.ChannelSMS, phone)
	require.NoError(t, rdb.Del(ctx, storeA.StateKey(id), storeA.LogKey(id)).Err())
	for i, text := range []string{"hello", "Y", "no", "1"} {
		_, err := engB.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("B", i), Text: text})
		require.NoError(t, err)
	}
	// Read through a third store: A's memory must stay as it is.
	_, v, err := redisstore.New(rdb, r.sealer, redisstore.Options{Prefix: r.prefix, Recent: -1}).Load(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(len(first)), v, "the new conversation has reached the version A remembers")

	_, err = engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "A-after", Text: "1"})
	require.NoError(t, err)
	lines, err := storeA.Transcript(ctx, id)
	require.NoError(t, err)
	var texts []string
	for _, l := range lines {
		texts = append(texts, l.Text)
	}
	assert.Equal(t, []string{"hello", "Y", "no", "1", "1"}, texts)
	c, v, err := storetest.Fresh(storeA).Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, int64(len(first)+1), v)
	assert.NotEqual(t, "TF11 8AB", c.Answers["area"], "the deleted answer")
}

// A tenant who exits through one process and texts again through another
// that remembers the conversation from before starts afresh: the memory
// of a conversation since erased brings nothing of it back.
func TestErasedElsewhereStaysErased(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, store := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	for i, text := range []string{"Hi", "Y", "no", "TF11 8AB"} {
		_, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("A", i), Text: text})
		require.NoError(t, err)
	}
	id := engA.ID(bot.ChannelSMS, phone)
	_, err := engB.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "B-exit", Text: "X"})
	require.NoError(t, err)

	// What a channel reads of it is gone, though A remembers it.
	c, err := engA.Conversation(ctx, id)
	require.NoError(t, err)
	assert.Nil(t, c, "an erased conversation is not there to text")

	res, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: "A-again", Text: "hello"})
	require.NoError(t, err)
	assert.False(t, res.Duplicate)
	got, _, err := storetest.Fresh(store).Load(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "safe_to_talk", got.State, "a new intake")
	assert.Empty(t, got.Answers)
	lines, err := store.Transcript(ctx, id)
	require.NoError(t, err)
	require.Len(t, lines, 1)
	assert.Equal(t, "hello", lines[0].Text)
}

// A conversation that expired in Redis is not remembered past its TTL.
func TestExpiredConversationIsNotRemembered(t *testing.T) {
	rdb := storetest.Redis(t)
	prefix := storetest.Prefix(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: prefix})
	const id = "expires"
	c := &bot.Conversation{State: "danger", Address: "+447700900123"}
	require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: c, TTL: 50 * time.Millisecond}))
	got, v, err := s.Load(ctx, id)
	require.NoError(t, err)
	require.Equal(t, int64(1), v)
	require.Equal(t, c, got)
	time.Sleep(200 * time.Millisecond)
	got, v, err = s.Load(ctx, id)
	require.NoError(t, err)
	assert.Nil(t, got)
	assert.Zero(t, v)
}

// Without the memory (Options.Recent < 0) every load reads Redis, and
// the store keeps its promises the same.
func TestConformanceWithoutMemory(t *testing.T) {
	storetest.Run(t, func(t *testing.T) (bot.Store, bot.Store) {
		rdb := storetest.Redis(t)
		sl, opts := sealer(t), redisstore.Options{Prefix: storetest.Prefix(t), Recent: -1}
		return redisstore.New(rdb, sl, opts), redisstore.New(storetest.Redis(t), sl, opts)
	})
}

// The memory holds each conversation's own state and nothing else: two
// conversations of one process never see each other's.
func TestMemoryKeepsConversationsApart(t *testing.T) {
	rdb := storetest.Redis(t)
	s := redisstore.New(rdb, sealer(t), redisstore.Options{Prefix: storetest.Prefix(t), Recent: 2})
	for i := range 5 {
		id := bot.ConversationID(fmt.Sprint("apart-", i))
		c := &bot.Conversation{State: fmt.Sprint("state-", i), Address: fmt.Sprint("+4477009000", i)}
		require.NoError(t, s.Save(ctx, id, 0, bot.Commit{Conversation: c, Append: []bot.Line{{Text: fmt.Sprint("line-", i)}}, TTL: time.Hour}))
	}
	for i := range 5 {
		id := bot.ConversationID(fmt.Sprint("apart-", i))
		c, v, err := s.Load(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, int64(1), v)
		assert.Equal(t, fmt.Sprint("state-", i), c.State)
		assert.True(t, strings.HasSuffix(c.Address, fmt.Sprint(i)))
		lines, err := s.Transcript(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, []bot.Line{{Text: fmt.Sprint("line-", i)}}, lines)
	}
}

// The quick-exit button, pressed through a process that remembers the
// conversation as erased, erases what another process has since started.
func TestQuickExitErasesWhatAnotherProcessStarted(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, store := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	for i, text := range []string{"Hi", "Y", "X"} {
		_, err := engA.Handle(ctx, bot.Inbound{Channel: bot.ChannelWebChat, Address: "session", MessageID: fmt.Sprint("A", i), Text: text})
		require.NoError(t, err)
	}
	_, err := engB.Handle(ctx, bot.Inbound{Channel: bot.ChannelWebChat, Address: "session", MessageID: "B0", Text: "hello again"})
	require.NoError(t, err)

	res, err := engA.Erase(ctx, bot.ChannelWebChat, "session")
	require.NoError(t, err)
	require.Len(t, res.Events, 1, "the exit is applied")
	assert.Equal(t, bot.EventExited, res.Events[0].Kind)
	c, _, err := storetest.Fresh(store).Load(ctx, engA.ID(bot.ChannelWebChat, "session"))
	require.NoError(t, err)
	assert.True(t, c.Erased)
}

// A redelivery reaching a process that remembers its message as the
// latest, when another process has applied a later one, gets no reply:
// only the latest message's replies are sent again.
func TestRedeliveryAfterAnotherProcessMovedOn(t *testing.T) {
	rdb := storetest.Redis(t)
	r := newRig(t)
	engA, _ := r.engine(t, rdb)
	engB, _ := r.engine(t, storetest.Redis(t))
	send := func(eng *bot.Engine, sid, text string) bot.Result {
		t.Helper()
		res, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: sid, Text: text})
		require.NoError(t, err)
		return res
	}
	send(engA, "SM0", "Hi")
	first := send(engA, "SM1", "Y")
	require.NotEmpty(t, first.Replies)
	again := send(engA, "SM1", "Y")
	assert.True(t, again.Duplicate)
	assert.Equal(t, first.Replies, again.Replies, "still the latest: its replies again")

	send(engB, "SM2", "no")
	late := send(engA, "SM1", "Y")
	assert.True(t, late.Duplicate)
	assert.Empty(t, late.Replies, "no longer the latest")
}
