package flows

import (
	"fmt"
	"slices"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
)

// DangerFile holds the danger lexicon: the phrases that signal danger in
// a tenant's own words, per language and category.
const DangerFile = "danger.yaml"

// dangerFile is danger.yaml read.
//
// The file, in short (flows/default/danger.yaml has the whole of it and
// explains the phrase syntax):
//
//	version: 1
//	en:
//	  shorthand: {hes: he is, u: you, cant: can not}
//	  not_danger: [kill time, not in danger]
//	  phrases:
//	    weapon: [knife/knives, gun/guns, bat]
//	    at_door: [he/she/they is/are here, at_the/my_door]
//	cy:
//	  welsh: true          # mutations, double letters, apostrophes
//	  phrases:
//	    weapon: [cyllell, =gwn]
//	    at_door: [mae e/o/hi/nhw yma]
type dangerFile struct {
	parsed bool
	words  map[string]bot.DangerWords
	// langLines maps a language to its line; catLines maps language and
	// category to the line of the category's key.
	langLines map[string]int
	catLines  map[string]map[string]int
	lexicon   *bot.DangerLexicon
}

// readDanger reads danger.yaml and compiles it, reporting every problem.
func readDanger(p *problems, data []byte) *dangerFile {
	df := &dangerFile{words: map[string]bot.DangerWords{}, langLines: map[string]int{}, catLines: map[string]map[string]int{}}
	if data == nil {
		return df
	}
	root := p.parse(data)
	if root == nil {
		return df
	}
	if root.Kind != yaml.MappingNode {
		p.errorf(root.Line, "danger: want a mapping of languages to phrases")
		return df
	}
	var version *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value == "version" {
			version = v
			continue
		}
		df.langLines[k.Value] = k.Line
		df.words[k.Value] = df.language(p, k.Value, v)
	}
	p.version(version, bot.FlowVersion)
	before := len(p.list)
	lex, err := bot.NewDangerLexicon(df.words)
	if errs, ok := err.(bot.DangerErrors); ok {
		for _, e := range errs {
			p.errorf(e.Line, "danger %s: %q: %s", e.Lang, e.Phrase, e.Msg)
		}
	} else if err != nil {
		p.errorf(0, "%v", err)
	}
	df.lexicon = lex
	df.parsed = len(p.list) == before && lex != nil
	return df
}

// language reads one language's section.
func (df *dangerFile) language(p *problems, lang string, n *yaml.Node) bot.DangerWords {
	what := "danger " + lang
	f := p.fields(n, what, "welsh", "shorthand", "not_danger", "phrases")
	dw := bot.DangerWords{Welsh: p.boolean(f["welsh"], what+": welsh")}
	if sn := f["shorthand"]; sn != nil {
		if sn.Kind != yaml.MappingNode {
			p.errorf(sn.Line, "%s: shorthand: want a mapping of words to what they stand for, like {hes: he is}", what)
		} else {
			for i := 0; i+1 < len(sn.Content); i += 2 {
				k, v := sn.Content[i], sn.Content[i+1]
				dw.Shorthand = append(dw.Shorthand, bot.DangerShorthand{From: k.Value, To: p.str(v, what+": shorthand: "+k.Value), Line: k.Line})
			}
		}
	}
	dw.NotDanger = df.phrases(p, f["not_danger"], what+": not_danger", "")
	df.catLines[lang] = map[string]int{}
	pn := f["phrases"]
	switch {
	case pn == nil:
		p.errorf(n.Line, "%s: no phrases", what)
	case pn.Kind != yaml.MappingNode:
		p.errorf(pn.Line, "%s: phrases: want a mapping of categories to lists of phrases", what)
	default:
		for i := 0; i+1 < len(pn.Content); i += 2 {
			k, v := pn.Content[i], pn.Content[i+1]
			if !validID(k.Value) {
				p.errorf(k.Line, "%s: category %q: a category is lower-case letters, digits and _", what, k.Value)
			}
			if _, dup := df.catLines[lang][k.Value]; dup {
				p.errorf(k.Line, "%s: category %q given twice", what, k.Value)
			}
			df.catLines[lang][k.Value] = k.Line
			list := df.phrases(p, v, what+": "+k.Value, k.Value)
			if len(list) == 0 {
				p.errorf(k.Line, "%s: category %q has no phrases", what, k.Value)
			}
			dw.Phrases = append(dw.Phrases, list...)
		}
	}
	return dw
}

