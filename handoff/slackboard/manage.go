package slackboard

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/slack-go/slack"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// An officer's work on a case, from its card: Contacted (with how),
// Unclaim, Reassign to…, the policy's duties ticked as done (a DASH
// score, a repairs request), a duty added by judgement, and Close with
// the outcome and whether it was discussed with the tenant. The officer
// holding the case does these; a manager may do them on any case.
const (
	actionContacted = "contacted"
	actionUnclaim   = "unclaim"
	actionReassign  = "reassign"
	actionDuty      = "duty"
	actionAddDuty   = "addduty"
	actionClose     = "close"

	callbackContacted = "contacted"
	callbackClose     = "close"
	callbackDASH      = "dash"
	callbackRepairs   = "repairs"

	blockHow       = "how"
	blockOutcome   = "outcome"
	blockDiscussed = "discussed"
	blockScore     = "score"
	blockJudgement = "judgement"
	blockRepairs   = "repairs"
	inputValue     = "value"

	// maxDASH is the highest DASH score: one tick per question of the
	// DASH risk identification checklist (27 questions).
	maxDASH = 27
)

// ContactWays are how an officer can say they reached the tenant outside
// safecontact.
var ContactWays = []string{"By phone", "In person", "Through a support worker", "By email or letter"}

// caseMeta is a modal's private_metadata: the case, the channel to answer
// the officer in, and the duty a duty's modal is about.
type caseMeta struct {
	Case    bot.ConversationID `json:"case"`
	Channel string             `json:"channel"`
	Duty    string             `json:"duty,omitempty"`
}

// dutyValue is a duty option's value: the case and the duty.
func dutyValue(id bot.ConversationID, duty string) string { return string(id) + "|" + duty }

func parseDutyValue(v string) (bot.ConversationID, string) {
	id, duty, _ := strings.Cut(v, "|")
	return bot.ConversationID(id), duty
}

// manage handles one of the case's actions other than Claim, Reply and
// Show contact.
func (s *Slack) manage(ctx context.Context, cb slack.InteractionCallback, channel, user string, a *slack.BlockAction) {
	switch a.ActionID {
	case actionContacted:
		s.openCaseModal(ctx, cb.TriggerID, channel, user, caseID(a.Value), "", contactedView)
	case actionClose:
		s.openCaseModal(ctx, cb.TriggerID, channel, user, caseID(a.Value), "", closeView)
	case actionUnclaim:
		id := caseID(a.Value)
		s.acted(ctx, channel, user, id, "unclaim", s.cfg.Queue.Unclaim(ctx, id, user))
	case actionReassign:
		id, _ := s.cfg.Queue.CaseByCard(ctx, cb.Container.MessageTs)
		to := a.SelectedUser
		if id == "" || to == "" {
			s.ephemeral(ctx, channel, user, "That case could not be found.")
			return
		}
		if !s.officer(to) {
			s.ephemeral(ctx, channel, user, fmt.Sprintf("<@%s> is not on safecontact's list of officers, so cannot hold a case. Ask your manager to add them.", to))
			return
		}
		s.acted(ctx, channel, user, id, "reassign", s.cfg.Queue.Reassign(ctx, id, user, to))
	case actionDuty:
		id, duty := parseDutyValue(a.SelectedOption.Value)
		s.tickDuty(ctx, cb.TriggerID, channel, user, id, duty)
	case actionAddDuty:
		id, duty := parseDutyValue(a.SelectedOption.Value)
		s.acted(ctx, channel, user, id, "add a duty", s.cfg.Queue.AddDuty(ctx, id, user, duty))
	}
}

// acted tells the officer, privately, why an action did not go through.
// What did go through shows on the card and in its thread.
func (s *Slack) acted(ctx context.Context, channel, user string, id bot.ConversationID, what string, err error) {
	if why := refused(err); why != "" {
		s.ephemeral(ctx, channel, user, fmt.Sprintf("Case %s: %s", handoff.ShortRef(id), why))
		return
	}
	if err != nil {
		s.cfg.Log.Error("slack: action failed", "action", what, "case", handoff.ShortRef(id), "err", err)
		s.ephemeral(ctx, channel, user, fmt.Sprintf("Case %s: that did not go through (%s). Please try again.", handoff.ShortRef(id), what))
		return
	}
	s.cfg.Log.Info("slack: case action", "action", what, "case", handoff.ShortRef(id), "officer", user)
}

// refused says, for an officer, why the queue refused an action, or ""
// if it did not.
func refused(err error) string {
	switch {
	case err == nil:
		return ""
	case errors.Is(err, handoff.ErrNotClaimer):
		return "only the officer holding the case, or a manager, can do that."
	case errors.Is(err, handoff.ErrNotClaimed), errors.Is(err, handoff.ErrNotQueued):
		return "nobody holds the case: claim it first."
	case errors.Is(err, handoff.ErrClosed):
		return "the case is closed."
	case errors.Is(err, handoff.ErrNoCase):
		return "the case could not be found."
	case errors.Is(err, handoff.ErrNoDuty):
		return "the case has no such duty."
	case errors.Is(err, handoff.ErrDutyDone):
		return "that duty is done already."
	}
	return ""
}

