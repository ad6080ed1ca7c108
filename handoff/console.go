package handoff

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Console prints cases and case updates for an operator at a terminal. It
// writes the case summary an officer needs and never the tenant's address.
// It prints the events the ConsoleFeed takes from the in-memory store (the
// embedded default, with no Redis), and is a Board under the Redis queue
// when Slack is not configured.
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
	ref := ShortRef(ev.Conversation)
	switch ev.Kind {
	case bot.EventHandoff, bot.EventCaseUpdated:
		h := ev.Handoff
		if ev.Kind == bot.EventCaseUpdated {
			if err := c.printf("=== Case %s: the tenant answered more ===\n", ref); err != nil {
				return err
			}
		}
		return c.print(card(&Case{
			ID: ev.Conversation, State: StateQueued, Priority: h.Priority, Area: h.Area, Channel: h.Channel,
			Lang: h.Lang, Reason: h.Reason, Opened: h.At, Deadline: h.Deadline, Summary: h.Summary,
		}, c.loc))
	case bot.EventEmergency:
		return c.printf("=== Case %s: tenant wrote words of danger and got the 999 reply ===\n", ref)
	case bot.EventPriorityRaised:
		return c.printf("=== Case %s: priority now %s ===\n", ref, ev.Priority)
	case bot.EventExited, bot.EventOptedOut, bot.EventErased:
		return c.printf("=== Case %s: tenant ended the chat. Do not text unless they write again ===\n", ref)
	case bot.EventTenantMessage:
		return c.printf("=== Case %s: tenant wrote ===\n  %s\n", ref, ev.Text)
	}
	return nil
}

// card writes a case as the console shows it.
func card(k *Case, loc *time.Location) string {
	var b strings.Builder
	fmt.Fprintf(&b, "=== Case %s: %s priority, %s ===\n", k.Short(), strings.ToUpper(k.Priority.String()), k.State)
	fmt.Fprintf(&b, "Channel: %s   Area: %s   Language: %s   Reason: %s\n", k.Channel, AreaName(k.Area), k.Lang, k.Reason)
	fmt.Fprintf(&b, "Contact by: %s\n", k.Deadline.In(loc).Format("Mon 2 Jan 2006, 15:04"))
	if k.ClaimedBy != "" {
		fmt.Fprintf(&b, "Claimed by: %s\n", k.ClaimedBy)
	}
	if k.Contacted() {
		fmt.Fprintf(&b, "Contacted: %s (%s)\n", k.ContactedAt.In(loc).Format("Mon 2 Jan 15:04"), k.ContactHow)
	}
	if k.Outcome != "" {
		fmt.Fprintf(&b, "Outcome: %s\n", k.Outcome)
	}
	if k.Exited {
		b.WriteString("Tenant ended the chat: do not text unless they write again\n")
	}
	// The console is the operator's own screen, not a shared channel:
	// private answers are shown there.
	for _, l := range k.Summary {
		fmt.Fprintf(&b, "  %s: %s\n", l.Label, l.Value)
	}
	for _, l := range k.Summary {
		if l.Action != "" {
			fmt.Fprintf(&b, "  TO DO: %s\n", l.Action)
		}
	}
	for _, d := range k.Duties {
		switch {
		case d.Reminder:
			fmt.Fprintf(&b, "  NOTE: %s (%s)\n", d.Title, d.Source)
		case d.Done():
			fmt.Fprintf(&b, "  DONE: %s, by %s\n", d.Title, d.DoneBy)
		default:
			due := "before closing"
			if !d.Due.IsZero() {
				due = "by " + d.Due.In(loc).Format("Mon 2 Jan 15:04")
			}
			fmt.Fprintf(&b, "  DUTY: %s, %s (%s)\n", d.Title, due, d.Source)
		}
	}
	if len(k.Summary) == 0 {
		b.WriteString("  (no answers given)\n")
	}
	return b.String()
}

// PostCase prints the new case.
func (c *Console) PostCase(_ context.Context, k *Case) (Ref, error) {
	return Ref{}, c.print(card(k, c.loc))
}

// UpdateCase prints the case again as it now stands.
func (c *Console) UpdateCase(_ context.Context, k *Case) error {
	return c.print(card(k, c.loc))
}

// PostThread prints a line about the case.
func (c *Console) PostThread(_ context.Context, k *Case, l Line) (Ref, error) {
	text := l.Render(func(id string) string { return id })
	return Ref{}, c.printf("--- Case %s: %s\n", k.Short(), strings.ReplaceAll(text, "\n", "\n    "))
}

// Alert prints an escalation, a reminder or an on-call alert.
func (c *Console) Alert(_ context.Context, k *Case, a Alert, d *Duty) error {
	text := Line{Text: a.Describe(k, c.loc, d), Officer: k.ClaimedBy}.Render(func(id string) string { return id })
	return c.printf("!!! %s\n", text)
}

// Redact has nothing to do: what the console printed is on the
// operator's own screen, and gone from safecontact.
func (c *Console) Redact(context.Context, *Case, []Ref) error { return nil }

// PostRepairs prints the repairs request.
func (c *Console) PostRepairs(_ context.Context, k *Case, text string) error {
	return c.printf("### Repairs request for case %s: %s\n", k.Short(), text)
}

// Lane is one for the console: it is never rate limited.
func (c *Console) Lane(*Case, JobKind, Alert) string { return "console" }

func (c *Console) printf(format string, args ...any) error {
	return c.print(fmt.Sprintf(format, args...))
}

func (c *Console) print(s string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := io.WriteString(c.w, s)
	return err
}
