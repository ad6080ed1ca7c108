package failover_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/safecontact/safecontact/channels/sms/smstest"
)

// The settings of the serve processes under test.
const (
	authToken = "0123456789abcdef0123456789abcdef" // shaped like a Twilio auth token
	publicURL = "https://contact.example.org"
	// masterKey is SAFECONTACT_KEY: 32 bytes, base64.
	masterKey = "ZmFpbG92ZXItdGVzdC1tYXN0ZXIta2V5LTAxMjM0NTY="
)

// buildServe builds the safecontact command once for the test.
func buildServe(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "safecontact")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/safecontact/safecontact/cmd/safecontact").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve is one `safecontact serve` process, run as a landlord would run
// it, on the test's Redis.
type serve struct {
	base           string
	stdout, stderr *lockedBuffer
}

// startServe runs `safecontact serve` on a free port with Twilio's
// webhook on, and waits until it is ready. env overrides the test's own
// environment.
func startServe(t *testing.T, bin string, env ...string) *serve {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := &serve{base: "http://" + addr, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"SAFECONTACT_ADDR="+addr, "SAFECONTACT_KEY="+masterKey,
		"TWILIO_AUTH_TOKEN="+authToken, "PUBLIC_BASE_URL="+publicURL, "SAFECONTACT_LOG_FORMAT=text")
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = s.stdout, s.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("serve on %s, its log:\n%s", addr, s.stderr.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-done:
			t.Fatalf("serve exited:\n%s", s.stderr.String())
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve never became ready:\n%s", s.stderr.String())
		}
	}
}

// newSid is a MessageSid as Twilio makes them: SM and 32 hex digits, new
// for every text, a tenant's resend included.
func newSid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

// twiml is the part of a TwiML response the test reads.
type twiml struct {
	Messages []string `xml:"Message"`
}

// text posts one inbound text as Twilio would, signed, and returns the
// HTTP status and the messages of the TwiML answer.
func text(client *http.Client, base, from, body, sid string) (int, []string, error) {
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"AC" + strings.Repeat("0", 32)},
		"From": {from}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {"0"},
	}
	req, err := http.NewRequest(http.MethodPost, base+"/sms/twilio", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign(authToken, publicURL+"/sms/twilio", form))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	var doc twiml
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, doc.Messages, nil
}
