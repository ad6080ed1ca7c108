// Package servetest runs `safecontact serve` as a landlord would run it —
// its own process, on a free port, with its settings in the environment —
// for the tests that stop, kill and restart whole processes.
package servetest

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Build builds the safecontact command once for the test, and returns
// its path.
func Build(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "safecontact")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/safecontact/safecontact/cmd/safecontact").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// Process is one `safecontact serve`.
type Process struct {
	// Base is its URL, "http://127.0.0.1:port".
	Base           string
	Stdout, Stderr *Buffer
	cmd            *exec.Cmd
	done           chan struct{}
	err            error // how it exited, once done is closed
}

// Start runs `bin serve` on a free loopback port with env added to the
// test's own environment, and waits until /readyz answers. At the test's
// end the process is interrupted (killed after 15 s), and its log shown
// if the test failed.
func Start(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := &Process{Base: "http://" + addr, Stdout: &Buffer{}, Stderr: &Buffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, "serve")
	p.cmd.Env = append(append(os.Environ(), "SAFECONTACT_ADDR="+addr), env...)
	p.cmd.Stdout, p.cmd.Stderr = p.Stdout, p.Stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Signal(os.Interrupt)
		select {
		case <-p.done:
		case <-time.After(15 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			p.logReport(t, addr)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(p.Base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p
			}
		}
		select {
		case <-p.done:
			t.Fatalf("serve exited:\n%s", p.Stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready:\n%s", p.Stderr.String())
		}
	}
}

// Signal sends the process a signal.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited; Err then says how.
func (p *Process) Done() <-chan struct{} { return p.done }

// Err is how the process exited (nil for status 0), once Done is closed.
func (p *Process) Err() error { return p.err }

// logReport logs, for a failed test, where the process's whole log was
// saved and its last warnings and errors. The whole log of a busy serve
// runs to thousands of lines: printed in full it would bury the test's
// own failures, which come before it.
func (p *Process) logReport(t testing.TB, addr string) {
	t.Helper()
	path, err := p.Stderr.Save("safecontact-serve-" + strings.ReplaceAll(addr, ":", "-") + "-*.log")
	if err != nil {
		t.Logf("serve on %s: saving its log: %v; its last warnings and errors:\n%s", addr, err, p.Stderr.Problems(reportLines))
		return
	}
	t.Logf("serve on %s: its log is in %s; its last warnings and errors:\n%s", addr, path, p.Stderr.Problems(reportLines))
}

// reportLines is how many of a log's warnings and errors a failed test
// shows.
const reportLines = 10

// Buffer collects a process's output while the test reads it.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Save writes what the buffer holds to a new file in the system's
// temporary directory, named after pattern as os.CreateTemp names it, and
// returns its path. The file outlives the test, for reading after a
// failure.
func (l *Buffer) Save(pattern string) (string, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return "", err
	}
	if _, err := f.WriteString(l.String()); err != nil {
		f.Close()
		return "", err
	}
	return f.Name(), f.Close()
}

// Problems returns the last n lines of the buffer logged at WARN or ERROR
// (slog's text or JSON form), or "(none)".
func (l *Buffer) Problems(n int) string {
	var out []string
	for line := range strings.Lines(l.String()) {
		if strings.Contains(line, "level=WARN") || strings.Contains(line, "level=ERROR") ||
			strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
			out = append(out, line)
		}
	}
	if len(out) == 0 {
		return "(none)"
	}
	if len(out) > n {
		out = append([]string{fmt.Sprintf("(%d earlier warnings and errors left out)\n", len(out)-n)}, out[len(out)-n:]...)
	}
	return strings.Join(out, "")
}
