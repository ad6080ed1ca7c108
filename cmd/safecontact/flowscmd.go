package main

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
)

// errProblems means flows check found errors; they were printed already.
var errProblems = errors.New("the flow files have errors")

// flowsCmd runs "flows check [DIR]" and "flows graph [DIR]".
func flowsCmd(args []string, now time.Time, stdout, stderr io.Writer) error {
	if len(args) == 0 || len(args) > 2 {
		return errUsage
	}
	dir := ""
	if len(args) == 2 {
		dir = args[1]
	}
	bundle, problems := flows.Load(dir, now)
	for _, p := range problems {
		fmt.Fprintln(stderr, p.String())
	}
	switch args[0] {
	case "check":
		if n := len(problems.Errors()); n > 0 {
			plural := "s"
			if n == 1 {
				plural = ""
			}
			fmt.Fprintf(stderr, "flows check: %d error%s\n", n, plural)
			return errProblems
		}
		fmt.Fprintf(stdout, "ok: %d steps in %v, %d areas\n", len(bundle.Flow.Steps), bundle.Flow.Languages, len(bundle.Directory.Areas()))
		return nil
	case "graph":
		if len(problems.Errors()) > 0 {
			return errProblems
		}
		g, err := bot.Graph(bundle.Flow)
		if err != nil {
			return err
		}
		_, err = io.WriteString(stdout, g)
		return err
	}
	return errUsage
}
