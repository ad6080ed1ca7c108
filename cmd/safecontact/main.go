// Command safecontact runs the safecontact service and its tools.
//
//	safecontact serve              run the service (HTTP on :8080)
//	safecontact chat               the intake in this terminal
//	safecontact queue [-v]         list the open cases (needs REDIS_URL)
//	safecontact jobs               list the texts and Slack posts given up or waiting (needs REDIS_URL)
//	safecontact jobs retry|drop ID do a given-up one again, or remove one for good
//	safecontact report [-csv]      the monitoring report, -from DAY -to DAY (needs REDIS_URL)
//	safecontact flows check [DIR]  check the flow files
//	safecontact flows graph [DIR]  draw the intake as a Mermaid diagram
//	safecontact key                print a new random SAFECONTACT_KEY
//	safecontact version            print the version and commit (also -version)
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/safecontact/safecontact/seal"
)

const usage = `usage: safecontact <command>

  serve              run the service (HTTP on :8080; see README for settings)
  chat               try the intake in this terminal (-area, -lang, -now)
  queue [-v]         list the open cases, most urgent first (needs REDIS_URL)
  jobs               list the texts and Slack posts given up or waiting; jobs retry ID
                     does a given-up one again, jobs drop ID removes one (needs REDIS_URL)
  report [-csv]      the monitoring report: -from 2026-10-01 -to 2026-12-31, -o FILE (needs REDIS_URL)
  flows check [DIR]  check the flow files (DIR overrides the embedded ones)
  flows graph [DIR]  print the intake as a Mermaid state diagram
  key                print a new random SAFECONTACT_KEY
  version            print the version and the commit it was built from
`

var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout, os.Stderr)
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	case errors.Is(err, errProblems):
		os.Exit(1)
	default:
		fmt.Fprintln(os.Stderr, "safecontact:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	switch args[0] {
	case "serve":
		return serve(ctx, args[1:], getenv, stderr)
	case "chat":
		return chat(ctx, args[1:], getenv, stdin, stdout, stderr)
	case "queue":
		return queueCmd(ctx, args[1:], getenv, stdout, stderr)
	case "jobs":
		return jobsCmd(ctx, args[1:], getenv, stdout, stderr)
	case "report":
		return reportCmd(ctx, args[1:], getenv, stdout, stderr)
	case "flows":
		return flowsCmd(args[1:], time.Now(), stdout, stderr)
	case "version", "-version", "--version":
		_, err := fmt.Fprintln(stdout, readBuildInfo())
		return err
	case "key":
		k, err := seal.GenerateKey()
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(stdout, base64.StdEncoding.EncodeToString(k))
		return err
	}
	return errUsage
}

// serve runs the service until ctx ends (SIGINT or SIGTERM).
func serve(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(getenv, fs, args)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogFormat)
	m, err := NewMain(ctx, cfg, log)
	if err != nil {
		return err
	}
	if err := m.Run(ctx); err != nil {
		m.Close()
		return err
	}
	err = m.Wait(ctx)
	log.Info("shutting down")
	return errors.Join(err, m.Close())
}
