package flows

import (
	"slices"

	"github.com/safecontact/safecontact/bot"
)

// checkDuties checks the duties against each other and the intake, and
// gives each step rule the labels it matches in a case summary.
func checkDuties(p *problems, ds []*Duty, fl *bot.Flow) {
	byID := map[string]*Duty{}
	var repairs *Duty
	for _, d := range ds {
		if d.ID != "" {
			if first := byID[d.ID]; first != nil {
				p.errorf(d.Line, "duty %q is defined twice (first on line %d)", d.ID, first.Line)
			} else {
				byID[d.ID] = d
			}
		}
		if d.Repairs {
			if repairs != nil {
				p.errorf(d.Line, "duty %s: duty %s (line %d) already has \"repairs: true\": only one duty's request goes to the repairs channel", d.ID, repairs.ID, repairs.Line)
			} else {
				repairs = d
			}
		}
	}
	for _, d := range ds {
		what := "duty " + d.ID
		for i := range d.When {
			t := &d.When[i]
			switch t.Kind {
			case TriggerScore, TriggerJudgement:
				a := byID[t.After]
				switch {
				case a == nil:
					p.errorf(t.Line, "%s: when: after: unknown duty %q", what, t.After)
				case a == d:
					p.errorf(t.Line, "%s: when: after: a duty cannot follow itself", what)
				case a.Records != RecordScore:
					p.errorf(t.Line, "%s: when: after: duty %s records no score: name a duty with \"records: %s\"", what, a.ID, RecordScore)
				}
			case TriggerOption, TriggerAnswered:
				// With no steps the intake did not load; its own
				// problems say why.
				if fl != nil && len(fl.Steps) > 0 {
					checkStepTrigger(p, t, fl, what)
				}
			}
		}
	}
}

// checkStepTrigger checks a step rule against the intake and sets the
// labels it matches. A case summary shows a step only when it has a label,
// and an answer by its option's label: so the step needs a label, and
// the option labels that no other option of the step shares.
func checkStepTrigger(p *problems, t *Trigger, fl *bot.Flow, what string) {
	s := fl.Step(t.Step)
	if s == nil {
		p.errorf(t.Line, "%s: when: unknown step %q (see %s)", what, t.Step, IntakeFile)
		return
	}
	if s.Label == nil {
		p.errorf(t.Line, "%s: when: step %s has no label, so its answer is not on the case: give it one in %s", what, s.ID, IntakeFile)
	}
	switch t.Kind {
	case TriggerOption:
		o := s.Option(t.Option)
		if o == nil {
			p.errorf(t.Line, "%s: when: step %s has no option %q", what, s.ID, t.Option)
			return
		}
		def := fl.DefaultLang()
		if o.Label[def] == "" {
			p.errorf(t.Line, "%s: when: step %s: option %s has no %s label, which the case shows: give it one in %s", what, s.ID, o.ID, def, IntakeFile)
			return
		}
		for _, other := range s.Options {
			if other == o {
				continue
			}
			for _, l := range labels(o) {
				if slices.Contains(labels(other), l) {
					p.errorf(t.Line, "%s: when: step %s: options %s and %s share the label %q, so the case cannot tell them apart", what, s.ID, o.ID, other.ID, l)
					return
				}
			}
		}
		t.labels = labels(o)
	case TriggerAnswered:
		if s.Kind != bot.KindText {
			p.errorf(t.Line, "%s: when: answered is for text steps, and step %s is a %s step: use option", what, s.ID, s.Kind)
			return
		}
		t.labels = nil
		for _, o := range s.Options {
			t.labels = append(t.labels, labels(o)...)
		}
	}
}

// labels returns an option's labels in every language, without blanks.
func labels(o *bot.Option) []string {
	var out []string
	for _, l := range o.Label {
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	slices.Sort(out)
	return out
}
