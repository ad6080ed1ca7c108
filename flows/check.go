package flows

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// placeholderRE finds {placeholders} in prompts.
var placeholderRE = regexp.MustCompile(`\{[a-z_]+\}`)

// expander fills placeholders with their longest likely values, so a
// prompt's length is checked as a tenant will receive it.
type expander struct {
	landlord bot.Text
	areas    func(lang string) string // the area menu
	words    map[string]*bot.Words
}

// longestDeadline is the longest quoted deadline in the language: a
// Wednesday in September at 12:30pm, or the like.
func (x expander) longestDeadline(lang string) string {
	longest := ""
	start := time.Date(2026, 1, 1, 12, 30, 0, 0, time.UTC)
	for d := 0; d < 366; d++ {
		s := bot.FormatDeadline(start.AddDate(0, 0, d), x.words[lang])
		if len(s) > len(longest) {
			longest = s
		}
	}
	return longest
}

func (x expander) expand(s, lang string) string {
	s = strings.ReplaceAll(s, bot.PlaceholderLandlord, x.landlord[lang])
	s = strings.ReplaceAll(s, bot.PlaceholderDeadline, x.longestDeadline(lang))
	if x.areas != nil {
		s = strings.ReplaceAll(s, bot.PlaceholderAreas, x.areas(lang))
	}
	return s
}

// checkFlow reports every problem of a flow and its words. Problems of the
// intake file go to ip, of the words file to wp.
func checkFlow(ff *flowFile, wf *wordsFile, ip, wp *problems, x expander) {
	fl := ff.flow
	langs := fl.Languages
	if len(langs) == 0 {
		ip.errorf(ff.langLine, "no languages: add \"languages: [en]\"")
	}
	for _, l := range langs {
		if wf.words[l] == nil {
			ip.errorf(ff.langLine, "language %q has no words in %s", l, WordsFile)
		}
	}
	for l, line := range wf.lines {
		if !slices.Contains(langs, l) {
			wp.errorf(line, "%q is not one of the flow's languages %v", l, langs)
		}
	}
	for l, line := range wf.switchLines {
		if !slices.Contains(langs, l) {
			wp.errorf(line, "switch: %q is not one of the flow's languages %v", l, langs)
		}
	}
	if fl.Name == "" {
		ip.errorf(0, "no name: add \"name: intake\"")
	}
	for _, key := range bot.RequiredMessages {
		if fl.Messages[key] == nil {
			ip.errorf(0, "messages: no %q message", key)
		}
	}
	checkSteps(ff, ip)
	checkGraph(ff, ip)
	checkExempt(ff, ip)
	checkTexts(ff, ip, x)
	checkVariants(ff, ip)
	checkOptions(ff, wf, ip)
	checkRules(ff, ip)
	checkWords(wf, wp)
}

