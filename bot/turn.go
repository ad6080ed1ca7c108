package bot

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// maxAnswer bounds how much of one message is kept as an answer or a
// transcript line (Twilio's own limit on a message body is 1,600).
const maxAnswer = 1600

// turn is one inbound message being applied to a conversation. It works on
// the conversation loaded for this attempt and collects what to save and
// send; nothing leaves the engine unless the save succeeds.
type turn struct {
	e       *Engine
	ctx     context.Context
	now     time.Time
	conv    *Conversation
	c       composer
	replies []Reply
	events  []Event
	lines   []Line
	// opened is set when this turn opened the officers' case; changed
	// when it recorded an answer or the tenant's words.
	opened, changed bool
	// emergencyAt is how many replies there were up to and including
	// the 999 reply of this turn; zero when there was none.
	emergencyAt int
}

// turn applies the message in (whose id has the digest msg) to the
// conversation prev, which may be nil or a tombstone.
func (e *Engine) turn(ctx context.Context, prev *Conversation, in Inbound, msg string) (*turn, error) {
	t := &turn{e: e, ctx: ctx, now: e.now()}
	fresh := prev == nil || prev.Erased
	if fresh {
		t.conv = e.newConversation(in, t.now)
	} else {
		t.conv = prev
	}
	t.conv.Updated = t.now
	t.c = composer{e: e, lang: t.conv.Lang}
	attachments := max(in.Attachments, 0)
	err := t.apply(in.Text, attachments, fresh)
	if attachments > 0 {
		t.attachmentNotice()
	}
	t.caseUpdate()
	t.conv.remember(msg, t.replies)
	return t, err
}

func (e *Engine) newConversation(in Inbound, now time.Time) *Conversation {
	c := &Conversation{
		Channel: in.Channel, Address: in.Address, Lang: e.flow.DefaultLang(),
		State: e.flow.Start, Answers: map[string]string{}, Started: now,
	}
	if e.flow.Words[in.Lang] != nil {
		c.Lang = in.Lang
	}
	if in.Area != "" && e.dir.AreaName(in.Area, c.Lang) != "" {
		c.Area = in.Area
	}
	return c
}

// apply handles the message: global words first, in every state, then the
// current step. Words of danger come before everything but leaving. A
// message that is only a picture or file (attachments and no words)
// answers nothing: the open question is asked again.
func (t *turn) apply(raw string, attachments int, fresh bool) error {
	lx, text := t.e.lex, Normalize(raw)
	switch {
	case lx.exit.is(text):
		t.erase(EventExited)
		return nil
	case lx.optOut.is(text):
		t.erase(EventOptedOut)
		return nil
	case lx.erase.is(text):
		t.erase(EventErased)
		t.say(t.c.message(MsgErased))
		return nil
	}
	raw = truncate(strings.TrimSpace(raw), maxAnswer)
	if raw != "" {
		t.lines = append(t.lines, Line{At: t.now, Step: t.conv.State, Text: raw})
	}
	if attachments > 0 {
		t.lines = append(t.lines, Line{At: t.now, Step: t.conv.State, Text: AttachmentNote(attachments)})
	}
	step := t.e.flow.Step(t.conv.State)
	if step == nil {
		// The flow changed under a stored conversation: start again.
		step = t.restart()
		fresh = true
	}
	handedOff := !t.conv.HandedOff.IsZero()
	danger := raw != "" && t.e.isDanger(text, raw)
	if handedOff {
		if !danger {
			t.riskWords(text)
		}
		t.events = append(t.events, Event{Kind: EventTenantMessage, Priority: t.conv.Priority, Text: tenantText(raw, attachments)})
	}
	if danger {
		return t.danger(step, raw)
	}
	if lang := lx.language(text, step.LanguageAnswer); lang != "" {
		t.conv.Lang, t.c.lang = lang, lang
		t.repeat(step)
		return nil
	}
	switch {
	case lx.help.is(text):
		t.sayAll(t.c.numbers(t.conv, t.now))
		t.repeat(step)
		return nil
	case lx.officer.is(text) && !handedOff:
		return t.officer(step, fresh)
	case fresh:
		// The first message of a conversation starts the intake; it is not
		// an answer to a question the tenant has not seen.
		t.ask(step)
		return nil
	case step.Kind == KindEnd:
		return t.afterEnd(step)
	case raw == "" && attachments > 0:
		// A picture alone: the notice (attachmentNotice) says why nothing
		// was taken from it, and the question still open follows.
		if step.Kind == KindArea && len(t.conv.AreaChoices) > 0 {
			t.say(t.areaQuestion(step))
			t.offer(step)
		} else {
			t.ask(step)
		}
		return nil
	case lx.greeting.is(text):
		// "hi" to a question already on screen: ask it again, kindly.
		t.ask(step)
		return nil
	case lx.skip.is(text):
		return t.skip(step)
	case lx.back.is(text):
		t.back(step)
		return nil
	}
	t.signpost(text)
	return t.answer(step, raw, text)
}

