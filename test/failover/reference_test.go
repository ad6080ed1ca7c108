package failover_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows/flowstest"
)

// reference is what a script's texts get on the engine with the
// in-memory store: the start of each text's first reply, how many
// replies, and the transcript lines the turns leave.
type reference struct {
	first   []string
	replies []int
	lines   []bot.Line
}

// compared is how much of a reply's start the test compares: it leaves
// out deadlines, which depend on the minute.
const compared = 30

func start(s string) string {
	if len(s) > compared {
		return s[:compared]
	}
	return s
}

// matches reports whether messages are what text i gets on the reference.
func (r *reference) matches(i int, messages []string) bool {
	if len(messages) != r.replies[i] {
		return false
	}
	return len(messages) == 0 || start(messages[0]) == r.first[i]
}

// references plays each script on the engine with the in-memory store.
func references(t *testing.T, scripts ...[]string) map[int]*reference {
	t.Helper()
	out := map[int]*reference{}
	for _, script := range scripts {
		mem := memstore.New(time.Now)
		eng := flowstest.Engine(t, mem, time.Now())
		const from = "+447700900000"
		r := &reference{}
		for i, body := range script {
			res, err := eng.Handle(context.Background(), bot.Inbound{Channel: bot.ChannelSMS, Address: from, MessageID: fmt.Sprint(i), Text: body})
			if err != nil {
				t.Fatal(err)
			}
			first := ""
			if len(res.Replies) > 0 {
				first = start(res.Replies[0].Text)
			}
			r.first = append(r.first, first)
			r.replies = append(r.replies, len(res.Replies))
		}
		lines, err := mem.Transcript(context.Background(), eng.ID(bot.ChannelSMS, from))
		if err != nil {
			t.Fatal(err)
		}
		for _, l := range lines {
			r.lines = append(r.lines, bot.Line{Step: l.Step, Text: l.Text})
		}
		out[len(script)] = r
	}
	return out
}
