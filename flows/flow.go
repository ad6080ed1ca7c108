package flows

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
)

// The files of a flow.
const (
	IntakeFile = "intake.yaml"
	WordsFile  = "words.yaml"
)

// textRef is one translated text of a flow file, remembered with where each
// translation stands so checks can name the line.
type textRef struct {
	what  string // "step danger: ask"
	text  bot.Text
	file  string
	line  int            // the mapping's line
	lines map[string]int // language → line of its value
	// prompt is set on texts sent to a tenant as they are (checked for
	// length and lock-screen words); labels are not.
	prompt bool
	// id names the text in lock_screen_exempt: "message emergency",
	// "step danger", "option home_safe no".
	id string
}

// flowFile is an intake file read into a bot.Flow, with what the checks
// need to report lines.
type flowFile struct {
	flow  *bot.Flow
	texts []textRef
	// means records each option's vocabulary reference with its line.
	means []optionRef
	// startLine and langLine are the lines of "start" and "languages".
	startLine int
	langLine  int
	// exempt lists the texts, by id, that answer the tenant's own words of
	// danger: the quiet words may lead them. exemptLines has each one's
	// line.
	exempt      []string
	exemptLines map[string]int
	// parsed is false when the file could not be read as YAML; nothing
	// more is checked then.
	parsed bool
}

type optionRef struct {
	step *bot.Step
	opt  *bot.Option
}

// readFlow reads intake.yaml.
func readFlow(p *problems, data []byte) *flowFile {
	ff := &flowFile{flow: &bot.Flow{Messages: map[string]bot.Text{}}}
	root := p.parse(data)
	if root == nil {
		return ff
	}
	ff.parsed = true
	f := p.fields(root, "flow", "version", "name", "start", "languages", "landlord", "messages", "steps", "priority",
		"quiet_words", "lock_screen_exempt", "signposts")
	p.version(f["version"], bot.FlowVersion)
	fl := ff.flow
	fl.Version = bot.FlowVersion
	fl.Name = p.str(f["name"], "name")
	fl.Start = p.str(f["start"], "start")
	fl.Languages = p.strs(f["languages"], "languages")
	// The landlord's name may be one string for every language or a text
	// per language.
	if n := f["landlord"]; n != nil && n.Kind == yaml.ScalarNode {
		name := p.str(n, "landlord")
		fl.Landlord = bot.Text{}
		for _, lang := range fl.Languages {
			fl.Landlord[lang] = name
		}
	} else {
		fl.Landlord = ff.text(p, n, "landlord", false)
	}
	if n := f["start"]; n != nil {
		ff.startLine = n.Line
	}
	if n := f["languages"]; n != nil {
		ff.langLine = n.Line
	}
	if n := f["messages"]; n != nil {
		if n.Kind != yaml.MappingNode {
			p.errorf(n.Line, "messages: want a mapping of message names to texts")
		} else {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				fl.Messages[k.Value] = ff.named(p, v, "message "+k.Value, "message "+k.Value)
			}
		}
	}
	for _, n := range p.items(f["steps"], "steps") {
		fl.Steps = append(fl.Steps, ff.step(p, n))
	}
	for _, n := range p.items(f["priority"], "priority") {
		fl.Rules = append(fl.Rules, ff.rule(p, n))
	}
	fl.QuietWords = p.strs(f["quiet_words"], "quiet_words")
	ff.exemptLines = map[string]int{}
	for _, n := range p.items(f["lock_screen_exempt"], "lock_screen_exempt") {
		id := p.str(n, "lock_screen_exempt")
		ff.exempt = append(ff.exempt, id)
		ff.exemptLines[id] = n.Line
	}
	for _, n := range p.items(f["signposts"], "signposts") {
		fl.Signposts = append(fl.Signposts, ff.signpost(p, n))
	}
	return ff
}

// named reads a text sent to a tenant, giving it its id for
// lock_screen_exempt.
func (ff *flowFile) named(p *problems, n *yaml.Node, what, id string) bot.Text {
	before := len(ff.texts)
	t := ff.text(p, n, what, true)
	if len(ff.texts) > before {
		ff.texts[before].id = id
	}
	return t
}

// signpost reads one entry of signposts.
func (ff *flowFile) signpost(p *problems, n *yaml.Node) *bot.Signpost {
	sp := &bot.Signpost{Line: n.Line}
	f := p.fields(n, "signpost", "id", "label", "words", "say", "services")
	sp.ID = p.str(f["id"], "signpost id")
	what := "signpost " + sp.ID
	sp.Label = p.str(f["label"], what+": label")
	sp.Say = ff.named(p, f["say"], what+": say", what)
	sp.Services = p.strs(f["services"], what+": services")
	if wn := f["words"]; wn != nil {
		sp.Words = map[string][]string{}
		if wn.Kind != yaml.MappingNode {
			p.errorf(wn.Line, "%s: words: want a list of words for each language", what)
		} else {
			for i := 0; i+1 < len(wn.Content); i += 2 {
				sp.Words[wn.Content[i].Value] = p.strs(wn.Content[i+1], what+": words")
			}
		}
	}
	return sp
}