// may reports whether the user may act on the case now: the officer
// holding it, or a manager.
func (s *Slack) may(c *handoff.Case, user string) string {
	switch {
	case c.State == handoff.StateClosed:
		return "the case is closed."
	case s.cfg.Queue.IsManager(user):
		return ""
	case c.State != handoff.StateClaimed:
		return "nobody holds the case: claim it first."
	case c.ClaimedBy != user:
		return "only the officer holding the case, or a manager, can do that."
	}
	return ""
}

// openCaseModal opens one of the case's forms, if the user may act on
// the case.
func (s *Slack) openCaseModal(ctx context.Context, trigger, channel, user string, id bot.ConversationID, duty string,
	view func(c *handoff.Case, meta string) slack.ModalViewRequest) {
	c, err := s.cfg.Queue.Get(ctx, id)
	if err != nil {
		s.acted(ctx, channel, user, id, "open a form", err)
		return
	}
	if why := s.may(c, user); why != "" {
		s.ephemeral(ctx, channel, user, fmt.Sprintf("Case %s: %s", c.Short(), why))
		return
	}
	meta, _ := json.Marshal(caseMeta{Case: id, Channel: channel, Duty: duty})
	if _, err := s.api.OpenViewContext(ctx, trigger, view(c, string(meta))); err != nil {
		s.cfg.Log.Warn("slack: form not opened", "case", c.Short(), "err", err)
		s.ephemeral(ctx, channel, user, "The form could not be opened. Please try again.")
	}
}

// tickDuty marks a duty done, or opens its form when the duty records
// something: the DASH score, the repairs request.
func (s *Slack) tickDuty(ctx context.Context, trigger, channel, user string, id bot.ConversationID, duty string) {
	c, err := s.cfg.Queue.Get(ctx, id)
	if err != nil {
		s.acted(ctx, channel, user, id, "tick a duty", err)
		return
	}
	d := c.Duty(duty)
	switch {
	case d == nil:
		s.acted(ctx, channel, user, id, "tick a duty", handoff.ErrNoDuty)
	case d.Records == "score":
		s.openCaseModal(ctx, trigger, channel, user, id, duty, dashView)
	case d.Repairs:
		s.openCaseModal(ctx, trigger, channel, user, id, duty, repairsView)
	default:
		s.acted(ctx, channel, user, id, "tick a duty", s.cfg.Queue.DoDuty(ctx, id, user, duty, handoff.DutyRecord{}))
	}
}

func modal(callback, title, submit, meta string, blocks ...slack.Block) slack.ModalViewRequest {
	return slack.ModalViewRequest{
		Type: slack.VTModal, CallbackID: callback, PrivateMetadata: meta,
		Title: plain(title), Submit: plain(submit), Close: plain("Cancel"),
		Blocks: slack.Blocks{BlockSet: blocks},
	}
}

func options(values ...string) []*slack.OptionBlockObject {
	out := make([]*slack.OptionBlockObject, 0, len(values))
	for _, v := range values {
		out = append(out, slack.NewOptionBlockObject(v, plain(v), nil))
	}
	return out
}

func selectInput(block, label string, values ...string) *slack.InputBlock {
	return slack.NewInputBlock(block, plain(label), nil,
		slack.NewOptionsSelectBlockElement(slack.OptTypeStatic, plain("Choose"), inputValue, options(values...)...))
}

func contactedView(c *handoff.Case, meta string) slack.ModalViewRequest {
	return modal(callbackContacted, "Contacted", "Record", meta,
		slack.NewContextBlock("case", mrkdwn("Case "+c.Short())),
		selectInput(blockHow, "How did you reach the tenant?", ContactWays...),
		slack.NewContextBlock("note", mrkdwn("This meets the contact deadline and stops its reminders. A reply sent with Reply to tenant counts by itself once it reaches them.")))
}

// Discussed answers, from seed 003: closure is discussed with the tenant.
const (
	discussedYes = "Yes, discussed with the tenant"
	discussedNo  = "No, not discussed"
)

func closeView(c *handoff.Case, meta string) slack.ModalViewRequest {
	blocks := []slack.Block{
		slack.NewContextBlock("case", mrkdwn("Case "+c.Short())),
		selectInput(blockOutcome, "Outcome", Outcomes...),
		selectInput(blockDiscussed, "Was closing the case discussed with the tenant?", discussedYes, discussedNo),
	}
	var open []string
	for _, d := range c.Duties {
		if !d.Reminder && !d.Done() {
			open = append(open, d.Title)
		}
	}
	if len(open) > 0 {
		blocks = append(blocks, slack.NewSectionBlock(mrkdwn(":warning: Not done yet: "+escape(strings.Join(open, "; "))+"."), nil, nil))
	}
	blocks = append(blocks, slack.NewContextBlock("note", mrkdwn("The policies ask that closure is agreed with the tenant, confirmed in writing, and their feedback asked for (seed 003). The case opens again if the tenant writes.")))
	return modal(callbackClose, "Close the case", "Close", meta, blocks...)
}

