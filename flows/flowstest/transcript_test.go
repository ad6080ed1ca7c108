package flowstest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/flows/flowstest"
)

func TestParseTranscript(t *testing.T) {
	at := func(d, h, m int) time.Time { return time.Date(2026, 12, d, h, m, 0, 0, flowstest.London) }
	tests := []struct {
		label, in string
		want      flowstest.Transcript
		err       string
	}{
		{"a minute a line from the default start", "# c\n> hi\n\n> y\n",
			flowstest.Transcript{Turns: []flowstest.Turn{{Text: "hi", At: at(1, 10, 0)}, {Text: "y", At: at(1, 10, 1)}}}, ""},
		{"now: before the first line is the start, not recorded", "now: 2026-12-24T15:00\n> \n> x\n",
			flowstest.Transcript{Turns: []flowstest.Turn{{Text: "", At: at(24, 15, 0)}, {Text: "x", At: at(24, 15, 1)}}}, ""},
		{"now: between lines is recorded", "lang: cy\narea: shropshire\n> a\nnow: 2026-12-02T08:30\n> b\n> c\n",
			flowstest.Transcript{Lang: "cy", Area: "shropshire", Turns: []flowstest.Turn{
				{Text: "a", At: at(1, 10, 0)}, {Text: "b", At: at(2, 8, 30), Set: true}, {Text: "c", At: at(2, 8, 31)},
			}}, ""},
		{"a bad clock", "> a\nnow: tomorrow\n", flowstest.Transcript{}, "line 2: "},
		{"an unknown line", "> a\nhello\n", flowstest.Transcript{}, `line 2: want "> text"`},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, err := flowstest.ParseTranscript(strings.NewReader(tt.in))
			if tt.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestParseGolden(t *testing.T) {
	in := "> hi\n< Hello.\n< Numbers:\n< \n! handoff reason=danger\n!   Area: x\n\nnow: 2026-12-02T08:30\n\n> \n\n> ok\n< Sure.\n"
	got, err := flowstest.ParseGolden(strings.NewReader(in))
	require.NoError(t, err)
	assert.Equal(t, []flowstest.GoldenTurn{
		{Text: "hi", Replies: []string{"Hello.", "Numbers:", ""}, Events: []string{"handoff reason=danger", "  Area: x"}},
		{Text: "", Now: "2026-12-02T08:30"},
		{Text: "ok", Replies: []string{"Sure."}},
	}, got)
	assert.Equal(t, []string{"Hello.", "Numbers:", ""}, flowstest.ReplyLines("Hello.", "Numbers:\n"))

	for _, bad := range []string{"< orphan\n", "> a\n? what\n"} {
		_, err := flowstest.ParseGolden(strings.NewReader(bad))
		assert.Error(t, err, "%q", bad)
	}
}

func ExampleReplyLines() {
	for _, l := range flowstest.ReplyLines("Numbers you can call:\nEmergency: 999", "Which area?") {
		fmt.Println("< " + l)
	}
	// Output:
	// < Numbers you can call:
	// < Emergency: 999
	// < Which area?
}

func FuzzParseTranscript(f *testing.F) {
	f.Add("now: 2026-12-24T15:00\n> hi\n# c\nnow: 2026-12-25T09:00\n> y\n")
	f.Add("lang: cy\n> \n")
	f.Fuzz(func(t *testing.T, in string) {
		s, err := flowstest.ParseTranscript(strings.NewReader(in))
		if err != nil {
			return
		}
		for i := 1; i < len(s.Turns); i++ {
			if !s.Turns[i].Set && !s.Turns[i].At.Equal(s.Turns[i-1].At.Add(time.Minute)) {
				t.Fatalf("turn %d: a minute a line unless now: sets the clock: %v then %v", i, s.Turns[i-1].At, s.Turns[i].At)
			}
		}
	})
}

func FuzzParseGolden(f *testing.F) {
	f.Add("> hi\n< Hello.\n! handoff\n\nnow: 2026-12-02T08:30\n\n> ok\n")
	f.Fuzz(func(t *testing.T, in string) {
		turns, err := flowstest.ParseGolden(strings.NewReader(in))
		if err != nil {
			return
		}
		if want := strings.Count("\n"+in, "\n>"); len(turns) != want {
			t.Fatalf("%d turns for %d \"> \" lines", len(turns), want)
		}
	})
}
