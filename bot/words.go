package bot

import (
	"strconv"
	"strings"
	"unicode"
)

// Normalize folds a tenant's text for matching: lower case, apostrophes
// dropped ("he's" → "hes"), every other run of punctuation and space made
// one space, trimmed. "  Yes, please! " becomes "yes please".
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '`':
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// wordSet is a set of normalised words or phrases.
type wordSet map[string]bool

func newWordSet(lists ...[]string) wordSet {
	s := wordSet{}
	for _, l := range lists {
		for _, w := range l {
			if n := Normalize(w); n != "" {
				s[n] = true
			}
		}
	}
	return s
}

// is reports whether the whole text is one of the words.
func (s wordSet) is(text string) bool { return s[text] }

// leads reports whether the text is one of the words, or starts with one
// followed by more words ("no thanks", "yes please").
func (s wordSet) leads(text string) bool {
	if s[text] {
		return true
	}
	for w := range s {
		if strings.HasPrefix(text, w+" ") {
			return true
		}
	}
	return false
}

// within reports whether one of the phrases appears in the text as whole
// words.
func (s wordSet) within(text string) bool {
	for w := range s {
		if containsWords(text, w) {
			return true
		}
	}
	return false
}

// containsWords reports whether the normalised phrase w appears in the
// normalised text between spaces or at its ends.
func containsWords(text, w string) bool {
	for from := 0; from < len(text); {
		i := strings.Index(text[from:], w)
		if i < 0 {
			return false
		}
		i += from
		end := i + len(w)
		if (i == 0 || text[i-1] == ' ') && (end == len(text) || text[end] == ' ') {
			return true
		}
		from = i + 1
	}
	return false
}

// starts reports whether a word of the text starts with one of the stems.
func (s wordSet) starts(text string) bool {
	for _, tok := range strings.Fields(text) {
		for w := range s {
			if strings.HasPrefix(tok, w) {
				return true
			}
		}
	}
	return false
}

// lexicon is a flow's vocabulary compiled for matching. Global words are
// understood in every language, whatever the conversation's language: a
// tenant who switched to Welsh can still type EXIT.
type lexicon struct {
	exit, optOut, erase, help, skip, back, officer wordSet
	greeting                                       wordSet
	danger, dangerPhrases, risk                    wordSet
	switchTo                                       map[string]wordSet // language → words
	ownName                                        map[string]string  // language → its own name, the first switch word
	sets                                           map[string]wordSet // set name → words, all languages
	options                                        map[*Option]wordSet
	signposts                                      map[*Signpost]wordSet
}

func compileLexicon(f *Flow) *lexicon {
	lx := &lexicon{
		exit: wordSet{}, optOut: wordSet{}, erase: wordSet{}, help: wordSet{},
		skip: wordSet{}, back: wordSet{}, officer: wordSet{}, greeting: wordSet{}, danger: wordSet{},
		dangerPhrases: wordSet{}, risk: wordSet{},
		switchTo: map[string]wordSet{}, sets: map[string]wordSet{},
	}
	add := func(s wordSet, words []string) {
		for w := range newWordSet(words) {
			s[w] = true
		}
	}
	global := map[string]wordSet{
		WordsExit: lx.exit, WordsOptOut: lx.optOut, WordsErase: lx.erase, WordsHelp: lx.help,
		WordsSkip: lx.skip, WordsBack: lx.back, WordsOfficer: lx.officer, WordsDanger: lx.danger,
		WordsGreeting: lx.greeting,
	}
	for _, w := range f.Words {
		for _, g := range w.Global() {
			add(global[g.Kind], g.Words)
		}
		add(lx.dangerPhrases, w.DangerPhrases)
		add(lx.risk, w.Risk)
		for name, words := range w.Sets {
			if lx.sets[name] == nil {
				lx.sets[name] = wordSet{}
			}
			add(lx.sets[name], words)
		}
	}
	lx.ownName = map[string]string{}
	for lang, words := range f.Switch {
		lx.switchTo[lang] = newWordSet(words)
		if len(words) > 0 {
			lx.ownName[lang] = Normalize(words[0])
		}
	}
	lx.signposts = map[*Signpost]wordSet{}
	for _, sp := range f.Signposts {
		s := wordSet{}
		for _, words := range sp.Words {
			add(s, words)
		}
		lx.signposts[sp] = s
	}
	lx.options = map[*Option]wordSet{}
	for _, st := range f.Steps {
		for _, o := range st.Options {
			s := wordSet{}
			for w := range lx.sets[o.Means] {
				s[w] = true
			}
			for _, words := range o.Words {
				add(s, words)
			}
			lx.options[o] = s
		}
	}
	return lx
}

// language returns the language the text switches to, or "". With
// ownNameOnly (a step that takes a language as its answer) only a
// language's own name switches ("cymraeg"); "welsh" is an answer there.
func (lx *lexicon) language(text string, ownNameOnly bool) string {
	for lang, s := range lx.switchTo {
		if ownNameOnly {
			if lx.ownName[lang] == text {
				return lang
			}
		} else if s.is(text) {
			return lang
		}
	}
	return ""
}

// isDanger reports whether the text asks for emergency help.
func (lx *lexicon) isDanger(text string) bool {
	return lx.danger.is(text) || lx.dangerPhrases.within(text)
}

// matchOption returns the index of the option the text chooses, or -1 when
// it chooses none or more than one. Options match by their number (1, 2, …),
// by the words of their Means set, or by their own words, and a word may be
// followed by more ("no thanks"). With exactOnly (text steps) only a whole
// message of one word matches, so "no, but my worker is Sam" and a log
// number stay free text.
func (lx *lexicon) matchOption(opts []*Option, text string, exactOnly bool) int {
	if n, err := strconv.Atoi(text); err == nil && !exactOnly {
		if n >= 1 && n <= len(opts) {
			return n - 1
		}
		return -1
	}
	exact, lead := -1, -1
	exacts, leads := 0, 0
	for i, o := range opts {
		words := lx.options[o]
		if words.is(text) {
			exact = i
			exacts++
		} else if !exactOnly && words.leads(text) {
			lead = i
			leads++
		}
	}
	switch {
	case exacts == 1:
		return exact
	case exacts == 0 && leads == 1:
		return lead
	}
	return -1
}
