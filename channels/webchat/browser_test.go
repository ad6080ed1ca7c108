package webchat_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/storage"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/flows/flowstest"
)

// browser starts headless Chromium at a 360-pixel-wide phone size. Without
// Chromium the test is skipped, except under CI (scripts/test installs it).
func browser(t *testing.T) context.Context {
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: run the tests with scripts/test")
		}
		t.Skip("chromium is not installed; scripts/test installs it")
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.WindowSize(360, 740),
		chromedp.UserDataDir(t.TempDir()),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	// A phone: headless Chromium's window is never narrower than 500 px.
	_, err = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 1, Mobile: true,
	})
	require.NoError(t, err)
	return ctx
}

// waitFor waits until the tab is at a URL starting with prefix. It asks
// the browser, not the page, as the page is going away.
func waitFor(t *testing.T, ctx context.Context, prefix string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if loc, err := chromedp.Run(ctx, chromedp.Location()); err == nil && strings.HasPrefix(loc, prefix) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the tab never reached %s", prefix)
}

// exitSite is the neutral site the quick exit goes to.
func exitSite(t *testing.T) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<!doctype html><title>Weather</title><p>Sunny spells.")
	}))
	t.Cleanup(s.Close)
	return s
}

func do(t *testing.T, ctx context.Context, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	require.NoError(t, chromedp.Do(ctx, actions...))
}

func eval[T any](t *testing.T, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	require.NoError(t, err, js)
	return v
}

// waitReply waits until the last message in the log is not the tenant's.
const lastIsReply = `(() => { const l = document.querySelectorAll('#log li'); return l.length > 0 && !l[l.length-1].classList.contains('me') })()`

// submit types text and sends it, without waiting for a reply.
func submit(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	js := fmt.Sprintf(`(() => { const i = document.getElementById('text'); i.value = %q; document.getElementById('send').click(); return true })()`, text)
	eval[bool](t, ctx, js)
}

// send sends text and waits for the reply.
func send(t *testing.T, ctx context.Context, text string) {
	t.Helper()
	submit(t, ctx, text)
	do(t, ctx, chromedp.Poll[chromedp.Void](lastIsReply, chromedp.WithPollingTimeout(20*time.Second)))
}

func key(t *testing.T, ctx context.Context, typ input.DispatchKeyEventType, k, code string, vk, modifiers, location int64, text string) {
	t.Helper()
	_, err := chromedp.Call(ctx, input.DispatchKeyEvent, input.DispatchKeyEventParams{
		Type: typ, Key: k, Code: code, WindowsVirtualKeyCode: vk, Modifiers: modifiers, Location: location, Text: text,
	})
	require.NoError(t, err)
}

func shift(t *testing.T, ctx context.Context, right bool) {
	code, loc := "ShiftLeft", int64(1)
	if right {
		code, loc = "ShiftRight", 2
	}
	key(t, ctx, input.DispatchKeyEventTypeRawKeyDown, "Shift", code, 16, 8, loc, "")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "Shift", code, 16, 0, loc, "")
}

// capital types a capital letter with Shift held, as a tenant would.
func capital(t *testing.T, ctx context.Context) {
	key(t, ctx, input.DispatchKeyEventTypeRawKeyDown, "Shift", "ShiftLeft", 16, 8, 1, "")
	key(t, ctx, input.DispatchKeyEventTypeKeyDown, "A", "KeyA", 65, 8, 0, "A")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "A", "KeyA", 65, 8, 0, "")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "Shift", "ShiftLeft", 16, 0, 1, "")
}

func location(t *testing.T, ctx context.Context) string {
	loc, err := chromedp.Run(ctx, chromedp.Location())
	require.NoError(t, err)
	return loc
}

