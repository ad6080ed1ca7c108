package failover_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/flows/flowstest"
	"github.com/safecontact/safecontact/redisconn"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

// TestALostAnswerIsNotAppliedTwice: Redis applies a text's turn and its
// answer is lost with the server, which cannot be reached for 2 s (a
// primary that died, and its replica taking over with the turn). With
// safecontact's retries (package redisconn, the default), the save is tried
// again once Redis is back, finds the text applied, and the tenant gets
// the answer the turn gave, not the fallback that would have them send it
// again and have it read as the answer to the next question. The turn is
// applied once.
func TestALostAnswerIsNotAppliedTwice(t *testing.T) {
	if m := os.Getenv("REDIS_MODE"); m != "" && m != redisconn.Single {
		t.Skip("the test stands a proxy in front of one Redis server; REDIS_MODE is " + m)
	}
	direct := storetest.Redis(t)
	node, ok := direct.(*redis.Client)
	if !ok {
		t.Fatalf("a single server's client is a %T", direct)
	}
	const outage = 2 * time.Second
	p := newLostAnswer(t, node.Options().Addr, outage)
	u, err := url.Parse(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatal(err)
	}
	u.Host = p.addr
	u.RawQuery = "" // safecontact's own retries (package redisconn)
	rdb, err := redisconn.Open(context.Background(), redisconn.Single, u.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	key, err := seal.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	sealer, err := seal.New(key)
	if err != nil {
		t.Fatal(err)
	}
	prefix := storetest.Prefix(t)
	t.Cleanup(func() {
		for _, k := range storetest.Keys(t, direct, prefix+"*") {
			direct.Del(context.Background(), k)
		}
	})
	store := redisstore.New(direct, sealer, redisstore.Options{Prefix: prefix})
	eng := flowstest.Engine(t, redisstore.New(rdb, sealer, redisstore.Options{Prefix: prefix}), time.Now())
	h, err := sms.New(sms.Config{Engine: eng, AuthToken: authToken, PublicBaseURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	ref := references(t, toHandoff)[len(toHandoff)]
	const from = "+447700900123"

	for i, body := range toHandoff[:2] {
		lost := i == 1
		p.armed.Store(lost)
		sent := time.Now()
		status, messages, err := text(http.DefaultClient, srv.URL, from, body, newSid())
		took := time.Since(sent)
		if err != nil || status != http.StatusOK {
			t.Fatalf("text %d: status %d, %v", i+1, status, err)
		}
		if !ref.matches(i, messages) {
			t.Fatalf("text %d (%q) got %q, want the script's answer (%q…)", i+1, body, messages, ref.first[i])
		}
		if lost && (p.armed.Load() || took < outage) {
			t.Fatalf("text %d was answered in %s, the proxy armed %v: its answer was not lost", i+1, took, p.armed.Load())
		}
	}
	id := eng.ID(bot.ChannelSMS, from)
	lines, err := store.Transcript(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	got := make([]bot.Line, len(lines))
	for i, l := range lines {
		got[i] = bot.Line{Step: l.Step, Text: l.Text}
	}
	if want := ref.lines[:2]; !slices.Equal(got, want) {
		t.Errorf("transcript %v, want %v: each text once", got, want)
	}
	if _, version, err := store.Load(context.Background(), id); err != nil || version != 2 {
		t.Errorf("version %d, %v after two turns, want 2", version, err)
	}
}
