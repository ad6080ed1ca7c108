package bot

// Text is one message in each of a flow's languages, keyed by language code
// ("en", "cy").
type Text map[string]string

// In returns the text in lang, or in fallback when lang is missing.
func (t Text) In(lang, fallback string) string {
	if s, ok := t[lang]; ok {
		return s
	}
	return t[fallback]
}

// FlowVersion is the newest flow file version this engine understands.
const FlowVersion = 1

// StepKind says how a step reads the tenant's answer.
type StepKind string

// The kinds of step a flow can have.
const (
	// KindChoice needs one of the step's options; anything else is asked
	// again.
	KindChoice StepKind = "choice"
	// KindText takes free text; an option's words, when given, still match
	// first (a text step can offer "N" for "nothing to add").
	KindText StepKind = "text"
	// KindArea takes an area from the Directory's menu, an area's name or a
	// postcode, and sends that area's support numbers.
	KindArea StepKind = "area"
	// KindConfirm shows the summary of answers (headed by MsgSummary) and
	// then its prompt, and takes one of its options.
	KindConfirm StepKind = "confirm"
	// KindEnd ends the intake. Its prompt is sent on arrival.
	KindEnd StepKind = "end"
)

// Placeholders a prompt may contain.
const (
	PlaceholderDeadline = "{deadline}" // when an officer will have contacted the tenant
	PlaceholderLandlord = "{landlord}" // the landlord's configured name
)

// Flow is an intake script: steps, the messages the engine composes, the
// words it understands in each language, and the priority rules. The flows
// package loads and validates it; the engine trusts it.
type Flow struct {
	Name    string
	Version int
	// Start is the first step.
	Start string
	// Languages lists the flow's languages; the first is the default.
	Languages []string
	// Steps in file order.
	Steps []*Step
	// Messages are the engine's composed messages, keyed by the Msg*
	// constants.
	Messages map[string]Text
	// Words holds each language's vocabulary, keyed by language code.
	Words map[string]*Words
	// Switch maps a language code to the words that switch to it, in any
	// language ("cymraeg", "welsh").
	Switch map[string][]string
	// Rules raise a conversation's priority from its answers.
	Rules []PriorityRule
	// Landlord is the landlord's name for {landlord}; a neutral name, since
	// it can show on a lock screen.
	Landlord Text
	// Danger recognises danger in free writing, at every step.
	Danger *DangerLexicon
	// Signposts send the services a tenant's own words call for (the
	// men's line to a man who says so), once a conversation each.
	Signposts []*Signpost
	// QuietWords must not show in the first LockScreenChars characters of
	// a message the tenant did not just ask for: a greeting, a notice
	// after the handoff, an officer's reply ("danger", "harm", "police").
	// LockScreenWords apply to every message besides.
	QuietWords []string

	steps map[string]*Step
}

// Keys of Flow.Messages the engine needs in every language.
const (
	// MsgEmergency is the danger reply: 999, and 999 then 55.
	MsgEmergency = "emergency"
	// MsgNotUnderstood is sent before a question is asked again.
	MsgNotUnderstood = "not_understood"
	// MsgNumbers heads the list of support numbers.
	MsgNumbers = "numbers"
	// MsgAreaChoice asks which area when a postcode district straddles two.
	MsgAreaChoice = "area_choice"
	// MsgCannotGoBack answers BACK at the first question.
	MsgCannotGoBack = "cannot_go_back"
	// MsgAfterHandoff answers a tenant who writes after the handoff.
	MsgAfterHandoff = "after_handoff"
	// MsgHandedOffEarly replaces the handoff step's text when the tenant
	// sent OFFICER before finishing: it must not promise "the way you
	// asked", which was never asked.
	MsgHandedOffEarly = "handed_off_early"
	// MsgAreaUnknown asks once more for the area when an answer named no
	// place, postcode or menu number.
	MsgAreaUnknown = "area_unknown"
	// MsgAreaFallback says the national numbers follow because the area
	// was not found twice: never a silent fallback.
	MsgAreaFallback = "area_fallback"
	// MsgErased answers DELETE: what was deleted, and what is kept (a
	// count with nothing about the tenant). The tenant asked, so it is
	// not unsolicited; like every text, its start must be neutral.
	MsgErased = "erased"
	// MsgAttachment answers a message that came with a picture or other
	// file, which safecontact cannot receive and does not keep: it says so,
	// and what to do instead (put it in words, or tell the officer). It
	// is required, not optional: a flow without it would leave a tenant
	// who risked sending a photo, perhaps of an injury, believing that
	// officers had it, and silence is the unsafe default. A missing text
	// is a start-up error naming the file, as for every other message.
	MsgAttachment = "attachment"
)

// MsgTextOnly, when the flow has it, follows the emergency reply to a
// sender who cannot be texted back (WhatsApp): it asks them to text from
// their phone. Not required: without it they get the emergency reply
// alone.
const MsgTextOnly = "text_only"

// RequiredMessages lists the Messages every flow must define.
var RequiredMessages = []string{
	MsgEmergency, MsgNotUnderstood, MsgNumbers, MsgAreaChoice,
	MsgCannotGoBack, MsgAfterHandoff, MsgHandedOffEarly, MsgSummary,
	MsgAreaUnknown, MsgAreaFallback, MsgErased, MsgAttachment,
}