// checkNoTrace checks that the chat left nothing on the device: Back does
// not return to it, and its origin has no cookies and no storage.
func checkNoTrace(t *testing.T, ctx context.Context, chatURL string) {
	hist, err := chromedp.Call(ctx, page.GetNavigationHistory, struct{}{})
	require.NoError(t, err)
	for _, e := range hist.Entries {
		assert.NotContains(t, e.URL, "/chat/", "the chat page is still in history")
	}
	require.Positive(t, hist.CurrentIndex, "a page before the chat")
	prev := hist.Entries[hist.CurrentIndex-1]
	// Back, without waiting for a load event: the page may come from the
	// back-forward cache.
	_, err = chromedp.Call(ctx, page.NavigateToHistoryEntry, page.NavigateToHistoryEntryParams{EntryID: prev.ID})
	require.NoError(t, err)
	waitFor(t, ctx, prev.URL)
	assert.NotContains(t, location(t, ctx), "/chat/", "Back returned to the chat")
	cookies, err := chromedp.CallBrowser(ctx, storage.GetCookies, storage.GetCookiesParams{})
	require.NoError(t, err)
	assert.Empty(t, cookies.Cookies)
	// The chat's origin holds nothing, by the browser's own account:
	// local and session storage, IndexedDB, Cache Storage, service workers.
	origin := strings.TrimSuffix(chatURL, "/chat/")
	usage, err := chromedp.Call(ctx, storage.GetUsageAndQuota, storage.GetUsageAndQuotaParams{Origin: origin})
	require.NoError(t, err)
	assert.Zero(t, usage.Usage, "storage in use: %+v", usage.UsageBreakdown)
	do(t, ctx, chromedp.Navigate(chatURL))
	stored := eval[map[string]float64](t, ctx, `(async () => ({
		local: localStorage.length, session: sessionStorage.length,
		idb: (await indexedDB.databases()).length }))()`)
	for k, v := range stored {
		assert.Zero(t, v, "%s storage is not empty", k)
	}
	do(t, ctx, chromedp.Navigate("about:blank")) // close the page's event stream
}

