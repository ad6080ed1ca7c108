// Package servetest runs `safecontact serve` as a landlord would run it —
// its own process, on a free port, with its settings in the environment —
// for the tests that stop, kill and restart whole processes.
package servetest

import (
	"bytes"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
			t.Logf("serve on %s, its log:\n%s", addr, p.Stderr.String())
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
