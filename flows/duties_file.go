package flows

import (
	"io/fs"
	"regexp"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
)

// DutiesFile holds the officers' duties.
const DutiesFile = "duties.yaml"

// DutiesVersion is the newest duties.yaml version this safecontact
// understands; a newer file is refused at load.
const DutiesVersion = 1

// MaxDutyTitle is the longest a duty's title may be: a Slack checkbox
// label holds 75 characters.
const MaxDutyTitle = 75

// LoadDuties reads the officers' duties from file in fsys and checks them
// against the intake fl: every step rule must name a step of fl, and an
// option it has. The returned Problems name file and line; the duties are
// only fit to use when Problems.Errors is empty.
//
// The file (flows/default/duties.yaml):
//
//	version: 1
//	duties:
//	  - id: dash
//	    title: "DASH risk assessment"
//	    detail: "Complete the DASH risk checklist with the tenant."
//	    source: "seed 001 §3.1"
//	    due: {working: 1d}         # or {working: 4h}, {clock: 24h},
//	                               # {end_of_day: true}, {before_closing: true}
//	    when: always               # or officer, or a rule, or a list of them
//	    records: score             # the officer records the DASH score
//	  - id: marac
//	    title: "MARAC referral"
//	    source: "seed 001 §7.0"
//	    due: {working: 1d}
//	    when:                      # any one of these
//	      - {after: dash, score_at_least: 14}
//	      - {after: dash, judgement: true}
//	  - id: children_referral
//	    title: "Children's safeguarding referral"
//	    source: "seed 001 §3.0 6"
//	    due: {end_of_day: true}
//	    when: {step: children, option: "yes"}
//	  - id: security_repairs
//	    title: "Security repairs request"
//	    source: "seed 003"
//	    due: {clock: 24h}
//	    when: {step: security, answered: true}
//	    repairs: true              # the request goes to the repairs channel
//	  - id: perpetrator_caution
//	    title: "A perpetrator may pose as the victim"
//	    source: "seed 001 §5.0"
//	    reminder: true             # a standing note: no due
//	    when: always
func LoadDuties(fsys fs.FS, file string, fl *bot.Flow) ([]*Duty, Problems) {
	p := &problems{file: file}
	ds := readDuties(p, readFile(fsys, p, file))
	checkDuties(p, ds, fl)
	return ds, p.list
}

var dutyIDRE = regexp.MustCompile(`^[a-z][a-z0-9_]*$`)

// readDuties reads duties.yaml, reporting what is wrong with each duty on
// its own; checkDuties then checks the duties against each other and the
// intake.
func readDuties(p *problems, data []byte) []*Duty {
	if data == nil {
		return nil
	}
	root := p.parse(data)
	if root == nil {
		return nil
	}
	f := p.fields(root, "duties file", "version", "duties")
	p.version(f["version"], DutiesVersion)
	if f["duties"] == nil {
		p.errorf(root.Line, "no duties: list what the policies ask of officers under \"duties\"")
	}
	var out []*Duty
	for _, n := range p.items(f["duties"], "duties") {
		out = append(out, readDuty(p, n))
	}
	return out
}

func readDuty(p *problems, n *yaml.Node) *Duty {
	d := &Duty{Line: n.Line}
	f := p.fields(n, "duty", "id", "title", "detail", "source", "due", "when", "records", "repairs", "reminder")
	d.ID = p.str(f["id"], "duty id")
	what := "duty " + d.ID
	switch {
	case d.ID == "":
		p.errorf(n.Line, "duty with no id")
		what = "duty"
	case !dutyIDRE.MatchString(d.ID):
		p.errorf(f["id"].Line, "duty %q: an id is lower-case letters, digits and _", d.ID)
	}
	d.Title = p.str(f["title"], what+": title")
	switch {
	case d.Title == "":
		p.errorf(n.Line, "%s: no title: give the officer's words for it, like \"MARAC referral\"", what)
	case len([]rune(d.Title)) > MaxDutyTitle:
		p.errorf(f["title"].Line, "%s: title is %d characters; the most is %d: put the rest in detail", what, len([]rune(d.Title)), MaxDutyTitle)
	}
	d.Detail = p.str(f["detail"], what+": detail")
	d.Source = p.str(f["source"], what+": source")
	if d.Source == "" {
		p.errorf(n.Line, "%s: no source: name the policy and section it comes from, like \"seed 001 §3.0 6\"", what)
	}
	d.Reminder = p.boolean(f["reminder"], what+": reminder")
	d.Repairs = p.boolean(f["repairs"], what+": repairs")
	switch r := Record(p.str(f["records"], what+": records")); r {
	case RecordNothing, RecordScore:
		d.Records = r
	default:
		p.errorf(f["records"].Line, "%s: records: unknown %q: want %s, or leave it out", what, r, RecordScore)
	}
	switch {
	case d.Reminder && f["due"] != nil:
		p.errorf(f["due"].Line, "%s: a reminder has no due: remove \"due\" or \"reminder\"", what)
	case d.Reminder:
	case f["due"] == nil:
		p.errorf(n.Line, "%s: no due: say how long officers have, like \"due: {working: 1d}\", or make it \"reminder: true\"", what)
	default:
		d.Due = readDue(p, f["due"], what)
	}
	if d.Reminder && (d.Records != RecordNothing || d.Repairs) {
		p.errorf(n.Line, "%s: a reminder is not ticked off: it can have no records or repairs", what)
	}
	d.When = readWhen(p, f["when"], n.Line, what)
	return d
}

// lengthRE matches a due length: a whole number and d, h or m.
var lengthRE = regexp.MustCompile(`^([1-9][0-9]*) ?(d|h|m)$`)

