package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
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
	want := filepath.Join(dir, "intake.yaml") + `:21: step ask: option no: next: unknown target step "nowhere"`
	if !strings.Contains(stderr.String(), want) {
		t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), want)
	}
}

func TestFlowsCheckDefaults(t *testing.T) {
	out, err := exec.Command(binary, "flows", "check").CombinedOutput()
	if err != nil {
		t.Fatalf("flows check: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "ok: 17 steps in [en cy]") {
		t.Errorf("flows check said:\n%s", out)
	}
}

func TestFlowsGraph(t *testing.T) {
	out, err := exec.Command(binary, "flows", "graph").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"stateDiagram-v2", "safe_to_talk --> danger", "safe_to_talk --> not_safe", "consent --> confirm"} {
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
		"hello", "y", "n", "1", "TF1 2AB", "y", "n", "n", "y", "n", "n", "3", "text only", "y", "1",
	}, "\n") + "\n")
	cmd.Env = append(os.Environ(), "REDIS_URL=", "SAFECONTACT_KEY=")
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
	if !strings.Contains(stderr.String(), "=== New case") {
		t.Errorf("the operator console did not get the case:\n%s", stderr.String())
	}
}

func TestServeHealth(t *testing.T) {
	getenv := func(k string) string {
		switch k {
		case "SAFECONTACT_ADDR":
			return "127.0.0.1:0"
		case "REDIS_URL":
			return os.Getenv("REDIS_URL")
		case "SAFECONTACT_KEY":
			if os.Getenv("REDIS_URL") != "" {
				return "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
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
	client := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/healthz", "/readyz"} {
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
		{"bad idle ttl", map[string]string{"SAFECONTACT_IDLE_TTL": "a day"}, `SAFECONTACT_IDLE_TTL: want a duration such as 24h, not "a day"`},
		{"bad log format", map[string]string{"SAFECONTACT_LOG_FORMAT": "xml"}, `SAFECONTACT_LOG_FORMAT: want json or text, not "xml"`},
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