func checkSteps(ff *flowFile, p *problems) {
	fl := ff.flow
	seen := map[string]*bot.Step{}
	handoffs := 0
	for _, s := range fl.Steps {
		if s.ID == "" {
			p.errorf(s.Line, "step without an id")
			continue
		}
		if first := seen[s.ID]; first != nil {
			p.errorf(s.Line, "step %s: id already used at line %d", s.ID, first.Line)
		}
		seen[s.ID] = s
	}
	if fl.Start == "" {
		p.errorf(0, "no start: add \"start: <first step>\"")
	} else if seen[fl.Start] == nil {
		p.errorf(ff.startLine, "start: unknown step %q", fl.Start)
	}
	target := func(s *bot.Step, line int, key, id string) {
		if id != "" && seen[id] == nil {
			p.errorf(line, "step %s: %s: unknown target step %q", s.ID, key, id)
		}
	}
	for _, s := range fl.Steps {
		target(s, s.Line, "next", s.Next)
		target(s, s.Line, "skip", s.Skip)
		target(s, s.Line, "edit", s.Edit)
		for _, o := range s.Options {
			target(s, o.Line, "option "+o.ID+": next", o.Next)
		}
		if s.Ask == nil {
			p.errorf(s.Line, "step %s: no ask", s.ID)
		}
		switch s.Kind {
		case bot.KindChoice, bot.KindConfirm:
			if len(s.Options) == 0 {
				p.errorf(s.Line, "step %s: a %s step needs options", s.ID, s.Kind)
			}
			for _, o := range s.Options {
				if o.Next == "" && s.Next == "" {
					p.errorf(o.Line, "step %s: option %s leads nowhere: give it or its step a next", s.ID, o.ID)
				}
			}
		case bot.KindText, bot.KindArea:
			if s.Next == "" {
				p.errorf(s.Line, "step %s: a %s step needs a next", s.ID, s.Kind)
			}
		case bot.KindEnd:
			if s.Next != "" || s.Skip != "" || len(s.Options) > 0 {
				p.errorf(s.Line, "step %s: an end step has no next, skip or options", s.ID)
			}
		default:
			p.errorf(s.Line, "step %s: unknown kind %q (want choice, text, area, confirm or end)", s.ID, s.Kind)
		}
		if s.Handoff {
			handoffs++
			if s.Kind != bot.KindEnd {
				p.errorf(s.Line, "step %s: only an end step can hand off", s.ID)
			}
		}
		if s.Restart && s.Kind != bot.KindEnd {
			p.errorf(s.Line, "step %s: only an end step can restart", s.ID)
		}
		// Victim-led: every question can be skipped (DESIGN §3 rule 5).
		if (s.Kind == bot.KindChoice || s.Kind == bot.KindText || s.Kind == bot.KindArea) && s.Next == "" && s.Skip == "" {
			p.errorf(s.Line, "step %s: cannot be skipped: give it a next or a skip", s.ID)
		}
	}
	if handoffs != 1 {
		p.errorf(0, "want exactly one step with \"handoff: true\", found %d", handoffs)
	}
}

// checkGraph reports steps the start cannot reach and steps that cannot
// reach an end.
func checkGraph(ff *flowFile, p *problems) {
	fl := ff.flow
	edges := map[string][]string{}
	var handoff string
	for _, s := range fl.Steps {
		add := func(to string) {
			if to != "" {
				edges[s.ID] = append(edges[s.ID], to)
			}
		}
		add(s.Next)
		add(s.Skip)
		for _, o := range s.Options {
			add(o.Next)
		}
		if s.Restart {
			add(fl.Start)
		}
		if s.Handoff {
			handoff = s.ID
		}
	}
	reached := walk(fl.Start, func(id string) []string {
		// OFFICER hands off from every step.
		return append(slices.Clone(edges[id]), handoff)
	})
	for _, s := range fl.Steps {
		if s.ID != "" && !reached[s.ID] && fl.Start != "" {
			p.errorf(s.Line, "step %s: unreachable from start %q", s.ID, fl.Start)
		}
	}
	for _, s := range fl.Steps {
		if s.Kind == bot.KindEnd {
			continue
		}
		ends := false
		for id := range walk(s.ID, func(id string) []string { return edges[id] }) {
			if st := fl.Step(id); st != nil && st.Kind == bot.KindEnd {
				ends = true
				break
			}
		}
		if !ends {
			p.errorf(s.Line, "step %s: no way from here to an end step", s.ID)
		}
	}
}

// walk returns the ids reachable from start.
func walk(start string, next func(string) []string) map[string]bool {
	seen := map[string]bool{start: true}
	queue := []string{start}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		for _, n := range next(id) {
			if n != "" && !seen[n] {
				seen[n] = true
				queue = append(queue, n)
			}
		}
	}
	return seen
}

var knownPlaceholders = []string{bot.PlaceholderLandlord, bot.PlaceholderDeadline, bot.PlaceholderAreas}

