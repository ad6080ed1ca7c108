package flows

import (
	"fmt"
	"slices"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Duty is one thing the landlords' policies ask of an officer once a case
// arrives, as duties.yaml gives it: a task with a deadline (the DASH risk
// assessment, a children's safeguarding referral), or a reminder with none
// (a perpetrator may pose as the victim). Duties are not changed after
// loading.
type Duty struct {
	ID string
	// Title is the officer's words for it, short: "MARAC referral".
	Title string
	// Detail says what to do, in a sentence or two.
	Detail string
	// Source names the policy and section: "seed 001 §3.0 6".
	Source string
	// Due says how long the officer has, from when the duty arises. A
	// reminder's is DueNone.
	Due Due
	// When lists what calls for the duty; any one of them does.
	When []Trigger
	// Records is what the officer records on ticking it: RecordNothing,
	// or RecordScore (a DASH score and professional judgement).
	Records Record
	// Repairs marks the duty whose request goes to the repairs channel;
	// at most one duty has it.
	Repairs bool
	// Reminder marks a standing note with no deadline, not a task.
	Reminder bool
	// Line is the duty's line in duties.yaml.
	Line int
}

// Record is what an officer records when ticking a duty.
type Record string

// The things a duty can record.
const (
	// RecordNothing: ticking the duty records only that it was done.
	RecordNothing Record = ""
	// RecordScore: the DASH score, 0 to MaxScore ticks, and whether
	// professional judgement makes the case high risk. Duties with an
	// "after" trigger follow from it (see Bundle.FollowUps).
	RecordScore Record = "score"
)

// MaxScore is the most ticks a DASH risk checklist can have: it asks 27
// questions.
const MaxScore = 27

// TriggerKind says what kind of thing calls for a duty.
type TriggerKind string

// The kinds of trigger, as duties.yaml writes them.
const (
	// TriggerAlways ("always"): every case.
	TriggerAlways TriggerKind = "always"
	// TriggerOfficer ("officer"): the card lists the duty for an officer
	// to add when they learn it applies.
	TriggerOfficer TriggerKind = "officer"
	// TriggerOption ({step: children, option: "yes"}): the tenant chose
	// that option at that step.
	TriggerOption TriggerKind = "option"
	// TriggerAnswered ({step: security, answered: true}): the tenant
	// wrote their own answer at a text step: not one of its options (such
	// as "no") and not SKIP.
	TriggerAnswered TriggerKind = "answered"
	// TriggerScore ({after: dash, score_at_least: 14}): an officer
	// recorded at least that score on the duty After.
	TriggerScore TriggerKind = "score"
	// TriggerJudgement ({after: dash, judgement: true}): an officer
	// recorded professional judgement of high risk on the duty After.
	TriggerJudgement TriggerKind = "judgement"
)

// Trigger is one thing that calls for a duty.
type Trigger struct {
	Kind TriggerKind
	// Step and Option are the intake step and option of TriggerOption;
	// TriggerAnswered has Step only.
	Step, Option string
	// After is the duty whose recorded score TriggerScore and
	// TriggerJudgement follow.
	After string
	// Score is TriggerScore's least score.
	Score int
	// Line is the trigger's line in duties.yaml.
	Line int
	// labels are how the case summary shows the step's answer: for
	// TriggerOption, the option's labels in every language; for
	// TriggerAnswered, those of every option of the step. Set at load.
	labels []string
}

// DueKind says how a duty's deadline is counted.
type DueKind string

// The kinds of deadline, as duties.yaml writes them.
const (
	// DueNone: a reminder, with no deadline.
	DueNone DueKind = ""
	// DueWorking ({working: 1d}, {working: 4h}): a length of office
	// hours; a day ("d") is one standard working day (Hours.DayLength).
	DueWorking DueKind = "working"
	// DueClock ({clock: 24h}): a length of time on the clock, nights,
	// weekends and bank holidays included.
	DueClock DueKind = "clock"
	// DueEndOfDay ({end_of_day: true}): the close of the working day the
	// duty arises in, or of the next working day if it arises after hours.
	DueEndOfDay DueKind = "end_of_day"
	// DueBeforeClosing ({before_closing: true}): done before the case is
	// closed, with no deadline on the clock.
	DueBeforeClosing DueKind = "before_closing"
)

// Due is how long an officer has for a duty.
type Due struct {
	Kind DueKind
	// Days are working days of DueWorking.
	Days int
	// Length is the office hours of DueWorking on top of Days, or the
	// time on the clock of DueClock.
	Length time.Duration
}

// At returns when a duty that arose at from falls due, counting office
// hours in h: DueWorking 1d from Fri 10:00 is Mon 10:00; DueEndOfDay from
// Fri 16:30 is Fri 17:00, and from Fri 20:00 Mon 17:00; DueClock 24h from
// Fri 20:00 is Sat 20:00. It returns the zero time for DueNone and
// DueBeforeClosing, which have no deadline. h may be nil only for those
// and DueClock.
func (d Due) At(from time.Time, h *Hours) time.Time {
	switch d.Kind {
	case DueWorking:
		return h.Add(from, time.Duration(d.Days)*h.DayLength()+d.Length)
	case DueClock:
		return from.Add(d.Length)
	case DueEndOfDay:
		return h.EndOfDay(from)
	}
	return time.Time{}
}

// String says how long the officer has, for the card: "1 working day",
// "4 working hours", "24 hours", "by the end of the working day",
// "before the case is closed", or "" for a reminder.
func (d Due) String() string {
	switch d.Kind {
	case DueWorking:
		if d.Length == 0 {
			return plural(d.Days, "working day")
		}
		return lengthString(d.Length, "working ")
	case DueClock:
		return lengthString(d.Length, "")
	case DueEndOfDay:
		return "by the end of the working day"
	case DueBeforeClosing:
		return "before the case is closed"
	}
	return ""
}

// lengthString writes a length as whole hours or minutes.
func lengthString(d time.Duration, adj string) string {
	if d%time.Hour == 0 {
		return plural(int(d/time.Hour), adj+"hour")
	}
	return plural(int(d/time.Minute), adj+"minute")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// DutiesFor returns the duties a case's answers call for, in the order of
// duties.yaml: those "always" called for, reminders included, and those
// whose step rule the summary matches.
//
// A bot.SummaryLine holds the step's id but not the option's: its Value
// is the chosen option's label (in English, the flow's default language,
// from bot.Engine.Summary), or the tenant's own words at a text step. So
// an option rule matches the option's label, in any of the flow's
// languages, and "answered" matches a Value that is none of the step's
// option labels. Loading makes sure every option a rule names has labels
// no other option of its step shares. A skipped step has no line (or the
// Value bot.Skipped), and matches nothing.
func (b *Bundle) DutiesFor(summary []bot.SummaryLine) []*Duty {
	answers := map[string]string{}
	for _, l := range summary {
		if l.Value != "" && l.Value != bot.Skipped {
			answers[l.Step] = l.Value
		}
	}
	var out []*Duty
	for _, d := range b.Duties {
		if slices.ContainsFunc(d.When, func(t Trigger) bool { return t.matchAnswers(answers) }) {
			out = append(out, d)
		}
	}
	return out
}

// matchAnswers reports whether the trigger holds for a case with these
// answers, by step id.
func (t Trigger) matchAnswers(answers map[string]string) bool {
	switch t.Kind {
	case TriggerAlways:
		return true
	case TriggerOption:
		v, ok := answers[t.Step]
		return ok && slices.Contains(t.labels, v)
	case TriggerAnswered:
		v, ok := answers[t.Step]
		return ok && !slices.Contains(t.labels, v)
	}
	return false
}

// FollowUps returns the duties that follow an officer recording a score
// on the duty after: a DASH of score ticks (0 to MaxScore), with
// judgement true when professional judgement makes it high risk. With the
// default duties.yaml, 14 or more ticks, or judgement, calls for a MARAC
// referral; 13 without judgement calls for nothing.
func (b *Bundle) FollowUps(after string, score int, judgement bool) []*Duty {
	var out []*Duty
	for _, d := range b.Duties {
		if slices.ContainsFunc(d.When, func(t Trigger) bool {
			switch {
			case t.After != after:
				return false
			case t.Kind == TriggerScore:
				return score >= t.Score
			case t.Kind == TriggerJudgement:
				return judgement
			}
			return false
		}) {
			out = append(out, d)
		}
	}
	return out
}

// OfficerDuties returns the duties the card lists for an officer to add
// ("when: officer"), such as an adult safeguarding referral, which no
// intake question calls for. Some may already have been called for by the
// answers; the card need not offer those again.
func (b *Bundle) OfficerDuties() []*Duty {
	var out []*Duty
	for _, d := range b.Duties {
		if slices.ContainsFunc(d.When, func(t Trigger) bool { return t.Kind == TriggerOfficer }) {
			out = append(out, d)
		}
	}
	return out
}

// Duty returns the duty with the id, or nil.
func (b *Bundle) Duty(id string) *Duty {
	for _, d := range b.Duties {
		if d.ID == id {
			return d
		}
	}
	return nil
}

// RepairsDuty returns the duty whose request goes to the repairs channel,
// or nil if no duty has "repairs: true".
func (b *Bundle) RepairsDuty() *Duty {
	for _, d := range b.Duties {
		if d.Repairs {
			return d
		}
	}
	return nil
}
