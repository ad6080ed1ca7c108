package redisstore

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
)

// filled returns a conversation with every field set, whatever fields
// bot.Conversation has: one the record does not carry fails the round
// trip below.
func filled(t testing.TB) *bot.Conversation {
	t.Helper()
	c := &bot.Conversation{}
	fill(t, reflect.ValueOf(c).Elem(), "c")
	return c
}

func fill(t testing.TB, v reflect.Value, name string) {
	t.Helper()
	switch v.Kind() {
	case reflect.String:
		v.SetString(name)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Int, reflect.Int64:
		v.SetInt(int64(len(name)))
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(t, s.Index(i), name+string(rune('0'+i)))
		}
		v.Set(s)
	case reflect.Map:
		m := reflect.MakeMap(v.Type())
		for i := range 2 {
			k, e := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
			fill(t, k, name+"-key"+string(rune('0'+i)))
			fill(t, e, name+"-value"+string(rune('0'+i)))
			m.SetMapIndex(k, e)
		}
		v.Set(m)
	case reflect.Struct:
		if v.Type() == reflect.TypeFor[time.Time]() {
			v.Set(reflect.ValueOf(time.Unix(1_780_000_000+int64(len(name)), 123456789).UTC()))
			return
		}
		for i := range v.NumField() {
			fill(t, v.Field(i), name+"."+v.Type().Field(i).Name)
		}
	default:
		t.Fatalf("%s: no value for a %s: teach fill and the record this type", name, v.Type())
	}
}

func TestConversationRecordCarriesEveryField(t *testing.T) {
	for _, c := range []*bot.Conversation{filled(t), {}, {Erased: true, LastID: "x"}} {
		got, err := decodeConversation(string(appendConversation(nil, c)))
		require.NoError(t, err)
		assert.Equal(t, c, got)
	}
}

// A record reads back as JSON did: the same conversation, times in UTC.
func TestConversationRecordMatchesJSON(t *testing.T) {
	c := filled(t)
	c.Started = time.Date(2026, 12, 1, 11, 0, 0, 5, time.FixedZone("BST", 3600))
	js, err := json.Marshal(c)
	require.NoError(t, err)
	var fromJSON bot.Conversation
	require.NoError(t, json.Unmarshal(js, &fromJSON))
	fromRecord, err := decodeConversation(string(appendConversation(nil, c)))
	require.NoError(t, err)
	assert.True(t, fromJSON.Started.Equal(fromRecord.Started))
	fromJSON.Started = fromRecord.Started
	assert.Equal(t, &fromJSON, fromRecord)
}

func TestConversationRecordRefusesWhatItCannotRead(t *testing.T) {
	good := appendConversation(nil, filled(t))
	for label, b := range map[string][]byte{
		"empty":            {},
		"no end":           good[:len(good)-1],
		"cut in a string":  good[:10],
		"a later field":    append(good[:len(good)-1:len(good)-1], 200, tagEnd),
		"after the end":    append(good[:len(good):len(good)], 0),
		"huge count":       {tagHistory, 0xff, 0xff, 0xff, 0xff, 0x0f, tagEnd},
		"nanoseconds past": {tagStarted, 2, 0x80, 0x94, 0xeb, 0xdc, 0x03, tagEnd},
	} {
		_, err := decodeConversation(string(b))
		assert.Error(t, err, label)
	}
}

// States earlier versions wrote, JSON and JSON compressed, still read, as
// records whose transcript is all in the log.
func TestEarlierStatesStillRead(t *testing.T) {
	c := &bot.Conversation{Channel: bot.ChannelSMS, State: "children", Answers: map[string]string{"area": "shropshire"},
		LastReplies: []bot.Reply{{Text: strings.Repeat("Numbers you can call: National helpline, free, 24h: 0808 2000 247. ", 20)}}}
	js, err := json.Marshal(c)
	require.NoError(t, err)
	var deflated bytes.Buffer
	deflated.WriteByte(stateDeflated)
	w, err := flate.NewWriter(&deflated, flate.BestSpeed)
	require.NoError(t, err)
	w.Write(js)
	require.NoError(t, w.Close())

	for label, b := range map[string][]byte{"JSON": js, "compressed JSON": deflated.Bytes()} {
		plain, rec, got, err := decodeState(b)
		require.NoError(t, err, label)
		assert.Equal(t, c, got, label)
		assert.Equal(t, byte(flagLegacyLog), rec.flags, label)
		again, err := parseRecord(plain)
		require.NoError(t, err, label)
		assert.Equal(t, rec, again, label)
	}
	_, _, _, err = decodeState([]byte{stateDeflated, 0xff, 0x00})
	assert.Error(t, err, "a damaged compressed state")
}