func TestBrowserWholeIntakeAndExitButton(t *testing.T) {
	ctx := browser(t)
	exit := exitSite(t)
	r := newRig(t, exit.URL+"/")
	chatURL := r.URL + "/chat/"

	do(t, ctx, chromedp.Navigate(exit.URL+"/before"), chromedp.Navigate(chatURL))
	do(t, ctx, chromedp.Poll[chromedp.Void](lastIsReply, chromedp.WithPollingTimeout(20*time.Second)))
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('log').innerText`), "Is it safe for you to message now?")

	// Where the engine offers the first answers as buttons, Yes sends Y.
	if labels := eval[[]string](t, ctx, choiceLabels); len(labels) > 0 {
		assert.Equal(t, []string{"Yes", "No"}, labels)
		press(t, ctx, "Yes")
		assert.Equal(t, "Y", eval[string](t, ctx, lastMine))
	} else {
		send(t, ctx, "Y")
	}
	// Each question is answered by what it asks, not by its place, so the
	// walk follows the intake in whatever order it asks: the area by
	// postcode, more questions rather than a call, and every one answered.
	answers := []struct{ question, answer string }{
		{"Are you in danger right now?", "no"},
		{"Which area is the home in?", "TF11 8AB"},
		{"What would you like to do now?", "1"},
		{"Is this about you, or someone else?", "1"},
		{"Does the person causing the harm live there too?", "yes"},
		{"Are there children living in the home?", "yes"},
		{"Have you told the police or a support worker?", "no"},
		{"Is it safe for you to stay in the home for now?", "yeah"},
		{"Does anything at home need making secure", "the back door lock"},
		{"Do you need an interpreter", "no"},
		{"Would you prefer a woman or a man officer?", "1"},
		{"Can we share it with the police or support services?", "yes"},
		{"How and when is it safe for us to contact you?", "text only"},
		{"Reply 1 to send this to us", "1"},
	}
	const handedOff = "An officer will contact you by"
	asked := map[string]bool{}
	for !strings.Contains(eval[string](t, ctx, `document.getElementById('log').innerText`), handedOff) {
		last := eval[string](t, ctx, `document.querySelector('#log li:last-child').innerText`)
		i := slices.IndexFunc(answers, func(a struct{ question, answer string }) bool { return strings.Contains(last, a.question) })
		require.GreaterOrEqual(t, i, 0, "a question the walk does not know, or no question: %q", last)
		require.False(t, asked[answers[i].question], "asked twice: %q", last)
		asked[answers[i].question] = true
		send(t, ctx, answers[i].answer)
	}
	assert.Len(t, asked, len(answers), "every question asked once")
	log := eval[string](t, ctx, `document.getElementById('log').innerText`)
	assert.Contains(t, log, "An officer will contact you by Wed 2 Dec, 10am.")
	handoff, ok := r.events.Last(bot.EventHandoff)
	require.True(t, ok, "handed off")
	conv := handoff.Conversation

	// Screenshot at 360 pixels wide.
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "webchat-360.png")
	require.NoError(t, os.WriteFile(file, shot, 0o644))
	if dir := os.Getenv("SAFECONTACT_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "webchat-360.png"), shot, 0o644))
	}
	t.Logf("screenshot: %s (%d bytes)", file, len(shot))
	width := eval[float64](t, ctx, `document.documentElement.scrollWidth`)
	assert.LessOrEqual(t, width, 360.0, "no sideways scrolling at 360 px")

	axe(t, ctx)

	do(t, ctx, chromedp.Click(chromedp.CSS("#exit")))
	waitFor(t, ctx, exit.URL+"/")
	require.Eventually(t, func() bool {
		c, err := r.engine.Conversation(context.Background(), conv)
		return err == nil && c == nil
	}, 10*time.Second, 50*time.Millisecond, "the conversation is erased on the server")
	checkNoTrace(t, ctx, chatURL)
}

func TestBrowserShiftThreeTimes(t *testing.T) {
	ctx := browser(t)
	exit := exitSite(t)
	r := newRig(t, exit.URL+"/")
	chatURL := r.URL + "/chat/"
	do(t, ctx, chromedp.Navigate(exit.URL+"/before"), chromedp.Navigate(chatURL))
	do(t, ctx, chromedp.Poll[chromedp.Void](lastIsReply, chromedp.WithPollingTimeout(20*time.Second)))
	send(t, ctx, "yes")
	// Switching to Welsh switches the page's language for screen readers.
	send(t, ctx, "cymraeg")
	assert.Equal(t, "cy", eval[string](t, ctx, `document.documentElement.lang`))
	assert.Equal(t, "Eich neges", eval[string](t, ctx, `document.getElementById('text-label').textContent`))
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('history-note').textContent`), "ffenestr breifat (incognito)")
	eval[bool](t, ctx, `(document.getElementById('text').focus(), true)`)

	// Capitals typed with Shift do not count.
	for range 4 {
		capital(t, ctx)
	}
	assert.Equal(t, chatURL, location(t, ctx), "typing capitals must not exit")
	assert.Equal(t, "AAAA", eval[string](t, ctx, `document.getElementById('text').value`))
	// Two presses, another key, one press: reset, still here.
	shift(t, ctx, false)
	shift(t, ctx, true)
	key(t, ctx, input.DispatchKeyEventTypeKeyDown, "b", "KeyB", 66, 0, 0, "b")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "b", "KeyB", 66, 0, 0, "")
	shift(t, ctx, false)
	assert.Equal(t, chatURL, location(t, ctx), "another key resets the count")
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('exit-live').textContent`), "Shift pressed 1 time")

	// Left and right Shift, three in a row: out.
	shift(t, ctx, false)
	shift(t, ctx, true)
	waitFor(t, ctx, exit.URL+"/")
	assert.True(t, eventually(func() bool {
		_, ok := r.events.Last(bot.EventExited)
		return ok
	}), "the session is erased on the server")
	checkNoTrace(t, ctx, chatURL)
}

func eventually(f func() bool) bool {
	for range 200 {
		if f() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// axe runs axe-core (AXE_CORE_JS, installed by scripts/test from npm) in
// the page through DevTools, so the page's CSP needs no exception, and
// fails on any violation of WCAG 2.x A or AA.
func axe(t *testing.T, ctx context.Context) {
	path := os.Getenv("AXE_CORE_JS")
	if path == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("AXE_CORE_JS is not set: run the tests with scripts/test")
		}
		t.Log("AXE_CORE_JS not set; accessibility check skipped")
		return
	}
	src, err := os.ReadFile(path)
	require.NoError(t, err)
	eval[bool](t, ctx, string(src)+";true")
	raw := eval[string](t, ctx, `axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})
		.then(r => JSON.stringify({passes: r.passes.length, violations: r.violations.map(v => ({id: v.id, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))}))`)
	var res struct {
		Passes     int
		Violations []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(raw), &res))
	assert.Positive(t, res.Passes, "axe-core checked nothing")
	assert.Empty(t, res.Violations, "axe-core: %s", strings.TrimSpace(raw))
	t.Logf("axe-core: %d rules passed, %d violations", res.Passes, len(res.Violations))
}

// choiceLabels lists the labels of the answer buttons on the page.
const choiceLabels = `[...document.querySelectorAll('#log .choices button')].map(b => b.textContent)`

// lastMine is the text of the tenant's newest message, without its
// "You" label.
const lastMine = `(() => { const m = document.querySelectorAll('#log li.me'); const li = m[m.length-1]; return li ? li.lastChild.textContent : '' })()`

// messages counts the messages in the log.
const messages = `document.querySelectorAll('#log li').length`

// waitMore waits until the log has more than n messages and the newest is
// not the tenant's.
func waitMore(t *testing.T, ctx context.Context, n int) {
	t.Helper()
	js := fmt.Sprintf(`document.querySelectorAll('#log li').length > %d + 1 && %s`, n, lastIsReply)
	do(t, ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second)))
}

// press clicks the answer button labelled label with the mouse and waits
// for the reply.
func press(t *testing.T, ctx context.Context, label string) {
	t.Helper()
	n := eval[float64](t, ctx, messages)
	i := slices.Index(eval[[]string](t, ctx, choiceLabels), label)
	require.GreaterOrEqual(t, i, 0, "no button %q", label)
	do(t, ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`#log .choices button:nth-of-type(%d)`, i+1))))
	waitMore(t, ctx, int(n))
}

