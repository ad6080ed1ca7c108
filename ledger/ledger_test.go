package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/ledger"
)

var london = mustLoad("Europe/London")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// quarter is Q4 2026 in the office's zone: from inclusive, to exclusive.
var (
	qFrom = time.Date(2026, 10, 1, 0, 0, 0, 0, london)
	qTo   = time.Date(2027, 1, 1, 0, 0, 0, 0, london)
)

// ledgerRedis is a client and a key prefix of this test's own, whose keys
// are deleted when the test ends.
func ledgerRedis(t *testing.T) (redis.UniversalClient, string) {
	t.Helper()
	rdb, prefix := storetest.Redis(t), storetest.Prefix(t)
	t.Cleanup(func() {
		for _, k := range storetest.Keys(t, rdb, prefix+"*") {
			rdb.Del(context.Background(), k)
		}
	})
	return rdb, prefix
}

// canonical sorts entries into an order that doesn't depend on ledger ids.
func canonical(es []ledger.Entry) []ledger.Entry {
	es = slices.Clone(es)
	slices.SortStableFunc(es, func(a, b ledger.Entry) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	return es
}

func TestWriteRead(t *testing.T) {
	t.Parallel()
	rdb, prefix := ledgerRedis(t)
	ctx := context.Background()
	fx := ledger.Fixture(42, qFrom, qTo, 1234) // more than two batches
	require.NoError(t, ledger.Write(ctx, rdb, prefix, fx, time.Hour))

	got, err := ledger.Read(ctx, rdb, prefix, qFrom, qTo)
	require.NoError(t, err)
	require.Len(t, got, len(fx))
	assert.Equal(t, canonical(fx), canonical(got))
	assert.True(t, slices.IsSortedFunc(got, func(a, b ledger.Entry) int { return a.Hour.Compare(b.Hour) }), "oldest first")

	// A range takes only the cases opened in it, to exclusive.
	nov, dec := time.Date(2026, 11, 1, 0, 0, 0, 0, london), time.Date(2026, 12, 1, 0, 0, 0, 0, london)
	var want []ledger.Entry
	for _, e := range fx {
		if !e.Hour.Before(nov) && e.Hour.Before(dec) {
			want = append(want, e)
		}
	}
	got, err = ledger.Read(ctx, rdb, prefix, nov, dec)
	require.NoError(t, err)
	assert.Equal(t, canonical(want), canonical(got))
	assert.NotEmpty(t, want)

	keys := ledger.KeysFor(prefix)
	lid := rdb.ZRange(ctx, keys.Index, 0, 0).Val()[0]
	expires := time.UnixMilli(int64(rdb.ZScore(ctx, keys.Expiry, lid).Val()))
	assert.WithinDuration(t, rdb.Time(ctx).Val().Add(time.Hour), expires, time.Minute, "each entry expires after the ttl given")
}

func TestReadSkipsExpired(t *testing.T) {
	t.Parallel()
	rdb, prefix := ledgerRedis(t)
	ctx := context.Background()
	fx := ledger.Fixture(7, qFrom, qTo, 20)
	require.NoError(t, ledger.Write(ctx, rdb, prefix, fx, 0))
	keys := ledger.KeysFor(prefix)
	ids := rdb.ZRange(ctx, keys.Index, 0, -1).Val()
	// One entry removed, one expired and not yet removed.
	require.NoError(t, rdb.HDel(ctx, keys.Entries, ids[3]).Err())
	require.NoError(t, rdb.ZAdd(ctx, keys.Expiry, redis.Z{Score: float64(rdb.Time(ctx).Val().Add(-time.Second).UnixMilli()), Member: ids[11]}).Err())

	got, err := ledger.Read(ctx, rdb, prefix, qFrom, qTo)
	require.NoError(t, err)
	assert.Len(t, got, 18)
}

func TestReadHourFromScore(t *testing.T) {
	t.Parallel()
	rdb, prefix := ledgerRedis(t)
	ctx := context.Background()
	hour := time.Date(2026, 11, 3, 19, 0, 0, 0, time.UTC)
	keys := ledger.KeysFor(prefix)
	rdb.ZAdd(ctx, keys.Index, redis.Z{Score: float64(hour.UnixMilli()), Member: "a"})
	rdb.HSet(ctx, keys.Entries, "a", `{"ar": "wales", "pr": "2"}`)
	got, err := ledger.Read(ctx, rdb, prefix, qFrom, qTo)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, ledger.Entry{Hour: hour, Area: "wales", Priority: ledger.Urgent}, got[0])
}

func TestReadMalformed(t *testing.T) {
	t.Parallel()
	rdb, prefix := ledgerRedis(t)
	ctx := context.Background()
	hour := time.Date(2026, 11, 3, 19, 0, 0, 0, time.UTC)
	keys := ledger.KeysFor(prefix)
	rdb.ZAdd(ctx, keys.Index, redis.Z{Score: float64(hour.UnixMilli()), Member: "bad1"})
	rdb.HSet(ctx, keys.Entries, "bad1", fmt.Sprintf(`{"hr": "%d", "tco": "soon"}`, hour.UnixMilli()))
	_, err := ledger.Read(ctx, rdb, prefix, qFrom, qTo)
	require.ErrorIs(t, err, ledger.ErrMalformed)
	assert.Contains(t, err.Error(), "ledger bad1:")
	assert.Contains(t, err.Error(), `tco "soon"`)

	rdb.HSet(ctx, keys.Entries, "bad1", `{"hr": 1793732400000}`)
	_, err = ledger.Read(ctx, rdb, prefix, qFrom, qTo)
	require.ErrorIs(t, err, ledger.ErrMalformed, "a number where a string belongs")
	assert.Contains(t, err.Error(), "ledger bad1:")
}

