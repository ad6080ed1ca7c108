package webchat_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/flows/flowstest"
)

// transcripts are the engine's golden transcripts, played here over the
// web chat's API.
var transcripts = filepath.Join("..", "..", "flows", "testdata", "transcripts")

// TestTranscriptsOverWebChat plays every transcript of the default flows
// through the web chat's HTTP API and checks that the bot messages on the
// event stream say what the transcript's golden says the engine answers:
// the same lines, in order, turn by turn. Events are not compared: the
// tenant never sees them.
//
// A chat starts with an empty first turn, which asks the first question
// before the tenant types. So an empty line ("> ") with no chat open is
// the start, compared like any turn; any other line with no chat open
// (the first, or the first after the chat ended) starts a chat, passes
// over the start's own messages, and then sends the line. The clock is
// the engine transcripts' own.
func TestTranscriptsOverWebChat(t *testing.T) {
	for _, tc := range flowstest.Transcripts(t, transcripts) {
		script, golden, in := tc.Script, tc.Golden, tc.Path
		t.Run(tc.Name, func(t *testing.T) {
			t.Parallel()
			if script.Area != "" {
				t.Fatalf("%s sets area:, which a web chat cannot carry", in)
			}
			c := newTranscriptChat(t, script.Lang)
			for i, turn := range script.Turns {
				want := golden[i]
				require.Equal(t, turn.Text, want.Text, "turn %d: the golden is of another script (go test ./flows -run TestTranscripts -update)", i+1)
				c.clock.Set(turn.At)
				got := c.send(t, turn.Text)
				if !assert.Equal(t, want.Replies, flowstest.ReplyLines(got...), "turn %d (%q): web chat and golden differ", i+1, turn.Text) {
					return
				}
			}
			c.finish(t)
		})
	}
}

// transcriptChat is one tenant's web chat on an engine with the
// transcripts' key and a clock the test sets.
type transcriptChat struct {
	r     *rig
	eng   *recording
	clock *flowstest.Clock
	lang  string
	token string // "" when no chat is open
	// events is the open chat's event stream, as the page reads it.
	events <-chan event
}

func newTranscriptChat(t *testing.T, lang string) *transcriptChat {
	t.Helper()
	// Each engine indexes the flow it is given: one bundle per engine.
	bundle, problems := flows.Load("", flowstest.TranscriptLoaded)
	require.Empty(t, problems.Errors())
	clock := flowstest.NewClock(flowstest.TranscriptStart)
	store := memstore.New(clock.Now)
	e, err := bot.New(bot.Config{
		Flow: bundle.Flow, Store: store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte(flowstest.TranscriptKey)), Now: clock.Now,
	})
	require.NoError(t, err)
	eng := &recording{Engine: e}
	// The longest transcript sends more than a minute's worth of messages
	// at once.
	r := serve(t, eng, "", 1000, 1000)
	r.events = flowstest.EventsIn(t, store)
	return &transcriptChat{r: r, eng: eng, clock: clock, lang: lang}
}

// send sends the line as the tenant would, opening a chat first if none
// is open, and returns the texts of the bot messages it brought.
func (c *transcriptChat) send(t *testing.T, text string) []string {
	t.Helper()
	if c.token == "" {
		replies := c.start(t)
		if text == "" {
			return replies
		}
	} else if text == "" {
		t.Fatal("an empty message cannot be sent in an open chat")
	}
	replies, events := len(c.eng.replies()), len(c.r.events.All())
	b, _ := json.Marshal(map[string]string{"text": text})
	status, body := c.r.do(t, "POST", "/chat/api/message", c.token, string(b))
	require.Equal(t, http.StatusAccepted, status, "%q: %v", text, body)
	return c.read(t, len(c.eng.replies())-replies, events)
}

// start opens a chat and its event stream, and returns the chat's first
// messages.
func (c *transcriptChat) start(t *testing.T) []string {
	t.Helper()
	body := ""
	if c.lang != "" {
		b, _ := json.Marshal(map[string]string{"lang": c.lang})
		body = string(b)
	}
	replies, events := len(c.eng.replies()), len(c.r.events.All())
	status, res := c.r.do(t, "POST", "/chat/api/session", "", body)
	require.Equal(t, http.StatusCreated, status, "%v", res)
	c.token = res["token"].(string)
	c.events = c.listen(t)
	return c.read(t, len(c.eng.replies())-replies, events)
}

// listen opens the chat's event stream and passes its events on until
// the stream ends.
func (c *transcriptChat) listen(t *testing.T) <-chan event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", c.r.URL+"/chat/api/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	out := make(chan event, 64)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			data, ok := strings.CutPrefix(sc.Text(), "data: ")
			if !ok {
				continue
			}
			var e event
			if err := json.Unmarshal([]byte(data), &e); err != nil {
				e = event{From: "unreadable", Text: data}
			}
			out <- e
		}
	}()
	return out
}

// next returns the stream's next event.
func (c *transcriptChat) next(t *testing.T) event {
	t.Helper()
	select {
	case e, ok := <-c.events:
		require.True(t, ok, "the event stream ended")
		return e
	case <-time.After(10 * time.Second):
		t.Fatal("no event on the stream within 10s")
	}
	return event{}
}

// read reads the turn's n bot messages from the event stream; when the
// turn ended the chat (the events logged after since say so), the end
// too.
func (c *transcriptChat) read(t *testing.T, n, since int) []string {
	t.Helper()
	var texts []string
	for range n {
		e := c.next(t)
		assert.Equal(t, "bot", e.From, "%q", e.Text)
		texts = append(texts, e.Text)
	}
	if slices.ContainsFunc(c.r.events.All()[since:], func(ev bot.Event) bool {
		return ev.Kind == bot.EventExited || ev.Kind == bot.EventOptedOut || ev.Kind == bot.EventErased
	}) {
		assert.Equal(t, "end", c.next(t).From, "the page is told the chat ended")
		c.token = ""
	}
	return texts
}

// finish ends an open chat and checks that nothing came after the last
// turn's messages.
func (c *transcriptChat) finish(t *testing.T) {
	t.Helper()
	if c.token == "" {
		return
	}
	status, _ := c.r.do(t, "POST", "/chat/api/end", c.token, "")
	require.Equal(t, http.StatusNoContent, status)
	e := c.next(t)
	assert.Equal(t, "end", e.From, "no message after the last turn's: %q", e.Text)
}