// tab presses Tab, with Shift when back.
func tab(t *testing.T, ctx context.Context, back bool) {
	var mod int64
	if back {
		mod = 8
	}
	key(t, ctx, input.DispatchKeyEventTypeRawKeyDown, "Tab", "Tab", 9, mod, 0, "")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "Tab", "Tab", 9, mod, 0, "")
}

func enter(t *testing.T, ctx context.Context) {
	key(t, ctx, input.DispatchKeyEventTypeKeyDown, "Enter", "Enter", 13, 0, 0, "\r")
	key(t, ctx, input.DispatchKeyEventTypeKeyUp, "Enter", "Enter", 13, 0, 0, "")
}

// focused describes the focused element: its tag, id or class, and text.
const focused = `(() => { const e = document.activeElement; return e.tagName + '#' + e.id + '.' + e.className + ':' + e.textContent })()`

func TestBrowserChoiceButtons(t *testing.T) {
	ctx := browser(t)
	eng := newScripted()
	r := serve(t, eng, "")
	do(t, ctx, chromedp.Navigate(r.URL+"/chat/"))
	do(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('#log .choices button').length > 0`, chromedp.WithPollingTimeout(20*time.Second)))

	// The greeting carries no buttons; the question after it does, as one
	// named group of plain buttons inside its message.
	type group struct {
		Role, Name, Types, Message string
		Groups, InLast             int
	}
	info := `(() => { const g = document.querySelector('#log .choices'); const last = document.querySelector('#log li:last-child');
		return {role: g.getAttribute('role'), name: g.getAttribute('aria-label'),
			types: [...g.querySelectorAll('button')].map(b => b.type).join(' '),
			message: g.closest('li').className, groups: document.querySelectorAll('#log .choices').length,
			inLast: last.querySelectorAll('.choices').length} })()`
	g := eval[group](t, ctx, info)
	assert.Equal(t, group{Role: "group", Name: "Quick answers", Types: "button button", Message: "bot", Groups: 1, InLast: 1}, g)
	assert.Equal(t, []string{"Yes", "No"}, eval[[]string](t, ctx, choiceLabels))

	// The page says what it leaves behind, near the top, in plain words.
	type note struct {
		Text    string
		Top     float64
		Visible bool
	}
	n := eval[note](t, ctx, `(() => { const n = document.getElementById('history-note'); const b = n.getBoundingClientRect();
		return {text: n.innerText, top: b.top, visible: b.height > 0 && getComputedStyle(n).visibility === 'visible'} })()`)
	assert.True(t, n.Visible, "the history note is shown")
	assert.Less(t, n.Top, 360.0, "near the top of a phone's screen")
	assert.Contains(t, n.Text, "browser history")
	assert.Contains(t, n.Text, "private (incognito) window")
	assert.Contains(t, eval[string](t, ctx, `document.getElementById('exit-hint').innerText`), "our officers, they still have them. To have what you told us deleted, from what officers see too, send DELETE here before you leave.")
	for _, word := range []string{"abuse", "violence", "domestic"} {
		assert.NotContains(t, strings.ToLower(n.Text), word)
	}

	// A mouse press sends the answer as typed, shows it as the tenant's,
	// and leaves the keyboard in the message box.
	press(t, ctx, "Yes")
	assert.Equal(t, "Y", eval[string](t, ctx, lastMine))
	assert.Equal(t, "INPUT#text.:", eval[string](t, ctx, focused))
	assert.Equal(t, []string{"North", "South", "East", scriptedLongLabel}, eval[[]string](t, ctx, choiceLabels), "only the new question's buttons")
	assert.Equal(t, 1, int(eval[float64](t, ctx, `document.querySelectorAll('#log .choices').length`)))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#log li:last-child').innerText`), "Which area are you in?")

	// Four buttons, one of them long, fit a 360-pixel screen.
	assert.LessOrEqual(t, eval[float64](t, ctx, `document.documentElement.scrollWidth`), 360.0, "no sideways scrolling at 360 px")
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
	require.NoError(t, err)
	if dir := os.Getenv("SAFECONTACT_SCREENSHOTS"); dir != "" {
		require.NoError(t, os.WriteFile(filepath.Join(dir, "webchat-choices-360.png"), shot, 0o644))
	}
	axe(t, ctx)

	// By keyboard: Tab from the exit button reaches the first answer,
	// Tab again the second, Enter sends it.
	eval[bool](t, ctx, `(document.getElementById('exit').focus(), true)`)
	tab(t, ctx, false)
	assert.Equal(t, "BUTTON#.choice:North", eval[string](t, ctx, focused))
	tab(t, ctx, false)
	assert.Equal(t, "BUTTON#.choice:South", eval[string](t, ctx, focused))
	before := eval[float64](t, ctx, messages)
	enter(t, ctx)
	waitMore(t, ctx, int(before))
	assert.Equal(t, "2", eval[string](t, ctx, lastMine))
	assert.Contains(t, eval[string](t, ctx, `document.querySelector('#log li:last-child').innerText`), "What happened?")
	assert.Empty(t, eval[[]string](t, ctx, choiceLabels), "no buttons are left to press")
	assert.Equal(t, "INPUT#text.:", eval[string](t, ctx, focused))

	// Typing still works.
	send(t, ctx, "Someone broke the lock")
	assert.Equal(t, []string{"", "Y", "2", "Someone broke the lock"}, eng.received())
	do(t, ctx, chromedp.Navigate("about:blank")) // close the page's event stream
}

