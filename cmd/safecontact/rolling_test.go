package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot/storetest"
	"github.com/safecontact/safecontact/test/servetest"
)

// startProcess runs `safecontact serve` on the tests' Redis and a free
// port, and waits until it is ready.
func startProcess(t *testing.T) *servetest.Process {
	t.Helper()
	return servetest.Start(t, binary, "REDIS_URL="+os.Getenv("REDIS_URL"), "REDIS_MODE="+os.Getenv("REDIS_MODE"), "SAFECONTACT_KEY="+testKey)
}

// switchProxy is the load balancer in front: the page's origin stays the
// same while the process behind it changes.
type switchProxy struct {
	*httptest.Server
	backend atomic.Pointer[url.URL]
}

func newSwitchProxy(t *testing.T, to string) *switchProxy {
	p := &switchProxy{}
	p.to(to)
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(p.backend.Load())
			r.Out.Host = r.In.Host
		},
		FlushInterval: -1,                         // event streams flow at once
		ErrorLog:      log.New(io.Discard, "", 0), // a killed backend is expected
	}
	p.Server = httptest.NewServer(rp)
	t.Cleanup(func() {
		p.CloseClientConnections()
		p.Close()
	})
	return p
}

func (p *switchProxy) to(base string) {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	p.backend.Store(u)
}

// The acceptance test of "every process serves every web chat": a chat in
// headless Chromium, through a proxy, carries on while the process behind
// it is stopped (SIGTERM), then killed (kill -9), each time replaced by
// another; every question shows once, in order, and nothing is lost.
func TestWebChatSurvivesRestartsAndKills(t *testing.T) {
	storetest.Redis(t)
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is not installed: run the tests with scripts/test")
		}
		t.Skip("chromium is not installed; scripts/test installs it")
	}
	a, b := startProcess(t), startProcess(t)
	proxy := newSwitchProxy(t, a.Base)

	actx, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()))
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel)
	_, err = chromedp.Call(ctx, emulation.SetDeviceMetricsOverride, emulation.SetDeviceMetricsOverrideParams{
		Width: 360, Height: 740, DeviceScaleFactor: 1, Mobile: true,
	})
	require.NoError(t, err)

	logText := func() string {
		v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('log').innerText`))
		require.NoError(t, err)
		return v
	}
	waitText := func(q string) {
		t.Helper()
		js := fmt.Sprintf(`document.getElementById('log').innerText.includes(%q)`, q)
		require.NoError(t, chromedp.Do(ctx, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second))),
			"%q never shown; the log:\n%s", q, logText())
	}
	send := func(text, next string) {
		t.Helper()
		js := fmt.Sprintf(`(() => { document.getElementById('text').value = %q; document.getElementById('send').click(); return true })()`, text)
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
		require.NoError(t, err)
		waitText(next)
	}

	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(proxy.URL+"/chat/")))
	waitText("Is it safe for you to message now?")
	send("Y", "Are you in danger right now?")

	// A rolling deploy: the balancer sends new requests to B, and A is
	// stopped. A's open stream ends at once; A exits 0 within 2 s.
	proxy.to(b.Base)
	start := time.Now()
	require.NoError(t, a.Signal(syscall.SIGTERM))
	select {
	case <-a.Done():
		assert.NoError(t, a.Err(), "exit status after SIGTERM")
	case <-time.After(5 * time.Second):
		t.Fatal("serve did not stop within 5s of SIGTERM")
	}
	took := time.Since(start)
	assert.Less(t, took, 2*time.Second)
	t.Logf("SIGTERM to exit, with a chat open: %s", took)
	send("no", "Which area is the home in?")

	// B dies without warning; a new process takes over.
	c := startProcess(t)
	proxy.to(c.Base)
	require.NoError(t, b.Signal(syscall.SIGKILL))
	<-b.Done()
	start = time.Now()
	send("TF11 8AB", "What would you like to do now?")
	t.Logf("after kill -9, the next reply showed in %s", time.Since(start))
	send("1", "Is this about you, or someone else?")

	// Longer than a stream's poll: nothing late, nothing twice.
	time.Sleep(4 * time.Second)
	final := logText()
	for _, q := range []string{"Is it safe for you to message now?", "Are you in danger right now?",
		"Which area is the home in?", "What would you like to do now?", "Is this about you, or someone else?"} {
		assert.Equal(t, 1, strings.Count(final, q), "%q once in:\n%s", q, final)
	}
	mine, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log li.me')].map(li => li.lastChild.textContent)`))
	require.NoError(t, err)
	assert.Equal(t, []string{"Y", "no", "TF11 8AB", "1"}, mine)
	items, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#log li')].map(li => li.className + ':' + li.lastChild.textContent)`))
	require.NoError(t, err)
	for i := 1; i < len(items); i++ {
		assert.NotEqual(t, items[i-1], items[i], "a message shown twice in a row")
	}
	status, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('status').textContent`))
	require.NoError(t, err)
	assert.Empty(t, status, "the tenant was told nothing went wrong")
	hidden, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('start').hidden`))
	require.NoError(t, err)
	assert.True(t, hidden, "no \"start again\"")
}