// readDue reads one of {working: 1d}, {clock: 24h}, {end_of_day: true}
// and {before_closing: true}.
func readDue(p *problems, n *yaml.Node, what string) Due {
	want := "want one of working, clock, end_of_day or before_closing, like \"due: {working: 1d}\""
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		p.errorf(n.Line, "%s: due: %s", what, want)
		return Due{}
	}
	k, v := n.Content[0], n.Content[1]
	switch kind := DueKind(k.Value); kind {
	case DueWorking, DueClock:
		s := p.str(v, what+": due")
		m := lengthRE.FindStringSubmatch(s)
		if m == nil {
			p.errorf(v.Line, "%s: due: %s: %q is not a length like 1d, 4h or 30m", what, kind, s)
			return Due{}
		}
		num, _ := strconv.Atoi(m[1])
		d := Due{Kind: kind}
		switch {
		case m[2] == "d" && kind == DueWorking:
			d.Days = num
		case m[2] == "d":
			d.Length = time.Duration(num) * 24 * time.Hour
		case m[2] == "h":
			d.Length = time.Duration(num) * time.Hour
		default:
			d.Length = time.Duration(num) * time.Minute
		}
		return d
	case DueEndOfDay, DueBeforeClosing:
		if v.Kind != yaml.ScalarNode || v.Value != "true" {
			p.errorf(v.Line, "%s: due: want \"%s: true\"", what, kind)
			return Due{}
		}
		return Due{Kind: kind}
	}
	p.errorf(k.Line, "%s: due: unknown %q: %s", what, k.Value, want)
	return Due{}
}

// readWhen reads a duty's "when": always, officer, a rule, or a list of
// them, any one of which calls for the duty.
func readWhen(p *problems, n *yaml.Node, line int, what string) []Trigger {
	if n == nil {
		p.errorf(line, "%s: no when: say what calls for it, like \"when: always\"", what)
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		if t, ok := readTrigger(p, n, what); ok {
			return []Trigger{t}
		}
		return nil
	}
	if len(n.Content) == 0 {
		p.errorf(n.Line, "%s: when: an empty list: say what calls for it, like \"when: always\"", what)
	}
	var out []Trigger
	for _, c := range n.Content {
		t, ok := readTrigger(p, c, what)
		if !ok {
			continue
		}
		if t.Kind == TriggerAlways && len(n.Content) > 1 {
			p.errorf(c.Line, "%s: when: \"always\" stands alone: a list is for rules any one of which calls for the duty", what)
		}
		out = append(out, t)
	}
	return out
}

// readTrigger reads one rule of "when".
func readTrigger(p *problems, n *yaml.Node, what string) (Trigger, bool) {
	t := Trigger{Line: n.Line}
	if n.Kind == yaml.ScalarNode {
		switch k := TriggerKind(n.Value); k {
		case TriggerAlways, TriggerOfficer:
			t.Kind = k
			return t, true
		}
		p.errorf(n.Line, "%s: when: unknown %q: want always, officer, or a rule like {step: children, option: \"yes\"}", what, n.Value)
		return t, false
	}
	f := p.fields(n, what+": when", "step", "option", "answered", "after", "score_at_least", "judgement")
	switch {
	case f["step"] != nil && f["after"] != nil:
		p.errorf(n.Line, "%s: when: a rule has a step or an after, not both: write two rules in a list", what)
		return t, false
	case f["step"] != nil:
		t.Step = p.str(f["step"], what+": when: step")
		if f["score_at_least"] != nil || f["judgement"] != nil {
			p.errorf(n.Line, "%s: when: score_at_least and judgement go with after, not step", what)
			return t, false
		}
		switch {
		case f["option"] != nil && f["answered"] != nil:
			p.errorf(n.Line, "%s: when: step %s: want option or answered, not both", what, t.Step)
			return t, false
		case f["option"] != nil:
			t.Kind = TriggerOption
			t.Option = p.str(f["option"], what+": when: option")
		case f["answered"] != nil && f["answered"].Value == "true":
			t.Kind = TriggerAnswered
		default:
			p.errorf(n.Line, "%s: when: step %s: want option: <id> or answered: true", what, t.Step)
			return t, false
		}
		return t, true
	case f["after"] != nil:
		t.After = p.str(f["after"], what+": when: after")
		if f["option"] != nil || f["answered"] != nil {
			p.errorf(n.Line, "%s: when: option and answered go with step, not after", what)
			return t, false
		}
		switch {
		case f["score_at_least"] != nil && f["judgement"] != nil:
			p.errorf(n.Line, "%s: when: after %s: want score_at_least or judgement, not both: write two rules in a list", what, t.After)
			return t, false
		case f["score_at_least"] != nil:
			t.Kind = TriggerScore
			s := f["score_at_least"]
			score, err := strconv.Atoi(p.str(s, what+": when: score_at_least"))
			if err != nil || score < 1 || score > MaxScore {
				p.errorf(s.Line, "%s: when: score_at_least: want a whole number from 1 to %d, not %q", what, MaxScore, s.Value)
				return t, false
			}
			t.Score = score
		case f["judgement"] != nil && f["judgement"].Value == "true":
			t.Kind = TriggerJudgement
		default:
			p.errorf(n.Line, "%s: when: after %s: want score_at_least: <ticks> or judgement: true", what, t.After)
			return t, false
		}
		return t, true
	}
	if n.Kind == yaml.MappingNode {
		p.errorf(n.Line, "%s: when: a rule needs a step or an after, like {step: children, option: \"yes\"}", what)
	}
	return t, false
}
