package bot_test

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

// intake is a whole conversation, first message to handoff (DESIGN §6).
var intake = []string{
	"Hi", "Y", "no", "TF11 8AB", "1", "1", "yes", "yes", "Log 1234 with the police", "yeah",
	"The back door lock is broken", "no", "1", "yes", "Text only after 6pm, no voicemail", "1",
}

func benchEngine(b testing.TB, store bot.Store) *bot.Engine {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	bundle, problems := flows.Load("", now)
	if errs := problems.Errors(); len(errs) > 0 {
		b.Fatal(errs)
	}
	eng, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte("bench-key-0123456789abcdef012345")), Now: func() time.Time { return now },
	})
	if err != nil {
		b.Fatal(err)
	}
	return eng
}

func redisStore(b *testing.B) (*redisstore.Store, redis.UniversalClient) {
	if os.Getenv("REDIS_URL") == "" {
		b.Skip("REDIS_URL is not set; scripts/test starts a Redis server")
	}
	rdb := storetest.Redis(b)
	k, _ := seal.GenerateKey()
	sl, err := seal.New(k)
	if err != nil {
		b.Fatal(err)
	}
	return redisstore.New(rdb, sl, redisstore.Options{Prefix: storetest.Prefix(b)}), rdb
}

// BenchmarkTurn is one tenant message through the engine: load, decide,
// seal and save. Each op is the next line of an intake, so the figure is
// the average over a whole conversation; a new conversation starts every
// len(intake) ops.
func BenchmarkTurn(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchTurn(b, memstore.New(nil)) })
	b.Run("redis", func(b *testing.B) {
		s, _ := redisStore(b)
		benchTurn(b, s)
	})
}

func benchTurn(b *testing.B, store bot.Store) {
	eng := benchEngine(b, store)
	ctx := context.Background()
	run := time.Now().UnixNano()
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		conv, line := i/len(intake), i%len(intake)
		_, err := eng.Handle(ctx, bot.Inbound{
			Channel: bot.ChannelSMS, Address: fmt.Sprintf("+4477%d%08d", run%1000, conv),
			MessageID: fmt.Sprint("SM", i), Text: intake[line],
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkTurnParallel runs turns of many conversations at once, as a
// serve process does: ns/op here is the inverse of throughput.
func BenchmarkTurnParallel(b *testing.B) {
	b.Run("memstore", func(b *testing.B) { benchTurnParallel(b, memstore.New(nil)) })
	b.Run("redis", func(b *testing.B) {
		s, _ := redisStore(b)
		benchTurnParallel(b, s)
	})
}

func benchTurnParallel(b *testing.B, store bot.Store) {
	eng := benchEngine(b, store)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.SetParallelism(8)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		tenant := next.Add(1)
		for i := 0; pb.Next(); i++ {
			conv, line := i/len(intake), i%len(intake)
			_, err := eng.Handle(ctx, bot.Inbound{
				Channel: bot.ChannelSMS, Address: fmt.Sprintf("+4477%03d%07d", tenant, conv),
				MessageID: fmt.Sprint("SM", tenant, "-", i), Text: intake[line],
			})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkRedisMemory reports the Redis memory one conversation takes,
// mid-intake and at the handoff, from MEMORY USAGE of its keys: the total
// (what DESIGN §9's 2 KiB is about), and each key on its own. Message ids
// are as long as Twilio's (34 characters).
func BenchmarkRedisMemory(b *testing.B) {
	s, rdb := redisStore(b)
	eng := benchEngine(b, s)
	ctx := context.Background()
	keys := func(id bot.ConversationID) map[string]string {
		return map[string]string{"state": s.StateKey(id), "log": s.LogKey(id), "seen": s.SeenKey(id)}
	}
	usage := func(id bot.ConversationID) map[string]int64 {
		out := map[string]int64{}
		for name, key := range keys(id) {
			v, err := rdb.MemoryUsage(ctx, key).Result()
			if err != nil && err != redis.Nil {
				b.Fatal(err)
			}
			out[name] = v
			out["total"] += v
		}
		return out
	}
	var mid, end map[string]int64
	for i := range b.N {
		addr := fmt.Sprintf("+447700%06d", i)
		id := eng.ID(bot.ChannelSMS, addr)
		for j, text := range intake {
			if _, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: addr, MessageID: fmt.Sprintf("SM%016x%016x", i, j), Text: text}); err != nil {
				b.Fatal(err)
			}
			if j == len(intake)/2 {
				mid = usage(id)
			}
		}
		end = usage(id)
	}
	b.ReportMetric(float64(mid["total"]), "bytes-mid-intake")
	b.ReportMetric(float64(end["total"]), "bytes-at-handoff")
	for _, name := range []string{"state", "log", "seen"} {
		b.ReportMetric(float64(mid[name]), "bytes-"+name+"-mid")
		b.ReportMetric(float64(end[name]), "bytes-"+name+"-handoff")
	}
}

// BenchmarkTurnLongTranscript sends every op to one handed-off
// conversation, so its transcript grows to the store's cap (500 lines):
// a turn must cost the same as on a fresh conversation.
func BenchmarkTurnLongTranscript(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		s, _ := redisStore(b)
		eng := benchEngine(b, s)
		ctx := context.Background()
		send := func(i int, text string) {
			_, err := eng.Handle(ctx, bot.Inbound{Channel: bot.ChannelSMS, Address: "+447700900123", MessageID: fmt.Sprint("SM", i), Text: text})
			if err != nil {
				b.Fatal(err)
			}
		}
		for i, text := range intake {
			send(-1-i, text)
		}
		b.ReportAllocs()
		b.ResetTimer()
		for i := range b.N {
			send(i, "he is outside again")
		}
	})
}