// danger answers words of danger, at any step: the emergency reply first,
// then the question that is still open, if one is. Before the handoff the
// officers' case opens at once; after it, the officer's thread has the
// words and on-call is told again.
func (t *turn) danger(step *Step, raw string) error {
	handedOff := !t.conv.HandedOff.IsZero()
	if !handedOff && step.Kind == KindEnd && step.Restart {
		// After "not safe to talk": a new message starts again.
		step = t.restart()
	}
	if !handedOff {
		for _, o := range step.Options {
			if o.Emergency {
				// Words of danger answer "are you in danger now?".
				t.conv.keep(raw)
				t.record(step, o.ID)
				t.rules()
				return t.advance(step, optionEvent(step.ID, o.ID), true)
			}
		}
	}
	t.emergency(raw)
	switch {
	case handedOff, step.Kind == KindEnd:
	case step.Kind == KindArea && len(t.conv.AreaChoices) > 0:
		t.say(t.areaQuestion(step))
		t.offer(step)
	default:
		t.ask(step)
	}
	return nil
}

// officer hands off now, unless the tenant has not yet said it is safe to
// message: then that is asked first, and the handoff follows a yes.
func (t *turn) officer(step *Step, fresh bool) error {
	if fresh || (step.ID == t.e.flow.Start && t.conv.Answers[step.ID] == "") {
		t.conv.WantsOfficer = true
		t.ask(step)
		return nil
	}
	next, err := t.e.machine.fire(t.ctx, t.conv.State, eventOfficer)
	if err != nil {
		return err
	}
	t.arrive(t.e.flow.Step(next), ReasonOfficer)
	return nil
}

// answer reads the message as the answer to the current step.
func (t *turn) answer(s *Step, raw, text string) error {
	i := t.e.lex.matchOption(s.Options, text, s.Kind == KindText)
	switch {
	case s.Kind == KindArea:
		return t.area(s, raw, text)
	case i >= 0:
		return t.choose(s, s.Options[i])
	case s.Kind == KindText:
		t.record(s, raw)
		t.riskWords(text)
		t.rules()
		return t.advance(s, optionEvent(s.ID, eventAnswer), false)
	}
	t.notUnderstood(t.c.prompt(s, t.conv))
	t.offer(s)
	return nil
}

func (t *turn) choose(s *Step, o *Option) error {
	t.record(s, o.ID)
	t.rules()
	if o.Reply != nil {
		t.say(t.c.text(o.Reply))
	}
	if o.Numbers {
		t.sayAll(t.c.numbers(t.conv, t.now))
	}
	if s.Edit != "" {
		t.conv.ReturnTo = s.Edit
	}
	return t.advance(s, optionEvent(s.ID, o.ID), o.Emergency)
}