// text reads a mapping of language to text.
func (ff *flowFile) text(p *problems, n *yaml.Node, what string, prompt bool) bot.Text {
	if n == nil {
		return nil
	}
	t := bot.Text{}
	ref := textRef{what: what, text: t, file: p.file, line: n.Line, lines: map[string]int{}, prompt: prompt}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a text for each language, like {en: \"...\", cy: \"...\"}", what)
		return t
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t[k.Value] = p.str(v, what)
		ref.lines[k.Value] = v.Line
	}
	ff.texts = append(ff.texts, ref)
	return t
}

func (ff *flowFile) step(p *problems, n *yaml.Node) *bot.Step {
	s := &bot.Step{File: p.file, Line: n.Line}
	f := p.fields(n, "step", "id", "kind", "source", "ask", "variants", "label", "options", "next", "skip", "edit",
		"handoff", "restart", "numbers", "private", "officers_only", "language_answer")
	s.ID = p.str(f["id"], "step id")
	what := "step " + s.ID
	s.Kind = bot.StepKind(p.str(f["kind"], what+": kind"))
	s.Source = p.str(f["source"], what+": source")
	s.Ask = ff.named(p, f["ask"], what+": ask", what)
	for _, vn := range p.items(f["variants"], what+": variants") {
		s.Variants = append(s.Variants, ff.variant(p, vn, what))
	}
	s.OfficersOnly = p.boolean(f["officers_only"], what+": officers_only")
	s.LanguageAnswer = p.boolean(f["language_answer"], what+": language_answer")
	s.Label = ff.text(p, f["label"], what+": label", false)
	s.Next = p.str(f["next"], what+": next")
	s.Skip = p.str(f["skip"], what+": skip")
	s.Edit = p.str(f["edit"], what+": edit")
	s.Handoff = p.boolean(f["handoff"], what+": handoff")
	s.Restart = p.boolean(f["restart"], what+": restart")
	s.Numbers = p.boolean(f["numbers"], what+": numbers")
	s.Private = p.boolean(f["private"], what+": private")
	for _, on := range p.items(f["options"], what+": options") {
		o := ff.option(p, on, what)
		s.Options = append(s.Options, o)
		if o.Means != "" {
			ff.means = append(ff.means, optionRef{step: s, opt: o})
		}
	}
	return s
}

func (ff *flowFile) option(p *problems, n *yaml.Node, step string) *bot.Option {
	o := &bot.Option{Line: n.Line}
	f := p.fields(n, step+": option", "id", "means", "words", "label", "next", "reply", "emergency", "numbers", "action")
	o.ID = p.str(f["id"], step+": option id")
	what := fmt.Sprintf("%s: option %s", step, o.ID)
	o.Means = p.str(f["means"], what+": means")
	o.Next = p.str(f["next"], what+": next")
	o.Label = ff.text(p, f["label"], what+": label", false)
	o.Reply = ff.named(p, f["reply"], what+": reply", fmt.Sprintf("option %s %s", strings.TrimPrefix(step, "step "), o.ID))
	o.Emergency = p.boolean(f["emergency"], what+": emergency")
	o.Numbers = p.boolean(f["numbers"], what+": numbers")
	o.Action = p.str(f["action"], what+": action")
	if wn := f["words"]; wn != nil {
		o.Words = map[string][]string{}
		if wn.Kind != yaml.MappingNode {
			p.errorf(wn.Line, "%s: words: want a list of words for each language", what)
		} else {
			for i := 0; i+1 < len(wn.Content); i += 2 {
				o.Words[wn.Content[i].Value] = p.strs(wn.Content[i+1], what+": words")
			}
		}
	}
	return o
}

// variant reads one of a step's variants: the answers it is for, and its
// question.
func (ff *flowFile) variant(p *problems, n *yaml.Node, step string) bot.Variant {
	v := bot.Variant{Line: n.Line, When: map[string]string{}}
	f := p.fields(n, step+": variant", "when", "ask")
	when := f["when"]
	if when == nil || when.Kind != yaml.MappingNode || len(when.Content) == 0 {
		p.errorf(n.Line, "%s: variant: want \"when\" with at least one step: answer", step)
	} else {
		for i := 0; i+1 < len(when.Content); i += 2 {
			v.When[when.Content[i].Value] = p.str(when.Content[i+1], step+": variant: when")
		}
	}
	v.Ask = ff.named(p, f["ask"], step+": variant: ask", step)
	return v
}

func (ff *flowFile) rule(p *problems, n *yaml.Node) bot.PriorityRule {
	r := bot.PriorityRule{Line: n.Line, When: map[string]string{}}
	f := p.fields(n, "priority rule", "priority", "when")
	pr, err := bot.ParsePriority(p.str(f["priority"], "priority rule: priority"))
	if err != nil {
		p.errorf(n.Line, "priority rule: %v", err)
	}
	r.Priority = pr
	when := f["when"]
	if when == nil || when.Kind != yaml.MappingNode || len(when.Content) == 0 {
		p.errorf(n.Line, "priority rule: want \"when\" with at least one step: answer")
		return r
	}
	for i := 0; i+1 < len(when.Content); i += 2 {
		r.When[when.Content[i].Value] = p.str(when.Content[i+1], "priority rule: when")
	}
	return r
}