func TestBrowserTypingAndWelshButtons(t *testing.T) {
	ctx := browser(t)
	r := serve(t, newScripted(), "")
	do(t, ctx, chromedp.Navigate(r.URL+"/chat/"))
	do(t, ctx, chromedp.Poll[chromedp.Void](`document.querySelectorAll('#log .choices button').length > 0`, chromedp.WithPollingTimeout(20*time.Second)))
	// Typing an answer instead: the buttons it answered go, and the same
	// question asked again offers fresh ones.
	send(t, ctx, "maybe")
	assert.Equal(t, 1, int(eval[float64](t, ctx, `document.querySelectorAll('#log .choices').length`)))
	assert.Equal(t, 1, int(eval[float64](t, ctx, `document.querySelector('#log li:last-child').querySelectorAll('.choices').length`)))
	assert.Equal(t, []string{"Yes", "No"}, eval[[]string](t, ctx, choiceLabels))

	// In Welsh the buttons, their group's name and the notes at the top
	// follow the page's language.
	send(t, ctx, "cymraeg")
	type welsh struct{ Page, Group, Buttons, Hint, Note string }
	w := eval[welsh](t, ctx, `(() => { const g = document.querySelector('#log .choices');
		return {page: document.documentElement.lang, group: g.getAttribute('aria-label'),
			buttons: [...g.querySelectorAll('button')].map(b => b.lang + ':' + b.textContent).join(' '),
			hint: document.getElementById('exit-hint').textContent, note: document.getElementById('history-note').textContent} })()`)
	assert.Equal(t, "cy", w.Page)
	assert.Equal(t, "Atebion cyflym", w.Group)
	assert.Equal(t, "cy:Ydy cy:Nac ydy", w.Buttons)
	assert.Contains(t, w.Hint, "I adael yn gyflym")
	assert.Contains(t, w.Note, "ffenestr breifat (incognito)")
	for _, word := range []string{"cam-drin", "trais", "domestig"} {
		assert.NotContains(t, strings.ToLower(w.Note+w.Hint), word)
	}
	do(t, ctx, chromedp.Navigate("about:blank"))
}

