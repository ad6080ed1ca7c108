package handoff

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"safecontact/bot"
)

// Console prints cases and case updates for an operator at a terminal. It
// writes the case summary an officer needs and never the tenant's address.
type Console struct {
	mu  sync.Mutex
	w   io.Writer
	loc *time.Location
}

// NewConsole returns a Console writing to w, quoting times in loc.
func NewConsole(w io.Writer, loc *time.Location) *Console {
	if loc == nil {
		loc = time.UTC
	}
	return &Console{w: w, loc: loc}
}

// Deliver prints what an officer needs to know of the event: a new case,
// a raised priority, an emergency, a quick exit, or a message after the
// handoff. Other events print nothing.
func (c *Console) Deliver(_ context.Context, ev bot.Event) error {
	var b strings.Builder
	ref := shortRef(ev.Conversation)
	switch ev.Kind {
	case bot.EventHandoff:
		h := ev.Handoff
		fmt.Fprintf(&b, "=== New case %s: %s priority ===\n", ref, strings.ToUpper(h.Priority.String()))
		fmt.Fprintf(&b, "Channel: %s   Area: %s   Language: %s   Reason: %s\n", h.Channel, orNone(h.Area), h.Lang, h.Reason)
		fmt.Fprintf(&b, "Contact by: %s\n", h.Deadline.In(c.loc).Format("Mon 2 Jan 2006, 15:04"))
		for _, l := range h.Summary {
			fmt.Fprintf(&b, "  %s: %s\n", l.Label, l.Value)
		}
		if len(h.Summary) == 0 {
			b.WriteString("  (no answers given)\n")
		}
	case bot.EventEmergency:
		fmt.Fprintf(&b, "=== Case %s: tenant sent a danger word and got the 999 reply ===\n", ref)
	case bot.EventPriorityRaised:
		fmt.Fprintf(&b, "=== Case %s: priority now %s ===\n", ref, ev.Priority)
	case bot.EventExited, bot.EventOptedOut, bot.EventErased:
		fmt.Fprintf(&b, "=== Case %s: tenant ended the chat. Do not text unless they write again ===\n", ref)
	case bot.EventTenantMessage:
		fmt.Fprintf(&b, "=== Case %s: tenant wrote ===\n  %s\n", ref, ev.Text)
	default:
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := io.WriteString(c.w, b.String())
	return err
}

// shortRef is the first characters of the conversation id: enough for an
// operator to tell cases apart, and no personal data.
func shortRef(id bot.ConversationID) string {
	s := string(id)
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "not given"
	}
	return s
}