func TestStateRecordRoundTrips(t *testing.T) {
	lines := []bot.Line{
		{At: time.UnixMilli(1_780_000_000_123).UTC(), Step: "danger", Text: "no"},
		{Step: "", Text: "hi"},
	}
	var pending []byte
	for _, l := range lines {
		pending = appendLine(pending, l)
	}
	small := &bot.Conversation{Channel: bot.ChannelSMS, State: "children"}
	large := filled(t)
	large.HandedOff, large.Opened = time.Time{}, time.Time{}
	large.LastReplies[0].Text = strings.Repeat("Numbers you can call: National helpline, free, 24h: 0808 2000 247. ", 20)
	handedOff := &bot.Conversation{Channel: bot.ChannelSMS, State: "handed_off", HandedOff: time.Unix(1_780_000_000, 0).UTC()}
	opened := &bot.Conversation{Channel: bot.ChannelSMS, State: "children", Opened: time.Unix(1_780_000_000, 0).UTC()}
	for _, c := range []*bot.Conversation{small, large, handedOff, opened} {
		rec := record{conv: string(appendConversation(nil, c)), npending: 2, pending: string(pending), chunks: []int{16, 16, 3}, flags: flagLegacyLog}
		plain := rec.appendTo(nil)
		stored := encodeState(plain, c)
		if c == small {
			assert.Equal(t, byte(stateRecord), stored[0], "a small state of an intake is stored as it is")
		} else {
			assert.Equal(t, byte(stateRecordZstd), stored[0], "a large state, or an officers' case, is compressed")
		}
		if c == large {
			assert.Less(t, len(stored), len(plain))
		}
		gotPlain, gotRec, got, err := decodeState(stored)
		require.NoError(t, err)
		assert.Equal(t, string(plain), gotPlain)
		assert.Equal(t, rec, gotRec)
		assert.Equal(t, c, got)
		gotLines, err := decodeLines(gotRec.pending, gotRec.npending)
		require.NoError(t, err)
		assert.Equal(t, lines, gotLines)
	}
}

func TestChunksAndEarlierLinesRead(t *testing.T) {
	at := time.UnixMilli(1_780_000_000_123).UTC()
	var raw []byte
	var want []bot.Line
	for i := range 20 {
		l := bot.Line{At: at.Add(time.Duration(i) * time.Second), Step: "contact", Text: strings.Repeat("text after 6pm ", i%3)}
		raw = appendLine(raw, l)
		want = append(want, l)
	}
	got, err := decodeChunk(encodeChunk(string(raw), len(want)))
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, want[2:], decodeAfter(t, skipLines(string(raw), 2), 18))

	// One line as an earlier version sealed it.
	legacy, err := json.Marshal([]any{at.UnixMilli(), "danger", "no"})
	require.NoError(t, err)
	got, err = decodeChunk(legacy)
	require.NoError(t, err)
	assert.Equal(t, []bot.Line{{At: at, Step: "danger", Text: "no"}}, got)

	for _, bad := range [][]byte{{}, {9}, {chunkLines, 5, 1}, {chunkLinesZstd, 0xff}} {
		_, err := decodeChunk(bad)
		assert.Error(t, err, "%x", bad)
	}
}

func decodeAfter(t *testing.T, b string, n int) []bot.Line {
	t.Helper()
	lines, err := decodeLines(b, n)
	require.NoError(t, err)
	return lines
}

func FuzzDecodeState(f *testing.F) {
	rec := record{conv: string(appendConversation(nil, &bot.Conversation{State: "s", Answers: map[string]string{"a": "b"}})),
		npending: 1, pending: string(appendLine(nil, bot.Line{Text: "x"})), chunks: []int{16}}
	f.Add(rec.appendTo(nil))
	f.Add(compress(rec.appendTo(nil), stateRecordZstd))
	f.Add([]byte(`{"st":"s"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		plain, r, c, err := decodeState(b)
		if err != nil {
			return
		}
		// What reads, reads the same again from what it gives.
		again, r2, c2, err := decodeState([]byte(plain))
		if err != nil {
			t.Fatalf("%x read, but its record %x does not: %v", b, plain, err)
		}
		assert.Equal(t, plain, again)
		assert.Equal(t, r, r2)
		assert.Equal(t, c, c2)
		decodeLines(r.pending, r.npending)
	})
}

func FuzzDecodeChunk(f *testing.F) {
	raw := appendLine(appendLine(nil, bot.Line{Text: "hi"}), bot.Line{Step: "s", Text: "x"})
	f.Add(encodeChunk(string(raw), 2))
	f.Add([]byte(`[1,"s","x"]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		decodeChunk(b)
	})
}

// The reader's varints are encoding/binary's.
func FuzzVarint(f *testing.F) {
	f.Add([]byte{0x80, 0x01}, int64(-300))
	f.Add(bytes.Repeat([]byte{0xff}, 10), int64(1<<62))
	f.Fuzz(func(t *testing.T, b []byte, n int64) {
		want, k := binary.Uvarint(b)
		r := reader{b: string(b)}
		got := r.uvarint()
		if (k <= 0) != (r.err != nil) || (k > 0 && (got != want || len(r.b) != len(b)-k)) {
			t.Errorf("uvarint(%x) = %d, %v; binary.Uvarint: %d, %d", b, got, r.err, want, k)
		}
		r = reader{b: string(binary.AppendVarint(nil, n))}
		if got := r.varint(); got != n || r.err != nil || r.b != "" {
			t.Errorf("varint of %d = %d, %v", n, got, r.err)
		}
	})
}
