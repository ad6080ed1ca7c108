package flows

import (
	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
)

// wordsFile is words.yaml read: each language's vocabulary and the words
// that switch language.
type wordsFile struct {
	parsed bool
	words  map[string]*bot.Words
	lines  map[string]int // language → line
	// switchTo maps a language to the words that switch to it.
	switchTo map[string][]string
	// switchLines maps a language of switchTo to its line.
	switchLines map[string]int
}

func readWords(p *problems, data []byte) *wordsFile {
	wf := &wordsFile{words: map[string]*bot.Words{}, lines: map[string]int{}, switchTo: map[string][]string{}, switchLines: map[string]int{}}
	root := p.parse(data)
	if root == nil {
		return wf
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "words: want a mapping of languages to words")
		return wf
	}
	wf.parsed = true
	var version *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "version":
			version = v
		case "switch":
			if v.Kind != yaml.MappingNode {
				p.errorf(v.Line, "switch: want a list of words for each language")
				continue
			}
			for j := 0; j+1 < len(v.Content); j += 2 {
				lang := v.Content[j].Value
				wf.switchTo[lang] = p.strs(v.Content[j+1], "switch")
				wf.switchLines[lang] = v.Content[j].Line
			}
		default:
			wf.lines[k.Value] = k.Line
			wf.words[k.Value] = wf.language(p, k.Value, v)
		}
	}
	p.version(version, bot.FlowVersion)
	return wf
}

func (wf *wordsFile) language(p *problems, lang string, n *yaml.Node) *bot.Words {
	what := "words " + lang
	f := p.fields(n, what, "exit", "opt_out", "erase", "help", "skip", "back", "officer", "greeting",
		"danger", "danger_phrases", "risk", "sets", "days", "months", "am", "pm")
	w := &bot.Words{
		Exit:          p.strs(f["exit"], what+": exit"),
		OptOut:        p.strs(f["opt_out"], what+": opt_out"),
		Erase:         p.strs(f["erase"], what+": erase"),
		Help:          p.strs(f["help"], what+": help"),
		Skip:          p.strs(f["skip"], what+": skip"),
		Back:          p.strs(f["back"], what+": back"),
		Officer:       p.strs(f["officer"], what+": officer"),
		Greeting:      p.strs(f["greeting"], what+": greeting"),
		Danger:        p.strs(f["danger"], what+": danger"),
		DangerPhrases: p.strs(f["danger_phrases"], what+": danger_phrases"),
		Risk:          p.strs(f["risk"], what+": risk"),
		Days:          p.strs(f["days"], what+": days"),
		Months:        p.strs(f["months"], what+": months"),
		AM:            p.str(f["am"], what+": am"),
		PM:            p.str(f["pm"], what+": pm"),
		Sets:          map[string][]string{},
	}
	if sn := f["sets"]; sn != nil {
		if sn.Kind != yaml.MappingNode {
			p.errorf(sn.Line, "%s: sets: want a list of words for each set name", what)
		} else {
			for i := 0; i+1 < len(sn.Content); i += 2 {
				name := sn.Content[i].Value
				w.Sets[name] = p.strs(sn.Content[i+1], what+": sets: "+name)
			}
		}
	}
	for key, want := range map[string]int{"days": 7, "months": 12} {
		if n := f[key]; n != nil && len(n.Content) != want {
			p.errorf(n.Line, "%s: %s: want %d names, found %d", what, key, want, len(n.Content))
		}
	}
	return w
}