// area reads an area from the menu, a place's name or a postcode, and
// sends that area's numbers. A name that fits several areas is asked
// about; an answer that names nothing is asked once more, and only then
// are the national numbers sent, saying so.
func (t *turn) area(s *Step, raw, text string) error {
	var found []string
	candidates := t.conv.AreaChoices
	if len(candidates) == 0 {
		candidates = t.c.menuAreas()
	}
	if n, err := strconv.Atoi(text); err == nil {
		if n >= 1 && n <= len(candidates) {
			found = []string{candidates[n-1]}
		}
	} else {
		found = t.e.dir.Locate(raw)
		if len(t.conv.AreaChoices) > 0 {
			found = intersect(found, t.conv.AreaChoices)
			if len(found) != 1 {
				t.notUnderstood(t.areaQuestion(s))
				t.offer(s)
				return nil
			}
		}
	}
	switch len(found) {
	case 0:
		if t.conv.AreaAsked == 0 {
			t.conv.AreaAsked++
			t.say(t.c.withAreas(t.c.message(MsgAreaUnknown), nil))
			t.offer(s)
			return nil
		}
		t.say(t.c.message(MsgAreaFallback))
		found = []string{t.e.dir.Fallback()}
	case 1:
	default:
		t.conv.AreaChoices = found
		t.say(t.areaQuestion(s))
		t.offer(s)
		return nil
	}
	t.conv.AreaChoices = nil
	t.conv.AreaAsked = 0
	t.conv.Area = found[0]
	t.record(s, found[0])
	t.sayAll(t.c.numbers(t.conv, t.now))
	return t.advance(s, optionEvent(s.ID, eventAnswer), false)
}

// areaQuestion asks the area step's question, or which of the straddled
// areas when a postcode district covers more than one.
func (t *turn) areaQuestion(s *Step) string {
	if len(t.conv.AreaChoices) == 0 {
		return t.c.prompt(s, t.conv)
	}
	return t.c.withAreas(t.c.message(MsgAreaChoice), t.conv.AreaChoices)
}

func (t *turn) skip(s *Step) error {
	if s.skipTo() == "" {
		// A confirmation can't be skipped: sending needs a yes.
		t.notUnderstood(t.c.prompt(s, t.conv))
		return nil
	}
	t.conv.AreaChoices = nil
	t.record(s, Skipped)
	return t.advance(s, optionEvent(s.ID, eventSkip), false)
}

func (t *turn) back(s *Step) {
	h := t.conv.History
	if len(h) == 0 {
		t.notUnderstood(t.c.message(MsgCannotGoBack) + "\n" + t.c.prompt(s, t.conv))
		return
	}
	t.conv.History = h[:len(h)-1]
	t.conv.AreaChoices = nil
	t.conv.State = h[len(h)-1]
	t.ask(t.e.flow.Step(t.conv.State))
}

// record keeps the step's answer and remembers the step for BACK.
func (t *turn) record(s *Step, answer string) {
	if t.conv.Answers == nil {
		t.conv.Answers = map[string]string{}
	}
	t.conv.Answers[s.ID] = answer
	t.conv.History = append(t.conv.History, s.ID)
	t.changed = true
}

// advance leaves step s by the event. An emergency answer ("yes" to "in
// danger now?") gets the emergency reply before the next question. A
// tenant whose first text asked for an officer is handed off as soon as
// they have said it is safe to message.
func (t *turn) advance(s *Step, event string, emergency bool) error {
	var next string
	if t.conv.ReturnTo != "" && s.Edit == "" {
		next, t.conv.ReturnTo = t.conv.ReturnTo, ""
	} else {
		var err error
		if next, err = t.e.machine.fire(t.ctx, s.ID, event); err != nil {
			return err
		}
	}
	step := t.e.flow.Step(next)
	if emergency {
		t.emergency("")
	}
	if t.conv.WantsOfficer && step.Kind != KindEnd {
		t.conv.WantsOfficer = false
		to, err := t.e.machine.fire(t.ctx, next, eventOfficer)
		if err != nil {
			return err
		}
		t.arrive(t.e.flow.Step(to), ReasonOfficer)
		return nil
	}
	t.arrive(step, ReasonComplete)
	return nil
}