// Step is one question of the intake, or an end.
type Step struct {
	ID   string
	Kind StepKind
	// Ask is the prompt sent on arrival at the step.
	Ask Text
	// Variants replace Ask when their answers match, so a question fits
	// who is writing ("Is it safe for them to stay?" to someone reporting
	// for another person). The first that matches wins.
	Variants []Variant
	// OfficersOnly keeps the answer out of the summary the tenant checks
	// before sending (it is on the officers' case): "In danger now: Yes"
	// need not be on the screen again.
	OfficersOnly bool
	// LanguageAnswer makes a language's name an answer at this step
	// ("Welsh" to "do you need an interpreter?"), not a switch of the
	// conversation's language.
	LanguageAnswer bool
	// Label names the answer in the summary ("Children at home").
	Label Text
	// Options are the answers a choice or confirm step accepts, matched by
	// number (1, 2, …) or by their words.
	Options []*Option
	// Next is where a text or area answer leads, and where a choice leads
	// when its option names no next.
	Next string
	// Skip is where SKIP leads; Next when empty.
	Skip string
	// Edit makes this step a "change an answer" menu: after the chosen step
	// is answered again, the tenant returns to Edit (the confirm step).
	Edit string
	// Handoff hands the case to an officer on arrival (end steps).
	Handoff bool
	// Restart makes a new message after this end start the intake again.
	Restart bool
	// Numbers sends the support numbers for the tenant's area after the
	// prompt (24-hour services first out of hours).
	Numbers bool
	// Private keeps the answer off shared places: the officers' channel
	// shows it only to the officer who claimed the case, on request (how
	// and when it is safe to contact the tenant, which may hold a number).
	Private bool
	// Source cites the policy the step comes from, for the officer guide.
	Source string
	// File and Line locate the step in its YAML file, for errors.
	File string
	Line int
}

// Option is one answer a step accepts.
type Option struct {
	// ID is the answer recorded ("yes", "no", "self").
	ID string
	// Means names a vocabulary set of Words.Sets ("yes", "no") whose words
	// choose this option.
	Means string
	// Words are further words that choose this option, by language.
	Words map[string][]string
	// Label is how the answer reads in the summary.
	Label Text
	// Next is where the option leads; the step's Next when empty.
	Next string
	// Reply is sent when the option is chosen, before the next question.
	Reply Text
	// Emergency sends the emergency reply and pauses the intake until the
	// tenant writes again.
	Emergency bool
	// Numbers sends the support numbers for the tenant's area.
	Numbers bool
	// Action is what the policy asks of the officer when this answer is
	// given ("make the safeguarding referral the same day"): shown on the
	// case, never to the tenant.
	Action string
	Line   int
}

// Words is one language's vocabulary. All words are compared after
// normalisation (see Normalize).
type Words struct {
	Exit    []string // quick exit: "exit", "x"
	OptOut  []string // carrier opt-out words: "stop", "unsubscribe", …
	Erase   []string // "delete"
	Help    []string // numbers again
	Skip    []string
	Back    []string
	Officer []string // hand off now
	// Greeting words ("hi", "is anyone there") answer nothing: the
	// current question is asked again, without "sorry".
	Greeting []string
	// Danger words get the emergency reply when they are the whole message;
	// DangerPhrases get it wherever they appear in a message.
	Danger        []string
	DangerPhrases []string
	// Risk words in free text raise the priority to high. A word matches
	// any word of the text that starts with it ("strangl" matches
	// "strangled").
	Risk []string
	// Sets are named vocabularies options refer to by Means.
	Sets map[string][]string
	// Days (Sunday first) and Months (January first) name dates in quoted
	// deadlines.
	Days   []string
	Months []string
	// AM and PM follow the hour in quoted times ("3pm").
	AM, PM string
}

// Variant is a step's question for the conversations whose answers match
// When (step id → option id).
type Variant struct {
	When map[string]string
	Ask  Text
	Line int
}

// Signpost is a service a tenant's own words call for: when a message
// contains one of Words (in any language, as whole words after
// Normalize), Say and the lines of Services are sent once, and the
// officer's card lists Label.
type Signpost struct {
	ID       string
	Words    map[string][]string
	Say      Text
	Services []string
	// Label names the signposting on the case, for officers.
	Label string
	Line  int
}

// PriorityRule raises the priority to Priority when every answer in When
// matches (step id → option id).
type PriorityRule struct {
	Priority Priority
	When     map[string]string
	Line     int
}

// Step returns the step with the id, or nil.
func (f *Flow) Step(id string) *Step {
	if f.steps == nil {
		f.index()
	}
	return f.steps[id]
}

func (f *Flow) index() {
	f.steps = make(map[string]*Step, len(f.Steps))
	for _, s := range f.Steps {
		f.steps[s.ID] = s
	}
}

// HandoffStep returns the step that hands the case to an officer.
func (f *Flow) HandoffStep() *Step {
	for _, s := range f.Steps {
		if s.Handoff {
			return s
		}
	}
	return nil
}

// DefaultLang is the flow's first language.
func (f *Flow) DefaultLang() string {
	if len(f.Languages) == 0 {
		return "en"
	}
	return f.Languages[0]
}
