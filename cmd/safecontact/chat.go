package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/safecontact/safecontact/channels/console"
	"github.com/safecontact/safecontact/handoff"
)

// chat runs the intake in the terminal: the tenant's lines on stdin, the
// bot's replies on stdout, cases for the officer on stderr. It always uses
// the in-memory store. Unless -web=false, it also serves the web chat on
// the same engine, so a newcomer can try both with one command.
func chat(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("chat", flag.ContinueOnError)
	fs.SetOutput(stderr)
	area := fs.String("area", "", "start with the tenant's area known (telford_wrekin, shropshire, staffordshire, herefordshire, wales, elsewhere)")
	lang := fs.String("lang", "", "start in this language (en, cy)")
	at := fs.String("now", "", "pretend it is this time, e.g. 2026-12-24T15:00 (Europe/London) or RFC 3339")
	web := fs.Bool("web", true, "also serve the web chat at -addr")
	cfg, err := loadConfig(getenv, fs, args)
	if err != nil {
		return err
	}
	cfg.RedisURL, cfg.Key = "", ""
	now := time.Now
	if *at != "" {
		t, err := parseNow(*at)
		if err != nil {
			return err
		}
		now = func() time.Time { return t }
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s, err := build(ctx, cfg, now, log)
	if err != nil {
		return err
	}
	defer s.close()
	// Cases are printed from the store's event log as turns log them,
	// and what is left once the tenant's lines end.
	feed := handoff.NewConsoleFeed(s.mem, handoff.NewConsole(stderr, s.bundle.Hours.Location()), log)
	fctx, stopFeed := context.WithCancel(ctx)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		feed.Run(fctx)
	}()
	defer func() {
		stopFeed()
		<-fed
	}()
	fmt.Fprintln(stderr, "safecontact chat: type as the tenant would; X to leave, Ctrl-D to end.")
	if *web {
		if url, stop, err := serveWebChat(cfg, s, log); err != nil {
			fmt.Fprintf(stderr, "(web chat not started: %v)\n", err)
		} else {
			defer stop()
			fmt.Fprintf(stderr, "Or open the web chat: %s\n", url)
		}
	}
	fmt.Fprintln(stderr)
	return console.Session{
		Engine:  s.engine,
		Address: "console",
		Lang:    *lang,
		Area:    *area,
	}.Run(ctx, stdin, stdout)
}

// parseNow reads -now: RFC 3339, or a wall-clock time in Europe/London.
func parseNow(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	loc, err := time.LoadLocation("Europe/London")
	if err != nil {
		return time.Time{}, err
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("-now: want a time such as 2026-12-24T15:00, not %q", s)
}

// serveWebChat serves the web chat alone at cfg.Addr until stop.
func serveWebChat(cfg Config, s *stack, log *slog.Logger) (url string, stop func(), err error) {
	chat, err := webChat(cfg, s, log)
	if err != nil {
		return "", nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: chat, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "web chat:", err)
		}
	}()
	return chatURL(ln.Addr()), func() { srv.Close() }, nil
}