// checkTexts reports missing translations, and prompts that are too long
// for two SMS segments or show a lock-screen word.
func checkTexts(ff *flowFile, p *problems, x expander) {
	langs := ff.flow.Languages
	for _, t := range ff.texts {
		for _, l := range langs {
			if _, ok := t.text[l]; !ok {
				p.errorf(t.line, "%s: missing %q translation", t.what, l)
			}
		}
		var extra []string
		for l := range t.text {
			if !slices.Contains(langs, l) {
				extra = append(extra, l)
			}
		}
		sort.Strings(extra)
		for _, l := range extra {
			p.errorf(t.lines[l], "%s: %q is not one of the flow's languages %v", t.what, l, langs)
		}
		for _, l := range langs {
			s, ok := t.text[l]
			if !ok {
				continue
			}
			line := t.lines[l]
			if strings.TrimSpace(s) == "" {
				p.errorf(line, "%s (%s): empty text", t.what, l)
				continue
			}
			for _, ph := range placeholderRE.FindAllString(s, -1) {
				if !slices.Contains(knownPlaceholders, ph) {
					p.errorf(line, "%s (%s): unknown placeholder %s (known: %s)", t.what, l, ph, strings.Join(knownPlaceholders, " "))
				}
			}
			if !t.prompt {
				continue
			}
			full := x.expand(s, l)
			if n, gsm := bot.Segments(full); n > bot.MaxSegments {
				p.errorf(line, "%s (%s): %s", t.what, l, tooLong(full, n, gsm))
			}
			if w, _ := bot.LockScreenWord(full); w != "" {
				p.errorf(line, "%s (%s): %q in the first %d characters, which a lock screen shows", t.what, l, w, bot.LockScreenChars)
			} else if w, _ := bot.LockScreenWord(full, ff.flow.QuietWords...); w != "" && !slices.Contains(ff.exempt, t.id) {
				p.errorf(line, "%s (%s): %q in the first %d characters, which a lock screen shows: lead with a neutral part, or list %q in lock_screen_exempt if it only ever answers the tenant's own words of danger",
					t.what, l, w, bot.LockScreenChars, t.id)
			}
		}
	}
}

// checkExempt reports entries of lock_screen_exempt that name no text.
func checkExempt(ff *flowFile, p *problems) {
	for _, id := range ff.exempt {
		found := false
		for _, t := range ff.texts {
			if t.id == id {
				found = true
				break
			}
		}
		if !found {
			p.errorf(ff.exemptLines[id], "lock_screen_exempt: %q names no text: write \"message <name>\", \"step <id>\", \"option <step> <option>\" or \"signpost <id>\"", id)
		}
	}
}

// checkVariants reports a step variant about an unknown step or answer.
func checkVariants(ff *flowFile, p *problems) {
	for _, s := range ff.flow.Steps {
		for _, v := range s.Variants {
			steps := make([]string, 0, len(v.When))
			for id := range v.When {
				steps = append(steps, id)
			}
			sort.Strings(steps)
			for _, id := range steps {
				w := ff.flow.Step(id)
				switch {
				case w == nil:
					p.errorf(v.Line, "step %s: variant: unknown step %q", s.ID, id)
				case w.Kind == bot.KindChoice && w.Option(v.When[id]) == nil:
					p.errorf(v.Line, "step %s: variant: step %s has no option %q", s.ID, id, v.When[id])
				}
			}
		}
	}
}

// tooLong explains a prompt over the segment budget.
func tooLong(s string, n int, gsm bool) string {
	if gsm {
		return fmt.Sprintf("%d characters take %d SMS segments; the most is %d (306 characters)", len([]rune(s)), n, bot.MaxSegments)
	}
	why := ""
	for _, r := range s {
		if !bot.GSM7(string(r)) {
			why = fmt.Sprintf(" (%q is outside the GSM-7 alphabet, so the whole message is sent as UCS-2)", r)
			break
		}
	}
	return fmt.Sprintf("%d characters take %d SMS segments%s; the most is %d (134 UCS-2 characters)", len([]rune(s)), n, why, bot.MaxSegments)
}
