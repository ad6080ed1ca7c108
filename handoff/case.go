package handoff

import (
	"fmt"
	"strings"
	"time"

	"safecontact/bot"
)

// State is where a case is in its life.
type State string

// Case states. A closed case is reopened (queued again) when the tenant
// writes after it was closed.
const (
	StateQueued  State = "queued"
	StateClaimed State = "claimed"
	StateClosed  State = "closed"
)

// Case is one tenant's handoff as the officers see it.
type Case struct {
	ID       bot.ConversationID
	State    State
	Priority bot.Priority
	Area     string
	Channel  bot.Channel
	Lang     string
	Reason   string
	Opened   time.Time
	Deadline time.Time
	// Summary is the tenant's answers, for the card.
	Summary []bot.SummaryLine
	// Address is the tenant's number or chat address: shown only to the
	// claiming officer, on request, and never in a channel.
	Address   string
	ClaimedBy string
	ClaimedAt time.Time
	ClosedBy  string
	Outcome   string
	// Exited: the tenant used the quick exit (or STOP) after the handoff.
	Exited   bool
	Reopened bool
	// Card is where the case's card was posted; zero until it is.
	Card Ref
}

// Ref is where a message is on the board: a Slack channel and timestamp.
type Ref struct {
	Channel, TS string
}

// Short is the case's reference for people: the first characters of its
// id, which carry no personal data.
func (c *Case) Short() string { return ShortRef(c.ID) }

// ShortRef is a conversation id's reference for people.
func ShortRef(id bot.ConversationID) string {
	s := string(id)
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// Alert is why managers or on-call are told about a case.
type Alert string

// Alerts.
const (
	// AlertOnCall: an urgent case, or an urgent or high one out of hours.
	AlertOnCall Alert = "oncall"
	// AlertWarn: unclaimed with three quarters of its deadline gone.
	AlertWarn Alert = "warn"
	// AlertDue: unclaimed at its deadline.
	AlertDue Alert = "due"
	// AlertNoCard: the case's card could not be posted, after every
	// retry; officers cannot see it where they look.
	AlertNoCard Alert = "nocard"
	// AlertDanger: the tenant of an open case wrote words of danger again;
	// on-call is told, at most once every DangerRealert per case.
	AlertDanger Alert = "danger"
)

// DangerRealert is the least time between two on-call alerts about one
// case's words of danger.
const DangerRealert = 15 * time.Minute

// OnCall reports whether the alert goes to on-call (with its mention)
// rather than to the managers.
func (a Alert) OnCall() bool { return a == AlertOnCall || a == AlertDanger }

// Describe says in a line why the alert was raised.
func (a Alert) Describe(c *Case, loc *time.Location) string {
	dl := c.Deadline.In(loc).Format("Mon 2 Jan 15:04")
	switch a {
	case AlertOnCall:
		return fmt.Sprintf("%s case %s needs on-call now.", strings.ToUpper(c.Priority.String()), c.Short())
	case AlertWarn:
		return fmt.Sprintf("Case %s (%s) is unclaimed and three quarters of its time has gone: contact due by %s.", c.Short(), c.Priority, dl)
	case AlertDue:
		return fmt.Sprintf("Case %s (%s) is unclaimed at its deadline, %s: the tenant was promised contact by now.", c.Short(), c.Priority, dl)
	case AlertDanger:
		return fmt.Sprintf("%s case %s: the tenant wrote words of danger again and was told to call 999. On-call needed now.", strings.ToUpper(c.Priority.String()), c.Short())
	case AlertNoCard:
		return fmt.Sprintf("Case %s (%s, contact due by %s) could not be posted to its area's channel: check the app is in that channel. `safecontact queue` lists it.", c.Short(), c.Priority, dl)
	}
	return fmt.Sprintf("Case %s: %s", c.Short(), string(a))
}

// AreaName is the area as officers read it.
func AreaName(area string) string {
	if area == "" {
		return "not given"
	}
	return area
}