// phrases reads a list of phrases of one category.
func (df *dangerFile) phrases(p *problems, n *yaml.Node, what, category string) []bot.DangerPhrase {
	var out []bot.DangerPhrase
	for _, item := range p.items(n, what) {
		s := strings.TrimSpace(p.str(item, what))
		if s == "" {
			p.errorf(item.Line, "%s: empty phrase", what)
			continue
		}
		out = append(out, bot.DangerPhrase{Category: category, Text: s, Line: item.Line})
	}
	return out
}

// checkDanger reports a language of the flow the lexicon lacks, a
// language the flow lacks, a category missing from a language, and a
// phrase that matches an ordinary answer: an option word of any step, a
// global word or an area name on the menu.
func checkDanger(df *dangerFile, fl *bot.Flow, wf *wordsFile, menu func(lang string) string, p *problems) {
	for _, lang := range fl.Languages {
		if _, ok := df.words[lang]; !ok {
			p.errorf(0, "no phrases for language %q: every language of the flow needs them", lang)
		}
	}
	langs := make([]string, 0, len(df.words))
	for lang := range df.words {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		if len(fl.Languages) > 0 && !slices.Contains(fl.Languages, lang) {
			p.errorf(df.langLines[lang], "%q is not one of the flow's languages %v", lang, fl.Languages)
		}
	}
	for _, lang := range langs {
		cats := make([]string, 0, len(df.catLines[lang]))
		for c := range df.catLines[lang] {
			cats = append(cats, c)
		}
		sort.Strings(cats)
		for _, c := range cats {
			for _, other := range fl.Languages {
				if _, ok := df.catLines[other][c]; !ok && df.words[other].Phrases != nil {
					p.errorf(df.catLines[lang][c], "danger %s: category %q has no phrases in %s: give every category in every language", lang, c, other)
				}
			}
		}
	}
	if !df.parsed {
		return
	}
	seen := map[string]bool{} // each word is reported once, at its first use
	check := func(word, what string) {
		if n := bot.FoldText(word); !seen[n] {
			seen[n] = true
			df.ordinary(p, word, what)
		}
	}
	for _, s := range fl.Steps {
		for _, o := range s.Options {
			for _, lang := range fl.Languages {
				var words []string
				if w := wf.words[lang]; w != nil && o.Means != "" {
					words = append(words, w.Sets[o.Means]...)
				}
				words = append(words, o.Words[lang]...)
				for _, word := range words {
					check(word, fmt.Sprintf("the answer %q of step %s, option %s", word, s.ID, o.ID))
				}
			}
		}
	}
	for _, lang := range fl.Languages {
		w := wf.words[lang]
		if w == nil {
			continue
		}
		for _, g := range w.Global() {
			if g.Kind == bot.WordsDanger || g.Kind == bot.WordsGreeting {
				continue // danger words are the point; a greeting is asked again
			}
			for _, word := range g.Words {
				check(word, fmt.Sprintf("the %s word %q", g.Kind, word))
			}
		}
		if menu != nil {
			for _, entry := range strings.Split(menu(lang), ", ") {
				_, name, _ := strings.Cut(entry, " ")
				check(name, fmt.Sprintf("the area name %q", name))
			}
		}
	}
}

// ordinary reports the phrases that match text, an ordinary answer.
func (df *dangerFile) ordinary(p *problems, text, what string) {
	if _, ok := df.lexicon.Match(text); !ok {
		return
	}
	for _, at := range df.culprits(text) {
		p.errorf(at.line, "danger %s: %q matches %s: an ordinary answer would get the emergency reply", at.lang, at.phrase, what)
	}
}

type phraseAt struct {
	lang, phrase string
	line         int
}

// culprits finds which phrases match text, by compiling each alone.
// It runs only when a check fails.
func (df *dangerFile) culprits(text string) []phraseAt {
	var out []phraseAt
	langs := make([]string, 0, len(df.words))
	for lang := range df.words {
		langs = append(langs, lang)
	}
	sort.Strings(langs)
	for _, lang := range langs {
		dw := df.words[lang]
		for _, ph := range dw.Phrases {
			one := dw
			one.Phrases = []bot.DangerPhrase{ph}
			lex, err := bot.NewDangerLexicon(map[string]bot.DangerWords{lang: one})
			if err != nil {
				continue
			}
			if _, ok := lex.Match(text); ok {
				out = append(out, phraseAt{lang, ph.Text, ph.Line})
			}
		}
	}
	return out
}
