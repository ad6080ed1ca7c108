package export

import (
	"context"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// Queue delivers the officer queue's cases to the housing system: it is
// the queue's handoff.Exporter. The queue calls Export from its durable
// job list, so a receiver that is down is tried again until it answers.
type Queue struct {
	Client *Client
}

// Export sends the case's record for the event.
func (q Queue) Export(ctx context.Context, c *handoff.Case, event string, version int) error {
	return q.Client.Send(ctx, FromCase(c, Event(event), version))
}

// FromCase is the case's record for the event. The tenant's number goes
// only when they told safecontact how it is safe to contact them (the
// intake's contact question, answered and not skipped), on a case that
// came by text.
func FromCase(c *handoff.Case, event Event, version int) Record {
	r := Record{
		ID: string(c.ID), Event: event, Version: version, Erased: event == EventErased,
		OpenedAt: c.Opened, Priority: c.Priority.String(), Area: c.Area, Channel: string(c.Channel),
		Language: c.Lang, Reason: c.Reason, Deadline: c.Deadline, ClaimedBy: c.ClaimedBy,
		ContactedAt: c.ContactedAt, ContactedHow: c.ContactHow, Outcome: c.Outcome,
		ClosureDiscussed: c.Discussed == "yes",
		Answers:          []Answer{}, Duties: []Duty{}, Actions: []Action{},
	}
	agreed := false
	for _, l := range c.Summary {
		r.Answers = append(r.Answers, Answer{Step: l.Step, Label: l.Label, Value: l.Value})
		if l.Step == "contact" && l.Value != "" && l.Value != bot.Skipped && l.Value != handoff.Removed {
			agreed = true
		}
	}
	if agreed && c.Channel == bot.ChannelSMS && !c.Erased {
		r.Phone = c.Address
	}
	for _, d := range c.Duties {
		if d.Reminder {
			continue
		}
		r.Duties = append(r.Duties, Duty{ID: d.ID, Title: d.Title, Due: d.Due, DoneBy: d.DoneBy, DoneAt: d.DoneAt, Detail: d.Value})
	}
	for _, a := range c.Actions {
		by := a.Officer
		if by == "" {
			by = "safecontact"
		}
		r.Actions = append(r.Actions, Action{At: a.At, By: by, What: a.What})
	}
	return r
}