// arrive enters a step and sends what it says. An area step is answered
// already when the conversation started with a known area.
func (t *turn) arrive(s *Step, reason string) {
	t.conv.State = s.ID
	switch {
	case s.Handoff:
		t.handoff(s, reason)
	case s.Kind == KindArea && t.conv.Area != "" && t.conv.Answers[s.ID] == "":
		t.record(s, t.conv.Area)
		t.sayAll(t.c.numbers(t.conv, t.now))
		if err := t.advance(s, optionEvent(s.ID, eventAnswer), false); err != nil {
			t.ask(s)
		}
	default:
		t.ask(s)
	}
}

// ask sends a step's question: the summary first on a confirm step, the
// numbers after on a step that sends them.
func (t *turn) ask(s *Step) {
	if s.Kind == KindConfirm {
		// The summary and its question share messages where they fit.
		t.sayAll(t.c.summary(t.conv, t.c.prompt(s, t.conv)))
	} else {
		t.say(t.c.prompt(s, t.conv))
	}
	if s.Numbers {
		t.sayAll(t.c.numbers(t.conv, t.now))
	}
	t.offer(s)
}

// offer puts the step's answers on the last reply, for a channel that
// shows them as buttons.
func (t *turn) offer(s *Step) {
	if len(t.replies) == 0 {
		return
	}
	t.replies[len(t.replies)-1].Choices = t.c.choices(s, t.conv)
}

// repeat asks the current question again; after the handoff it says when
// an officer will be in touch.
func (t *turn) repeat(s *Step) {
	switch {
	case !t.conv.HandedOff.IsZero():
		t.say(t.afterHandoff())
	case s.Kind != KindEnd:
		t.ask(s)
	}
}

func (t *turn) afterEnd(s *Step) error {
	if s.Restart {
		t.ask(t.restart())
		return nil
	}
	t.notice()
	return nil
}

// notice answers a tenant who writes after the handoff with when an
// officer will be in touch (and out of hours the support numbers, 24-hour
// services first), at most once a day in the landlord's time zone. The
// rest of what they write goes to the officer's thread: a bot answering
// every line of a conversation with an officer would be noise at best
// and a lit-up lock screen at worst.
func (t *turn) notice() {
	loc := t.e.hours.Location()
	y1, m1, d1 := t.conv.Noticed.In(loc).Date()
	y2, m2, d2 := t.now.In(loc).Date()
	if !t.conv.Noticed.IsZero() && y1 == y2 && m1 == m2 && d1 == d2 {
		return
	}
	t.conv.Noticed = t.now
	t.say(t.afterHandoff())
	if !t.e.hours.Open(t.now) {
		// Out of hours nobody may read their words until the deadline:
		// the numbers that answer now come with the notice.
		t.sayAll(t.c.numbers(t.conv, t.now))
	}
}

func (t *turn) afterHandoff() string {
	return strings.ReplaceAll(t.c.message(MsgAfterHandoff), PlaceholderDeadline, t.c.deadline(t.conv.Deadline))
}

// restart begins the intake again, keeping only the language. The ids of
// messages already seen are the store's (Commit.Seen).
func (t *turn) restart() *Step {
	old := t.conv
	t.conv = &Conversation{
		Channel: old.Channel, Address: old.Address, Lang: old.Lang,
		State: t.e.flow.Start, Answers: map[string]string{}, Started: t.now, Updated: t.now,
	}
	return t.e.flow.Step(t.e.flow.Start)
}

func (t *turn) handoff(s *Step, reason string) {
	t.conv.HandedOff = t.now
	t.conv.Noticed = t.now
	if t.conv.Opened.IsZero() {
		// A case opened earlier keeps the deadline it was given then.
		t.conv.Opened = t.now
		t.conv.Deadline = t.e.hours.Deadline(t.now)
	}
	if reason == ReasonComplete {
		t.say(t.c.prompt(s, t.conv))
	} else {
		t.say(strings.ReplaceAll(t.c.message(MsgHandedOffEarly), PlaceholderDeadline, t.c.deadline(t.conv.Deadline)))
	}
	if s.Numbers {
		t.sayAll(t.c.numbers(t.conv, t.now))
	}
	t.events = append(t.events, Event{Kind: EventHandoff, Priority: t.conv.Priority, Handoff: t.handoffCase(reason)})
}

