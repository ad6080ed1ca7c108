package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/safecontact/safecontact/ledger"
	"github.com/safecontact/safecontact/ledger/report"
)

// reportBudget is how long the report command may take to read the
// ledger: a quarter is a few thousand small hashes.
const reportBudget = 2 * time.Minute

// reportCmd writes the monitoring report for the cases opened from -from
// to -to (days in the office's time zone, both included) from the
// anonymous case ledger in Redis: one self-contained HTML page, or with
// -csv one figure a row. Small numbers are hidden (docs/reports.md).
// Without -from and -to it reports the last full quarter.
func reportCmd(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("report", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "first day, YYYY-MM-DD (default: the first day of the last full quarter)")
	to := fs.String("to", "", "last day, YYYY-MM-DD, included (default: the last day of the last full quarter)")
	asCSV := fs.Bool("csv", false, "write CSV, one figure a row, instead of HTML")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	prefix := fs.String("prefix", ledger.DefaultPrefix, "the officer queue's Redis key prefix")
	cfg, err := loadConfig(getenv, fs, args)
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("report: unexpected %q: dates go in -from and -to", fs.Arg(0))
	}
	if cfg.RedisURL == "" {
		return errors.New("the case ledger lives in Redis: set REDIS_URL and SAFECONTACT_KEY as serve has them")
	}
	ctx, cancel := context.WithTimeout(ctx, reportBudget)
	defer cancel()
	s, err := build(ctx, cfg, time.Now, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		return err
	}
	defer s.close()
	now := time.Now()
	first, last, err := reportPeriod(*from, *to, now.In(s.bundle.Hours.Location()))
	if err != nil {
		return err
	}
	entries, err := ledger.Read(ctx, s.redis, *prefix, first, last.AddDate(0, 0, 1))
	if err != nil {
		return err
	}
	r := report.Build(entries, first, last, now)
	var buf bytes.Buffer
	if *asCSV {
		err = report.CSV(&buf, r)
	} else {
		err = report.HTML(&buf, r)
	}
	if err != nil {
		return err
	}
	if *out == "" {
		_, err = buf.WriteTo(stdout)
		return err
	}
	if err := os.WriteFile(*out, buf.Bytes(), 0o600); err != nil {
		return fmt.Errorf("report: %w", err)
	}
	_, err = fmt.Fprintf(stderr, "%s: %s cases from %s to %s\n", *out, r.Cases, first.Format("2 Jan 2006"), last.Format("2 Jan 2006"))
	return err
}

// reportPeriod reads -from and -to as days in today's time zone (the
// office's): both, or neither for the last full quarter before today.
func reportPeriod(from, to string, today time.Time) (first, last time.Time, err error) {
	loc := today.Location()
	switch {
	case from == "" && to == "":
		q := time.Date(today.Year(), (today.Month()-1)/3*3+1, 1, 0, 0, 0, 0, loc)
		return q.AddDate(0, -3, 0), q.AddDate(0, 0, -1), nil
	case from == "" || to == "":
		return first, last, errors.New("report: give both -from and -to, or neither for the last full quarter")
	}
	if first, err = time.ParseInLocation(time.DateOnly, from, loc); err != nil {
		return first, last, fmt.Errorf("report: -from: want a day such as 2026-10-01, not %q", from)
	}
	if last, err = time.ParseInLocation(time.DateOnly, to, loc); err != nil {
		return first, last, fmt.Errorf("report: -to: want a day such as 2026-12-31, not %q", to)
	}
	if last.Before(first) {
		return first, last, fmt.Errorf("report: -to %s is before -from %s", to, from)
	}
	return first, last, nil
}
