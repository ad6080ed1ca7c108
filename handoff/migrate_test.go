package handoff_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/ledger"
)

// A queue kept in the layout before the hash tag (every key directly
// under the prefix, a key per job and per ledger entry) is moved into the
// present one by the first process to do the queue's work, and carries
// on as it was: its case, its waiting posts, its clocks, a closed case's
// card and its ledger entry.
func TestAQueueInTheOldLayoutIsMovedAndCarriesOn(t *testing.T) {
	f := newFixture(t, handedOff)
	if _, ok := f.rdb.(*redis.ClusterClient); ok {
		t.Skip("the old layout never ran on a cluster")
	}
	ctx := context.Background()
	old := f.prefix
	const id, closed = "old-case-0001", "old-case-0002"
	ms := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	secret, err := json.Marshal(struct {
		S []bot.SummaryLine `json:"s"`
		A string            `json:"a"`
	}{[]bot.SummaryLine{{Step: "children", Label: "Children at home", Value: "Yes"}}, "+447700900123"})
	require.NoError(t, err)
	must := func(err error) { t.Helper(); require.NoError(t, err) }
	must(f.rdb.HSet(ctx, old+"c:"+id, "st", "queued", "pr", "0", "ar", "shropshire", "ch", "sms", "lg", "en",
		"rs", "complete", "op", ms(handedOff), "dl", ms(dueTime), "sec", f.sealer.Seal(secret, []byte(id)),
		"lid", "L1", "lttl", strconv.FormatInt((2*365*24*time.Hour).Milliseconds(), 10), "oc", "0", "xp", "0").Err())
	must(f.rdb.PExpire(ctx, old+"c:"+id, 90*24*time.Hour).Err())
	must(f.rdb.ZAdd(ctx, old+"open", redis.Z{Score: float64(2e13 + handedOff.UnixMilli()), Member: id}).Err())
	must(f.rdb.ZAdd(ctx, old+"timers", redis.Z{Score: float64(warnTime.UnixMilli()), Member: "warn|" + id},
		redis.Z{Score: float64(dueTime.UnixMilli()), Member: "due|" + id}).Err())
	must(f.rdb.Set(ctx, old+"seq", 2, 0).Err())
	must(f.rdb.ZAdd(ctx, old+"jobs", redis.Z{Score: 1, Member: "1"}, redis.Z{Score: 2, Member: "2"}).Err())
	must(f.rdb.HSet(ctx, old+"job:1", "k", "card", "c", id, "t", "", "a", "", "o", "", "w", "", "o2", "", "x", "").Err())
	must(f.rdb.HSet(ctx, old+"job:2", "k", "thread", "c", id, "t", f.sealer.Seal([]byte("Tenant: hello"), []byte(id)),
		"a", "", "o", "", "w", "1", "o2", "", "x", "", "n", "1", "at", "0").Err())
	must(f.rdb.ZAdd(ctx, old+"ledger", redis.Z{Score: float64(handedOff.Truncate(time.Hour).UnixMilli()), Member: "L1"}).Err())
	must(f.rdb.HSet(ctx, old+"led:L1", "hr", ms(handedOff.Truncate(time.Hour)), "ar", "shropshire", "ch", "sms", "lg", "en", "pr", "0").Err())
	must(f.rdb.PExpire(ctx, old+"led:L1", time.Hour).Err())
	must(f.rdb.Set(ctx, old+"card:1700000000.000999", closed, time.Hour).Err())
	must(f.rdb.RPush(ctx, old+"tl:"+closed, "C-shropshire|1700000000.000999").Err())
	must(f.rdb.Set(ctx, old+"evpos", "1764500000000-0", 0).Err())
	must(f.rdb.Set(ctx, old+"lease", "a-stopped-process", 10*time.Second).Err())

	q := f.queue()
	f.stepAt(t, q, handedOff)
	assert.Equal(t, []string{"card old-case standard", "thread old-case [tenant] Tenant: hello"}, f.board.Posts(),
		"the waiting posts, in order, the text unsealed")
	for _, k := range storetest.Keys(t, f.rdb, old+"*") {
		if k == old+"evpos" {
			continue // the store drops it with the old event stream (redisstore.Options.LegacyTaken)
		}
		assert.True(t, strings.HasPrefix(k, f.key("")), "%s is in the present layout", k)
	}
	ttl, err := f.rdb.PTTL(ctx, f.key("c:"+id)).Result()
	require.NoError(t, err)
	assert.Greater(t, ttl, 89*24*time.Hour, "the case keeps its time to live")

	c, err := q.Get(ctx, id)
	require.NoError(t, err)
	assert.Equal(t, "+447700900123", c.Address)
	assert.Equal(t, "1700000001.000100", c.Card.TS, "the card posted after the move is recorded")
	list, err := q.List(ctx)
	require.NoError(t, err)
	require.Len(t, list, 1)
	got, err := q.CaseByCard(ctx, "1700000000.000999")
	require.NoError(t, err)
	assert.Equal(t, bot.ConversationID(closed), got, "a closed case's card still leads to it")
	entries, err := ledger.Read(ctx, f.rdb, f.prefix, handedOff.Add(-24*time.Hour), handedOff.Add(24*time.Hour))
	require.NoError(t, err)
	require.Len(t, entries, 1)
	assert.Equal(t, "shropshire", entries[0].Area)

	_, err = q.Claim(ctx, id, "U-ALICE")
	require.NoError(t, err)
	f.stepAt(t, q, warnTime)
	assert.Equal(t, "alert old-case remind to U-ALICE", last(grep(f.board.Posts(), "alert")), "its clocks run on")
	lids, err := f.rdb.ZRange(ctx, ledger.KeysFor(f.prefix).Index, 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, lids, 1)
	raw, err := f.rdb.HGet(ctx, ledger.KeysFor(f.prefix).Entries, lids[0]).Result()
	require.NoError(t, err)
	assert.Contains(t, raw, `"tcl":`, "the claim reaches its ledger entry")
}
