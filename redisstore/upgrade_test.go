package redisstore_test

import (
	"bytes"
	"compress/flate"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

// writeEarlier stores a conversation as the previous version did: the
// state a hash of its version and its sealed JSON (compressed, after a
// mark byte 1, from 1 KiB), each transcript line sealed on its own as the
// JSON array [unix ms, step, text].
func writeEarlier(t *testing.T, rdb redis.UniversalClient, s *redisstore.Store, sl *seal.Sealer,
	id bot.ConversationID, version int64, c *bot.Conversation, lines []bot.Line) {
	t.Helper()
	js, err := json.Marshal(c)
	require.NoError(t, err)
	if len(js) >= 1024 {
		var buf bytes.Buffer
		buf.WriteByte(1)
		w, err := flate.NewWriter(&buf, flate.BestSpeed)
		require.NoError(t, err)
		w.Write(js)
		require.NoError(t, w.Close())
		js = buf.Bytes()
	}
	require.NoError(t, rdb.HSet(ctx, s.StateKey(id), "v", version, "d", sl.Seal(js, []byte("state\x00"+string(id)))).Err())
	require.NoError(t, rdb.PExpire(ctx, s.StateKey(id), time.Hour).Err())
	for _, l := range lines {
		b, err := json.Marshal([]any{l.At.UnixMilli(), l.Step, l.Text})
		require.NoError(t, err)
		require.NoError(t, rdb.RPush(ctx, s.LogKey(id), sl.Seal(b, []byte("line\x00"+string(id)))).Err())
	}
	if len(lines) > 0 {
		require.NoError(t, rdb.PExpire(ctx, s.LogKey(id), time.Hour).Err())
	}
}

// An upgrade finds conversations the previous version stored: they load,
// their transcripts read, and the next turns carry on from them and
// rewrite them in this version's form, losing no line. Once the log's
// newer chunks hold MaxTranscript lines, the earlier lines go, as the
// oldest always did.
func TestConversationsOfTheEarlierVersionCarryOn(t *testing.T) {
	for _, tc := range []struct {
		label string
		sent  int // texts of the intake before the upgrade
	}{
		{"mid-intake (JSON)", 5},
		{"handed off (compressed JSON)", len(storetest.Intake)},
	} {
		t.Run(tc.label, func(t *testing.T) {
			rdb := storetest.Redis(t)
			r := newRig(t)
			r.opts = redisstore.Options{MaxTranscript: 30, ChunkLines: 4}
			eng, store := r.engine(t, rdb)

			// The previous version's turns, replayed on memory, then
			// written as it wrote them.
			mem := memstore.New(func() time.Time { return r.now })
			before, err := bot.New(bot.Config{Flow: r.bundle.Flow, Store: mem, Directory: r.bundle.Directory, Hours: r.bundle.Hours,
				Keyer: bot.NewKeyer([]byte("redisstore-test-key-0123456789ab")), Now: func() time.Time { return r.now }})
			require.NoError(t, err)
			for i, text := range storetest.Intake[:tc.sent] {
				_, err := before.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("old", i), Text: text})
				require.NoError(t, err)
			}
			id := eng.ID(bot.ChannelSMS, phone)
			old, _, err := mem.Load(ctx, id)
			require.NoError(t, err)
			oldLines, err := mem.Transcript(ctx, id)
			require.NoError(t, err)
			for i := range oldLines {
				oldLines[i].At = oldLines[i].At.Truncate(time.Millisecond)
			}
			writeEarlier(t, rdb, store, r.sealer, id, int64(tc.sent), old, oldLines)

			c, v, err := store.Load(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, int64(tc.sent), v)
			assert.Equal(t, old.State, c.State)
			assert.Equal(t, old.Answers, c.Answers)
			lines, err := store.Transcript(ctx, id)
			require.NoError(t, err)
			assert.Equal(t, oldLines, lines)

			// The turns after the upgrade.
			var want []string
			for _, l := range oldLines {
				want = append(want, l.Text)
			}
			for i := range 40 {
				text := fmt.Sprintf("after the upgrade %02d", i)
				if i == 0 && tc.sent < len(storetest.Intake) {
					text = storetest.Intake[tc.sent]
				}
				res, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: phone, MessageID: fmt.Sprint("new", i), Text: text})
				require.NoError(t, err)
				require.False(t, res.Duplicate)
				want = append(want, text)
				if i == 0 {
					typ, err := rdb.Type(ctx, store.StateKey(id)).Result()
					require.NoError(t, err)
					assert.Equal(t, "string", typ, "the first turn rewrites the state")
					ttl, err := rdb.PTTL(ctx, store.LogKey(id)).Result()
					require.NoError(t, err)
					assert.Greater(t, ttl, 2*time.Hour, "the earlier version's log lives as long as the state")
					c, _, err := storetest.Fresh(store).Load(ctx, id)
					require.NoError(t, err)
					for step, answer := range old.Answers {
						assert.Equal(t, answer, c.Answers[step], "the answers carry on")
					}
				}
				lines, err := store.Transcript(ctx, id)
				require.NoError(t, err)
				got := make([]string, len(lines))
				for j, l := range lines {
					got[j] = l.Text
				}
				assert.Equal(t, want[max(0, len(want)-30):], got, "after turn %d", i)
			}
			// 40 lines in chunks of 4 hold the 30 kept: no line of the
			// earlier version is left, and at most a chunk more than 30.
			n, err := rdb.LLen(ctx, store.LogKey(id)).Result()
			require.NoError(t, err)
			assert.Equal(t, int64(8), n, "eight chunks of four")
		})
	}
}