// refusing is an engine that fails every turn of one text while refuse
// is set (the page then sends it again until it is answered), and
// records every text it applies, in order, with its conversation
// address.
type refusing struct {
	webchat.Engine
	text    string
	refuse  atomic.Bool
	tries   atomic.Int32
	mu      sync.Mutex
	applied []string // "address text"
}

func (e *refusing) Handle(ctx context.Context, in bot.Inbound) (bot.Result, error) {
	if in.Text == e.text {
		e.tries.Add(1)
		if e.refuse.Load() {
			return bot.Result{}, errors.New("redis: i/o timeout")
		}
	}
	res, err := e.Engine.Handle(ctx, in)
	if err == nil && !res.Duplicate && in.Text != "" {
		e.mu.Lock()
		e.applied = append(e.applied, in.Address+" "+in.Text)
		e.mu.Unlock()
	}
	return res, err
}

// texts returns the texts applied, in order, and to how many
// conversations.
func (e *refusing) texts() ([]string, int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	convs := map[string]bool{}
	for _, a := range e.applied {
		addr, text, _ := strings.Cut(a, " ")
		out = append(out, text)
		convs[addr] = true
	}
	return out, len(convs)
}

// openRefusing serves the web chat on a refusing engine, recording the
// session tokens the page uses, and opens it in the browser at its first
// question.
func openRefusing(t *testing.T, ctx context.Context, text string) (*refusing, *httptest.Server, func() []string) {
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	eng := &refusing{Engine: flowstest.Engine(t, memstore.New(func() time.Time { return now }), now), text: text}
	eng.refuse.Store(true)
	r := serve(t, eng, "")
	var mu sync.Mutex
	var tokens []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if tok, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok {
			mu.Lock()
			if !slices.Contains(tokens, tok) {
				tokens = append(tokens, tok)
			}
			mu.Unlock()
		}
		r.chat.ServeHTTP(w, req)
	}))
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	do(t, ctx, chromedp.Navigate(srv.URL+"/chat/"))
	do(t, ctx, chromedp.Poll[chromedp.Void](lastIsReply, chromedp.WithPollingTimeout(20*time.Second)))
	return eng, srv, func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(tokens) }
}

