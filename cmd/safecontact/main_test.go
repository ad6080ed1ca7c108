package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// binary is the safecontact command built once for the tests that run it
// as a user would.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "safecontact-bin-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "safecontact")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func TestFlowsCheckNamesFileAndLine(t *testing.T) {
	dir := filepath.Join("..", "..", "flows", "testdata", "broken", "unknown_target")
	cmd := exec.Command(binary, "flows", "check", dir)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("flows check of a broken dir: err %v, want exit status 1", err)
	}
	want := filepath.Join(dir, "intake.yaml") + `:25: step ask: option no: next: unknown target step "nowhere"`
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), want)
	}
}

func TestFlowsCheckDefaults(t *testing.T) {
	out, err := exec.Command(binary, "flows", "check").CombinedOutput()
	if err != nil {
		t.Fatalf("flows check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok: 18 steps in [en cy]") {
		t.Errorf("flows check said:\n%s", out)
	}
}

func TestFlowsGraph(t *testing.T) {
	out, err := exec.Command(binary, "flows", "graph").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stateDiagram-v2", "safe_to_talk --> danger", "safe_to_talk --> not_safe", "contact --> confirm"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("graph lacks %q:\n%s", want, out)
		}
	}
}

// TestChatWholeIntake runs the README's terminal intake from "is it safe"
// to the handed-off message, with a deadline across Christmas 2026.
func TestChatWholeIntake(t *testing.T) {
	cmd := exec.Command(binary, "chat", "-now", "2026-12-24T15:00")
	cmd.Stdin = strings.NewReader(strings.Join([]string{
		"hello", "y", "n", "TF1 2AB", "1", "1", "y", "n", "n", "y", "n", "n", "3", "y", "text only", "1",
	}, "\n") + "\n")
	cmd.Env = append(os.Environ(), "REDIS_URL=", "REDIS_MODE=", "SAFECONTACT_KEY=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("chat: %v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		"Is it safe for you to message now?",
		"Are you in danger right now?",
		"Numbers you can call:",
		"Here is what we will pass on:",
		"An officer will contact you by Tue 29 Dec, 3pm",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("chat output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr.String(), "STANDARD priority, queued ===") {
		t.Errorf("the operator console did not get the case:\n%s", stderr.String())
	}
}

// testKey is the SAFECONTACT_KEY of the tests that use Redis.
const testKey = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// startServe runs the service as `safecontact serve` would, on a free
// port, with env added to the test's settings.
func startServe(t *testing.T, env map[string]string) *Main {
	t.Helper()
	getenv := func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		switch k {
		case "SAFECONTACT_ADDR":
			return "127.0.0.1:0"
		case "REDIS_URL":
			return os.Getenv(k)
		case "REDIS_MODE":
			if _, ok := env["REDIS_URL"]; ok {
				return "" // the test names its own Redis, or none
			}
			return os.Getenv(k)
		case "SAFECONTACT_KEY":
			if os.Getenv("REDIS_URL") != "" {
				return testKey
			}
		}
		return ""
	}
	cfg, err := loadConfig(getenv, flag.NewFlagSet("serve", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m, err := NewMain(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Run(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

func TestServeHealth(t *testing.T) {
	m := startServe(t, nil)
	client := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/healthz", "/readyz", "/chat/", "/chat/static/app.js", "/metrics"} {
		resp, err := client.Get("http://" + m.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, resp.Status)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s: Cache-Control %q, want no-store", path, got)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		label string
		env   map[string]string
		want  string
	}{
		{"redis without a key", map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"}, "SAFECONTACT_KEY is required with REDIS_URL"},
		{"bad idle ttl", map[string]string{"SAFECONTACT_IDLE_TTL": "a day"}, `SAFECONTACT_IDLE_TTL: want a duration such as 36h or 90d, not "a day"`},
		{"bad ledger ttl", map[string]string{"SAFECONTACT_LEDGER_TTL": "-3d"}, `SAFECONTACT_LEDGER_TTL: want a duration such as 36h or 90d, not "-3d"`},
		{"export without redis", map[string]string{"SAFECONTACT_EXPORT_URL": "https://housing.example.org/in", "SAFECONTACT_EXPORT_SECRET": strings.Repeat("s", 32)}, "SAFECONTACT_EXPORT_URL needs REDIS_URL"},
		{"export over plain http", map[string]string{"SAFECONTACT_EXPORT_URL": "http://housing.example.org/in"}, "it must use https"},
		{"export with a short secret", map[string]string{"SAFECONTACT_EXPORT_URL": "https://housing.example.org/in", "SAFECONTACT_EXPORT_SECRET": "short"}, "SAFECONTACT_EXPORT_SECRET"},
		{"bad log format", map[string]string{"SAFECONTACT_LOG_FORMAT": "xml"}, `SAFECONTACT_LOG_FORMAT: want json or text, not "xml"`},
		{"outbound texts without redis", map[string]string{"TWILIO_ACCOUNT_SID": "AC1"}, "TWILIO_ACCOUNT_SID needs REDIS_URL"},
		{"twilio without a public URL", map[string]string{"TWILIO_AUTH_TOKEN": "t"}, "PUBLIC_BASE_URL is required with TWILIO_AUTH_TOKEN"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			_, err := loadConfig(func(k string) string { return tc.env[k] }, flag.NewFlagSet("x", flag.ContinueOnError), nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to contain %q", err, tc.want)
			}
		})
	}
}

// serve answers a signed text from Twilio at /sms/twilio with TwiML, and
// refuses an unsigned one.
func TestServeSMS(t *testing.T) {
	const token, public = "test-auth-token", "https://contact.example.org"
	m := startServe(t, map[string]string{"TWILIO_AUTH_TOKEN": token, "PUBLIC_BASE_URL": public})
	form := url.Values{"MessageSid": {"SM0001"}, "From": {"+447700900123"}, "Body": {"hi"}}
	// Twilio's signature: HMAC-SHA1 over the URL and the sorted parameters.
	mac := hmac.New(sha1.New, []byte(token))
	mac.Write([]byte(public + "/sms/twilio" + "BodyhiFrom+447700900123MessageSidSM0001"))
	for _, tc := range []struct {
		sig  string
		want int
	}{{base64.StdEncoding.EncodeToString(mac.Sum(nil)), http.StatusOK}, {"", http.StatusForbidden}} {
		req, _ := http.NewRequest("POST", "http://"+m.Addr()+"/sms/twilio", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", tc.sig)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("signature %q: %s, want %d", tc.sig, resp.Status, tc.want)
		}
		if tc.want == http.StatusOK && !strings.Contains(string(body), "<Message>Hi, this is your housing team.") {
			t.Errorf("TwiML: %s", body)
		}
	}
}

func TestRetentionSettings(t *testing.T) {
	env := map[string]string{"SAFECONTACT_CASE_TTL": "60d", "SAFECONTACT_CLOSED_CASE_TTL": "36h", "SAFECONTACT_LEDGER_TTL": "1095d"}
	c, err := loadConfig(func(k string) string { return env[k] }, flag.NewFlagSet("x", flag.ContinueOnError), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := Retention{OpenCase: 60 * 24 * time.Hour, ClosedCase: 36 * time.Hour, Ledger: 1095 * 24 * time.Hour}
	if c.Retention != want {
		t.Errorf("retention %+v, want %+v", c.Retention, want)
	}
}

func TestVersion(t *testing.T) {
	for _, arg := range []string{"version", "-version"} {
		out, err := exec.Command(binary, arg).CombinedOutput()
		if err != nil {
			t.Fatalf("%s: %v\n%s", arg, err, out)
		}
		if !regexp.MustCompile(`^safecontact \S+ \(commit \S+, go1\.\d+`).Match(out) {
			t.Errorf("%s: %q, want the version, the commit and the Go release", arg, out)
		}
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "sc"), "-ldflags", "-X main.version=v9.8.7", ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(filepath.Dir(cmd.Args[3]), "sc"), "version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "safecontact v9.8.7 (commit ") {
		t.Errorf("version set at build: %q, %v", out, err)
	}
}

// An open web chat does not hold up a shutdown: its event stream ends at
// once (the page reconnects elsewhere) and Close returns without error
// well within 2 seconds.
func TestShutdownEndsOpenChatStreams(t *testing.T) {
	m := startServe(t, map[string]string{"REDIS_URL": ""})
	base := "http://" + m.Addr()
	resp, err := http.Post(base+"/chat/api/session", "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	var session struct{ Token string }
	err = json.NewDecoder(resp.Body).Decode(&session)
	resp.Body.Close()
	if err != nil || session.Token == "" {
		t.Fatalf("no session: %v", err)
	}
	req, _ := http.NewRequest(http.MethodGet, base+"/chat/api/events", nil)
	req.Header.Set("Authorization", "Bearer "+session.Token)
	stream, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Body.Close()
	ended := make(chan struct{})
	go func() {
		io.Copy(io.Discard, stream.Body)
		close(ended)
	}()

	start := time.Now()
	if err := m.Close(); err != nil {
		t.Errorf("Close: %v, want nil: the open stream must not make shutdown time out", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("shutdown took %s with a chat open, want under 2s", took)
	}
	select {
	case <-ended:
	case <-time.After(2 * time.Second):
		t.Error("the open event stream was not ended")
	}
}
