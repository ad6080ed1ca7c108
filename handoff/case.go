package handoff

import (
	"fmt"
	"strings"
	"time"

	"github.com/safecontact/safecontact/bot"
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
	// ContactedAt is when the tenant was first contacted: an officer's
	// message delivered to them, or an officer saying they made contact
	// (ContactHow says how). The contact clocks run until then.
	ContactedAt time.Time
	ContactedBy string
	ContactHow  string
	ClosedBy    string
	Outcome     string
	// Discussed says whether the closure was discussed with the tenant
	// (seed 003): "yes", "no", or "" when not asked.
	Discussed string
	// Exited: the tenant used the quick exit (or STOP) after the handoff.
	Exited bool
	// Erased: the tenant asked for their words to be erased. The summary
	// keeps its questions, without answers, and the address is gone.
	Erased   bool
	Reopened bool
	// Duties are what the policies ask of the officers for this case, in
	// the order they were added.
	Duties []*Duty
	// Actions are what officers did, oldest first.
	Actions []Action
	// Card is where the case's card was posted; zero until it is.
	Card Ref
	// cardJob is the number of the job that posts the card.
	cardJob string
}

// Contacted reports whether the tenant has been contacted.
func (c *Case) Contacted() bool { return !c.ContactedAt.IsZero() }

// Duty returns the case's duty with the id, or nil.
func (c *Case) Duty(id string) *Duty {
	for _, d := range c.Duties {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// Action is something an officer did on a case.
type Action struct {
	At      time.Time
	Officer string // "" for safecontact itself (a delivered message)
	What    string
}

// Ref is where a message is on the board: a Slack channel and timestamp.
//
// A Ref to redact may instead name a queue job whose post was tried but
// not known to be made (its answer lost) when the tenant's words were
// erased: TS is empty, Job is the job's key (Job.Key) and Thread the card
// it went under, and the board looks for the post there by that key.
type Ref struct {
	Channel, TS string
	Thread, Job string
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
	// AlertWarn: unclaimed, the tenant not contacted, with three quarters
	// of its time gone; to the managers.
	AlertWarn Alert = "warn"
	// AlertRemind: claimed, the tenant not contacted, with three quarters
	// of its time gone; to the officer holding it.
	AlertRemind Alert = "remind"
	// AlertDue: the tenant not contacted at the deadline; to the managers.
	AlertDue Alert = "due"
	// AlertDutyWarn: a duty not done with three quarters of its time gone;
	// to the officer holding the case (the managers when nobody does).
	AlertDutyWarn Alert = "dwarn"
	// AlertDutyDue: a duty not done by its due time; to the managers.
	AlertDutyDue Alert = "ddue"
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

// ToClaimer reports whether the alert goes to the officer holding the
// case (in its thread, naming them) rather than to a channel.
func (a Alert) ToClaimer(c *Case) bool {
	return c.State == StateClaimed && (a == AlertRemind || a == AlertDutyWarn)
}

// Describe says in a line why the alert was raised. d is the duty a
// duty's alert is about.
func (a Alert) Describe(c *Case, loc *time.Location, d *Duty) string {
	dl := c.Deadline.In(loc).Format("Mon 2 Jan 15:04")
	held := "is unclaimed"
	if c.State == StateClaimed {
		held = "is held by {officer}"
	}
	switch a {
	case AlertOnCall:
		return fmt.Sprintf("%s case %s needs on-call now.", strings.ToUpper(c.Priority.String()), c.Short())
	case AlertWarn:
		return fmt.Sprintf("Case %s (%s) is unclaimed and three quarters of its time has gone: contact due by %s.", c.Short(), c.Priority, dl)
	case AlertRemind:
		return fmt.Sprintf("{officer}: case %s (%s) has had no contact with the tenant yet and three quarters of its time has gone: contact due by %s. Press Contacted once you have reached them, or Unclaim if you cannot.", c.Short(), c.Priority, dl)
	case AlertDue:
		return fmt.Sprintf("Case %s (%s) %s and the tenant has not been contacted at its deadline, %s: they were promised contact by now.", c.Short(), c.Priority, held, dl)
	case AlertDutyWarn, AlertDutyDue:
		if d == nil {
			return fmt.Sprintf("Case %s: a duty is overdue.", c.Short())
		}
		due := d.Due.In(loc).Format("Mon 2 Jan 15:04")
		if a == AlertDutyWarn {
			who := "nobody holds the case"
			if c.State == StateClaimed {
				who = "{officer}"
			}
			return fmt.Sprintf("%s: case %s — %s is due by %s and not done yet (%s).", who, c.Short(), d.Title, due, d.Source)
		}
		return fmt.Sprintf("Case %s (%s) %s: %s was due by %s and is not done (%s).", c.Short(), c.Priority, held, d.Title, due, d.Source)
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
