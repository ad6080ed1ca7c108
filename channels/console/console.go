// Package console is the terminal channel: a tenant's lines on an input,
// the bot's replies on an output. It is for trying scripts and for tests.
package console

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/safecontact/safecontact/bot"
)

// Engine is what the console needs of the dialogue engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) (bot.Result, error)
}

// Session is one tenant at the terminal.
type Session struct {
	// Engine handles each turn. The store it saves to logs the turn's
	// events with it, for the officer queue: the session delivers none.
	Engine Engine
	// Address stands for the tenant's number; any fixed string will do.
	Address string
	// Lang and Area are passed as hints with every message.
	Lang, Area string
}

// Run reads lines from in until it ends or ctx is done, hands each to the
// engine as one message, and writes the replies to out, one per paragraph.
func (s Session) Run(ctx context.Context, in io.Reader, out io.Writer) error {
	// Message ids are unique to this run, so a run against a store that
	// outlives it is not taken for a redelivery of an earlier run.
	var run [6]byte
	if _, err := rand.Read(run[:]); err != nil {
		return err
	}
	prefix := "console-" + hex.EncodeToString(run[:]) + "-"
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64*1024), 64*1024)
	for n := 1; sc.Scan(); n++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		res, err := s.Engine.Handle(ctx, bot.Inbound{
			Channel: bot.ChannelConsole, Address: s.Address, MessageID: prefix + strconv.Itoa(n),
			Text: sc.Text(), Lang: s.Lang, Area: s.Area,
		})
		if err != nil {
			return fmt.Errorf("console: line %d: %w", n, err)
		}
		for _, r := range res.Replies {
			if _, err := fmt.Fprintf(out, "%s\n\n", r.Text); err != nil {
				return err
			}
		}
	}
	return sc.Err()
}