// handoffCase is the case as officers receive it now.
func (t *turn) handoffCase(reason string) *Handoff {
	return &Handoff{
		Reason: reason, Priority: t.conv.Priority, Area: t.conv.Area, Lang: t.conv.Lang,
		Channel: t.conv.Channel, Address: t.conv.Address, At: t.now, Opened: t.conv.Opened,
		Deadline: t.conv.Deadline, Summary: t.e.Summary(t.conv),
	}
}

// emergency sends the danger reply and raises the priority to urgent.
// Before the handoff it opens the officers' case at once, with what is
// known so far and the tenant's words; the questions go on if the tenant
// does.
func (t *turn) emergency(words string) {
	t.say(t.c.message(MsgEmergency))
	if t.emergencyAt == 0 {
		t.emergencyAt = len(t.replies)
	}
	t.raise(Urgent)
	if t.conv.HandedOff.IsZero() {
		if t.conv.keep(words) {
			t.changed = true
		}
		if t.conv.Opened.IsZero() {
			t.conv.Opened = t.now
			t.conv.Deadline = t.e.hours.Deadline(t.now)
			t.opened = true
			t.events = append(t.events, Event{Kind: EventHandoff, Priority: t.conv.Priority, Handoff: t.handoffCase(ReasonDanger)})
		}
	}
	t.events = append(t.events, Event{Kind: EventEmergency, Priority: t.conv.Priority, Text: words})
}

// caseUpdate tells the officers what the tenant has answered since the
// case opened part way through, once a turn.
func (t *turn) caseUpdate() {
	if t.opened || !t.changed || t.conv.Erased || t.conv.Opened.IsZero() || !t.conv.HandedOff.IsZero() {
		return
	}
	t.events = append(t.events, Event{Kind: EventCaseUpdated, Priority: t.conv.Priority, Handoff: t.handoffCase(ReasonDanger)})
}

// erase replaces the conversation with a tombstone that keeps only this
// message's id and replies (remember). The ids of the messages before are
// the store's and outlive the erasure, so a redelivery of any of them is
// not taken as a new conversation.
func (t *turn) erase(kind EventKind) {
	priority := t.conv.Priority
	t.conv = &Conversation{Erased: true, Updated: t.now}
	t.lines = nil
	t.events = append(t.events, Event{Kind: kind, Priority: priority})
}

func (t *turn) notUnderstood(question string) {
	msg := t.c.message(MsgNotUnderstood) + "\n" + question
	if FitsSegments(msg) {
		t.say(msg)
		return
	}
	t.say(t.c.message(MsgNotUnderstood))
	t.say(question)
}

// riskWords raises the priority to high when free text has a risk word.
func (t *turn) riskWords(text string) {
	if t.e.lex.risk.starts(text) {
		t.raise(High)
	}
}

// rules applies the flow's priority rules to the answers so far.
func (t *turn) rules() {
	for _, r := range t.e.flow.Rules {
		match := true
		for step, want := range r.When {
			if t.conv.Answers[step] != want {
				match = false
				break
			}
		}
		if match {
			t.raise(r.Priority)
		}
	}
}

// raise lifts the priority; it never lowers it.
func (t *turn) raise(p Priority) {
	if p <= t.conv.Priority {
		return
	}
	t.conv.Priority = p
	t.events = append(t.events, Event{Kind: EventPriorityRaised, Priority: p})
}

// say queues a reply. Every reply, whatever composed it, passes the
// lock-screen mask: flow texts are checked at load, but placeholders
// (the landlord's name, an area) and tenant text in a summary are not.
func (t *turn) say(s string) {
	if s != "" {
		t.replies = append(t.replies, Reply{Text: t.e.quiet.mask(s)})
	}
}

func (t *turn) sayAll(msgs []string) {
	for _, m := range msgs {
		t.say(m)
	}
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		for _, y := range b {
			if x == y {
				out = append(out, x)
				break
			}
		}
	}
	return out
}
