package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/safecontact/safecontact/handoff"
)

// queueCmd lists the open cases, most urgent first, then oldest: what an
// officer or manager needs at a glance, and never the tenant's number.
// -v adds each case's answers.
func queueCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("queue", flag.ContinueOnError)
	fs.SetOutput(stderr)
	verbose := fs.Bool("v", false, "show each case's answers")
	cfg, err := loadConfig(getenv, fs, args)
	if err != nil {
		return err
	}
	if cfg.RedisURL == "" {
		return errors.New("the officer queue lives in Redis: set REDIS_URL and SAFECONTACT_KEY as serve has them (without Redis, serve prints each case on its standard output instead)")
	}
	s, err := build(ctx, cfg, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer s.close()
	q := handoff.New(s.redis, s.sealer, s.bundle.Hours, nil, handoff.Options{})
	cases, err := q.List(ctx)
	if err != nil {
		return err
	}
	if len(cases) == 0 {
		_, err := fmt.Fprintln(stdout, "No open cases.")
		return err
	}
	loc := s.bundle.Hours.Location()
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tPRIORITY\tSTATE\tAREA\tCHANNEL\tOPENED\tCONTACT BY\tOFFICER")
	for _, c := range cases {
		state := string(c.State)
		if c.Exited {
			state += " (tenant left)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", c.Short(), strings.ToUpper(c.Priority.String()), state,
			handoff.AreaName(c.Area), c.Channel, c.Opened.In(loc).Format("Mon 2 Jan 15:04"),
			c.Deadline.In(loc).Format("Mon 2 Jan 15:04"), or(c.ClaimedBy, "-"))
		if *verbose {
			for _, l := range c.Summary {
				fmt.Fprintf(tw, "\t  %s: %s\n", l.Label, l.Value)
			}
		}
	}
	return tw.Flush()
}
