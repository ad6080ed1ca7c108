package flows

import (
	"slices"
	"sort"

	"github.com/safecontact/safecontact/bot"
)

// globalWords returns every global word, normalised, with the list it is in.
func globalWords(wf *wordsFile) map[string]string {
	out := map[string]string{}
	for _, w := range wf.words {
		for _, g := range w.Global() {
			for _, word := range g.Words {
				out[bot.Normalize(word)] = g.Kind
			}
		}
	}
	for _, list := range wf.switchTo {
		for _, word := range list {
			out[bot.Normalize(word)] = "switch"
		}
	}
	return out
}

// checkOptions reports options that refer to unknown word sets, that share
// a word with another option of their step, or whose word is a global word
// and so can never choose them.
func checkOptions(ff *flowFile, wf *wordsFile, p *problems) {
	globals := globalWords(wf)
	for _, s := range ff.flow.Steps {
		ids := map[string]bool{}
		owner := map[string]string{} // word → option id
		for _, o := range s.Options {
			if o.ID == "" {
				p.errorf(o.Line, "step %s: option without an id", s.ID)
			} else if ids[o.ID] {
				p.errorf(o.Line, "step %s: option id %q used twice", s.ID, o.ID)
			}
			ids[o.ID] = true
			var words []string
			for _, lang := range ff.flow.Languages {
				w := wf.words[lang]
				if w == nil {
					continue
				}
				if o.Means != "" {
					set, ok := w.Sets[o.Means]
					if !ok {
						p.errorf(o.Line, "step %s: option %s: no word set %q for %q in %s", s.ID, o.ID, o.Means, lang, WordsFile)
					}
					words = append(words, set...)
				}
				words = append(words, o.Words[lang]...)
			}
			for lang := range o.Words {
				if !slices.Contains(ff.flow.Languages, lang) {
					p.errorf(o.Line, "step %s: option %s: words for %q, which is not one of the flow's languages", s.ID, o.ID, lang)
				}
			}
			reported := map[string]bool{}
			for _, word := range words {
				n := bot.Normalize(word)
				if reported[n] {
					continue
				}
				if kind, ok := globals[n]; ok {
					reported[n] = true
					p.errorf(o.Line, "step %s: option %s: %q is a global word (%s) and can never choose this option", s.ID, o.ID, n, kind)
				} else if other, ok := owner[n]; ok && other != o.ID {
					reported[n] = true
					p.errorf(o.Line, "step %s: options %s and %s both take %q", s.ID, other, o.ID, n)
				}
				owner[n] = o.ID
			}
		}
	}
}

// checkRules reports priority rules about unknown steps or answers.
func checkRules(ff *flowFile, p *problems) {
	for _, r := range ff.flow.Rules {
		steps := make([]string, 0, len(r.When))
		for id := range r.When {
			steps = append(steps, id)
		}
		sort.Strings(steps)
		for _, id := range steps {
			s := ff.flow.Step(id)
			switch {
			case s == nil:
				p.errorf(r.Line, "priority rule: unknown step %q", id)
			case s.Kind == bot.KindChoice && s.Option(r.When[id]) == nil:
				p.errorf(r.Line, "priority rule: step %s has no option %q", id, r.When[id])
			}
		}
	}
}

// checkWords reports a language missing a safety word list, and a word
// that two global lists both claim.
func checkWords(wf *wordsFile, p *problems) {
	langs := make([]string, 0, len(wf.words))
	for l := range wf.words {
		langs = append(langs, l)
	}
	sort.Strings(langs)
	all := map[string]map[string]bool{}
	for _, l := range langs {
		w := wf.words[l]
		for kind, list := range map[string][]string{"exit": w.Exit, "danger": w.Danger} {
			if len(list) == 0 {
				p.errorf(wf.lines[l], "words %s: no %s words: a tenant must always be able to use them", l, kind)
			}
		}
		for _, g := range w.Global() {
			for _, word := range g.Words {
				n := bot.Normalize(word)
				if all[n] == nil {
					all[n] = map[string]bool{}
				}
				all[n][g.Kind] = true
			}
		}
	}
	for _, must := range []struct{ kind, word string }{{"exit", "x"}, {"exit", "exit"}, {"opt_out", "stop"}, {"danger", "999"}} {
		if !all[must.word][must.kind] {
			p.errorf(0, "no language has %q among its %s words", must.word, must.kind)
		}
	}
	words := make([]string, 0, len(all))
	for w := range all {
		words = append(words, w)
	}
	sort.Strings(words)
	for _, w := range words {
		if len(all[w]) > 1 {
			kinds := make([]string, 0, len(all[w]))
			for k := range all[w] {
				kinds = append(kinds, k)
			}
			sort.Strings(kinds)
			p.errorf(0, "%q is in more than one list of global words: %v", w, kinds)
		}
	}
}