// The page sends one message at a time: one the service has not
// answered holds back the next, which is not applied to an earlier
// question; once answered, each is applied once, in order.
func TestBrowserMessagesGoInOrderOneAtATime(t *testing.T) {
	ctx := browser(t)
	eng, _, _ := openRefusing(t, ctx, "yes")
	submit(t, ctx, "yes")
	submit(t, ctx, "no")
	require.Eventually(t, func() bool { return eng.tries.Load() >= 2 }, 10*time.Second, 20*time.Millisecond, "the page sends the first again")
	texts, _ := eng.texts()
	assert.Empty(t, texts, "the second waits for the first")

	eng.refuse.Store(false)
	require.Eventually(t, func() bool { texts, _ := eng.texts(); return len(texts) == 2 }, 15*time.Second, 50*time.Millisecond)
	waitMore(t, ctx, 3)
	texts, convs := eng.texts()
	assert.Equal(t, []string{"yes", "no"}, texts, "each once, in order")
	assert.Equal(t, 1, convs)
	log := eval[string](t, ctx, `document.getElementById('log').innerText`)
	assert.Equal(t, 1, strings.Count(log, "Are you in danger right now?"), "the answer to yes, once")
}

// A message the page is still sending again when its chat ends is not
// sent into the chat the tenant starts next: their words stay with the
// chat they left.
func TestBrowserNewChatGetsNothingOfTheOld(t *testing.T) {
	ctx := browser(t)
	eng, srv, tokens := openRefusing(t, ctx, "he has my phone")
	submit(t, ctx, "he has my phone")
	require.Eventually(t, func() bool { return eng.tries.Load() >= 1 }, 10*time.Second, 20*time.Millisecond, "the page sent the message")

	// The chat ends (as another tab's quick exit would end it) while the
	// page waits to send the message again, and the tenant starts another.
	require.Len(t, tokens(), 1)
	req, err := http.NewRequest("POST", srv.URL+"/chat/api/end", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tokens()[0])
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	do(t, ctx, chromedp.Poll[chromedp.Void](`!document.getElementById('start').hidden`, chromedp.WithPollingTimeout(10*time.Second)))
	do(t, ctx, chromedp.Click(chromedp.CSS("#start")))
	do(t, ctx, chromedp.Poll[chromedp.Void](lastIsReply, chromedp.WithPollingTimeout(20*time.Second)))
	tries := eng.tries.Load()
	eng.refuse.Store(false)

	// Past the time the page would have sent it again.
	time.Sleep(6 * time.Second)
	assert.Equal(t, tries, eng.tries.Load(), "the old chat's message was not sent again after it ended")
	texts, _ := eng.texts()
	assert.NotContains(t, texts, "he has my phone", "applied to no conversation")
	assert.Equal(t, 1, strings.Count(eval[string](t, ctx, `document.getElementById('log').innerText`), "Is it safe for you to message now?"),
		"the new chat shows its first question once")
	send(t, ctx, "yes")
	texts, convs := eng.texts()
	assert.Equal(t, []string{"yes"}, texts, "the new chat carries on")
	assert.Equal(t, 1, convs)
}