func TestParse(t *testing.T) {
	hr := time.Date(2026, 11, 3, 19, 0, 0, 0, time.UTC)
	tests := []struct {
		label string
		in    map[string]string
		want  ledger.Entry
		err   string
	}{
		{"empty", map[string]string{}, ledger.Entry{}, ""},
		{"full", map[string]string{
			"hr": "1793732400000", "ar": "shropshire", "ch": "sms", "lg": "cy", "pr": "1", "why": "answers",
			"rs": "officer", "ooh": "1", "tcl": "12", "tco": "95", "dlm": "240", "dut": "dash  children_referral",
			"dok": "dash", "dlate": "children_referral", "out": "Tenant declined support", "disc": "no", "left": "1",
		}, ledger.Entry{
			Hour: hr, Area: "shropshire", Channel: "sms", Lang: "cy", Priority: ledger.High, Why: "answers",
			Reason: "officer", OutOfHours: true, ToClaim: 12 * time.Minute, Claimed: true,
			ToContact: 95 * time.Minute, Contacted: true, Deadline: 4 * time.Hour,
			Duties: []string{"dash", "children_referral"}, DoneOnTime: []string{"dash"}, DoneLate: []string{"children_referral"},
			Outcome: "Tenant declined support", Discussed: "no", LeftEarly: true,
		}, ""},
		{"claimed at once", map[string]string{"tcl": "0"}, ledger.Entry{Claimed: true}, ""},
		{"ooh other than 1", map[string]string{"ooh": "0", "left": "yes"}, ledger.Entry{}, ""},
		{"negative minutes", map[string]string{"tcl": "-3"}, ledger.Entry{}, `tcl "-3" is not a whole number`},
		{"priority too high", map[string]string{"pr": "3"}, ledger.Entry{Priority: 3}, "pr 3 is not 0, 1 or 2"},
		{"bad hour", map[string]string{"hr": "1.5e12"}, ledger.Entry{}, `hr "1.5e12" is not a whole number`},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			got, err := ledger.Parse(tc.in)
			if tc.err != "" {
				require.ErrorIs(t, err, ledger.ErrMalformed)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
}

func FuzzParse(f *testing.F) {
	f.Add("1793732400000", "2", "12", "95", "240", "dash security_repairs", "1")
	f.Add("", "", "", "", "", "", "")
	f.Add("x", "-1", "9999999999999999999", "1e3", " ", "\t", "0")
	f.Fuzz(func(t *testing.T, hr, pr, tcl, tco, dlm, dut, ooh string) {
		e, err := ledger.Parse(map[string]string{"hr": hr, "pr": pr, "tcl": tcl, "tco": tco, "dlm": dlm, "dut": dut, "ooh": ooh})
		if err != nil {
			if !errors.Is(err, ledger.ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if e.ToClaim < 0 || e.ToContact < 0 || e.Deadline < 0 || e.Priority < 0 || e.Priority > ledger.Urgent {
			t.Fatalf("parsed out of range: %+v", e)
		}
		for _, d := range e.Duties {
			if d == "" || strings.ContainsAny(d, " \t\n") {
				t.Fatalf("duty id %q", d)
			}
		}
	})
}

func TestFixture(t *testing.T) {
	a := ledger.Fixture(42, qFrom, qTo, 500)
	assert.Equal(t, a, ledger.Fixture(42, qFrom, qTo, 500), "the same for the same seed")
	assert.NotEqual(t, a, ledger.Fixture(43, qFrom, qTo, 500))
	require.Len(t, a, 500)

	count := map[string]int{}
	for _, e := range a {
		require.False(t, e.Hour.Before(qFrom) || !e.Hour.Before(qTo), "hour %v outside the quarter", e.Hour)
		require.Equal(t, e.Hour, e.Hour.Truncate(time.Hour))
		count["area "+e.Area]++
		count["channel "+e.Channel]++
		count["lang "+e.Lang]++
		count[fmt.Sprint("priority ", e.Priority)]++
		if e.OutOfHours {
			count["ooh"]++
		}
		if !e.Contacted {
			count["not contacted"]++
		}
		if e.ContactedInTime() {
			count["in time"]++
		}
		if len(e.DoneLate) > 0 {
			count["duty late"]++
		}
		if e.Outcome == "" {
			count["open"]++
		}
		if e.Claimed && e.Contacted {
			require.GreaterOrEqual(t, e.ToContact, e.ToClaim, "contact after claim")
		}
		require.Positive(t, e.Deadline)
	}
	for _, k := range []string{"area telford_wrekin", "area wales", "area ", "channel sms", "channel webchat",
		"lang cy", "priority 0", "priority 1", "priority 2", "ooh", "not contacted", "duty late", "open"} {
		assert.GreaterOrEqual(t, count[k], 5, k)
	}
	assert.Greater(t, count["lang en"], 8*count["lang cy"], "mostly English")
	assert.Greater(t, count["in time"], 3*(500-count["in time"]), "mostly within the promise")
	t.Log(count)
}

func ExampleParse() {
	e, err := ledger.Parse(map[string]string{
		"hr": "1793732400000", "ar": "shropshire", "pr": "2", "tcl": "12", "dlm": "60", "dut": "dash security_repairs",
	})
	fmt.Println(err)
	fmt.Println(e.Hour, e.Area, e.Priority == ledger.Urgent)
	fmt.Println(e.Claimed, e.ToClaim, e.Contacted, e.Deadline, e.Duties)
	// Output:
	// <nil>
	// 2026-11-03 19:00:00 +0000 UTC shropshire true
	// true 12m0s false 1h0m0s [dash security_repairs]
}