func dashView(c *handoff.Case, meta string) slack.ModalViewRequest {
	score := slack.NewPlainTextInputBlockElement(plain("0 to 27"), inputValue)
	return modal(callbackDASH, "DASH risk assessment", "Record", meta,
		slack.NewContextBlock("case", mrkdwn("Case "+c.Short())),
		slack.NewInputBlock(blockScore, plain("DASH score (number of ticks)"), nil, score),
		selectInput(blockJudgement, "High risk on professional judgement?", "No", "Yes"),
		slack.NewContextBlock("note", mrkdwn("14 or more ticks, or high risk on professional judgement, adds a MARAC referral to the case with its deadline.")))
}

// repairsRequest is the repairs request a form starts with: the security
// work, and nothing about the tenant.
const repairsRequest = "Security check and lock change: front and back doors, window locks, door chain and viewer."

func repairsView(c *handoff.Case, meta string) slack.ModalViewRequest {
	text := slack.NewPlainTextInputBlockElement(plain("What needs securing"), inputValue).
		WithMultiline(true).WithMaxLength(500).WithInitialValue(repairsRequest)
	return modal(callbackRepairs, "Request repairs", "Send", meta,
		slack.NewContextBlock("case", mrkdwn("Case "+c.Short()+" · "+escape(areaName(c)))),
		slack.NewInputBlock(blockRepairs, plain("Work needed"),
			plain("Sent to the repairs team with the area and your name. No address, no name, no story: repairs ask you for those."), text))
}

// stateValue reads an input's value from a submitted modal: typed text,
// or the option chosen.
func stateValue(cb slack.InteractionCallback, block string) string {
	if cb.View.State == nil {
		return ""
	}
	a := cb.View.State.Values[block][inputValue]
	if a.SelectedOption.Value != "" {
		return a.SelectedOption.Value
	}
	return strings.TrimSpace(a.Value)
}

// submit checks a submitted form while Slack waits and answers with the
// refusal to show in it, or nil: the form closes and the worker does
// what it asks.
func (s *Slack) submit(ctx context.Context, cb slack.InteractionCallback) *slack.ViewSubmissionResponse {
	if cb.View.CallbackID == callbackReply {
		return s.submitReply(ctx, cb)
	}
	var m caseMeta
	if err := json.Unmarshal([]byte(cb.View.PrivateMetadata), &m); err != nil || m.Case == "" {
		return nil
	}
	user := cb.User.ID
	refuse := func(block, why string) *slack.ViewSubmissionResponse {
		return slack.NewErrorsViewSubmissionResponse(map[string]string{block: why})
	}
	// first is the form's first input, where a refusal about the whole
	// form is shown.
	var do func(context.Context) error
	var what, first string
	switch cb.View.CallbackID {
	case callbackContacted:
		first = blockHow
		how := stateValue(cb, blockHow)
		if how == "" {
			return refuse(blockHow, "Say how you reached the tenant.")
		}
		what, do = "contacted", func(ctx context.Context) error {
			return s.cfg.Queue.Contacted(ctx, m.Case, user, strings.ToLower(how))
		}
	case callbackClose:
		first = blockOutcome
		outcome, discussed := stateValue(cb, blockOutcome), stateValue(cb, blockDiscussed)
		if outcome == "" {
			return refuse(blockOutcome, "Choose the outcome.")
		}
		cl := handoff.Closure{Outcome: outcome, Discussed: "no"}
		if discussed == discussedYes {
			cl.Discussed = "yes"
		}
		what, do = "close", func(ctx context.Context) error { return s.cfg.Queue.CloseWith(ctx, m.Case, user, cl) }
	case callbackDASH:
		first = blockScore
		score, err := strconv.Atoi(stateValue(cb, blockScore))
		if err != nil || score < 0 || score > maxDASH {
			return refuse(blockScore, fmt.Sprintf("Write the number of ticks, 0 to %d.", maxDASH))
		}
		rec := handoff.DutyRecord{Score: score, Judgement: stateValue(cb, blockJudgement) == "Yes"}
		what, do = "DASH", func(ctx context.Context) error { return s.cfg.Queue.DoDuty(ctx, m.Case, user, m.Duty, rec) }
	case callbackRepairs:
		first = blockRepairs
		text := stateValue(cb, blockRepairs)
		if text == "" {
			return refuse(blockRepairs, "Say what needs securing.")
		}
		rec := handoff.DutyRecord{Repairs: text}
		what, do = "repairs", func(ctx context.Context) error { return s.cfg.Queue.DoDuty(ctx, m.Case, user, m.Duty, rec) }
	default:
		return nil
	}
	c, err := s.cfg.Queue.Get(ctx, m.Case)
	if err != nil {
		return refuse(first, "The case could not be read. Please try again.")
	}
	if why := s.may(c, user); why != "" {
		return refuse(first, "Not done: "+why)
	}
	s.later(func(ctx context.Context) { s.acted(ctx, m.Channel, user, m.Case, what, do(ctx)) })
	return nil
}
