package bot

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"
)

// Limits of the danger lexicon.
const (
	// DangerGap is how many extra words may stand between two consecutive
	// words of a danger phrase ("he has got a knife" matches "he knife").
	DangerGap = 3
	// DangerMaxWords is the most words (slots) a danger phrase may have.
	DangerMaxWords = 8
	// DangerMinStem is the fewest letters a stem ("strangl*") may have.
	DangerMinStem = 3
)

// DangerPhrase is one phrase of a danger lexicon as written: words in
// order, where a word ending in * is a stem, a/b/c in one place means any
// of them, words joined by _ must stand next to each other, and a word
// starting with = is never given Welsh mutations. Category is empty for
// phrases that are not danger. Line locates it in its file, for errors.
type DangerPhrase struct {
	Category string
	Text     string
	Line     int
}

// DangerShorthand maps one word as people text it ("hes", "u", "nife") to
// the words phrases use ("he is", "you", "knife").
type DangerShorthand struct {
	From, To string
	Line     int
}

// DangerWords is one language's danger lexicon before compiling.
type DangerWords struct {
	// Phrases signal danger; each names its category.
	Phrases []DangerPhrase
	// NotDanger are ordinary phrases holding a danger word ("kill time",
	// "not in danger"). They are blanked out of a message before matching,
	// with no extra words allowed between their words.
	NotDanger []DangerPhrase
	// Shorthand is applied to each word of a message before matching.
	Shorthand []DangerShorthand
	// Welsh accepts the Welsh initial mutations of every phrase word
	// (soft, nasal, aspirate, and h- before a vowel), reads an apostrophe
	// as a break between words ("mae'n" is "mae n"), and keeps double
	// letters (ll, dd, ff, nn) apart from single ones: only a letter
	// written three or more times in a row counts as two. In other
	// languages a letter repeated any number of times counts as one
	// ("pleeease" is "please", "kil" is "kill").
	Welsh bool
}

// DangerError is a phrase or shorthand that does not compile. Callers of
// NewDangerLexicon find each one with errors.As on the DangerErrors
// returned.
type DangerError struct {
	Lang   string
	Line   int
	Phrase string
	Msg    string
}

func (e *DangerError) Error() string {
	return fmt.Sprintf("danger %s: %q: %s", e.Lang, e.Phrase, e.Msg)
}

// DangerErrors lists every problem NewDangerLexicon found.
type DangerErrors []*DangerError

func (es DangerErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// DangerLexicon recognises danger in a tenant's own words: threats,
// weapons, being hit or choked, someone at the door, being kept in, fear
// for one's life, children hurt, asking for help now. The flows package
// loads it from danger.yaml. It is safe for concurrent use.
type DangerLexicon struct {
	langs   []*dangerLang
	maxSlot int
	scratch sync.Pool
}

// dangerLang is one language compiled.
type dangerLang struct {
	name      string
	welsh     bool
	keep      int // repeats of a letter kept: 1, or 2 in Welsh
	shorthand map[string][]string
	danger    matcher
	not       matcher
}

// matcher finds phrases in a list of words.
type matcher struct {
	exact            map[string][]slotRef
	stems            map[string][]slotRef
	minStem, maxStem int
	pats             []pattern
	slots            int
}

// slotRef is one slot of one pattern: its index in the flat reach array.
type slotRef struct {
	pat  int32
	slot int32
}

type pattern struct {
	category string
	base     int32   // first slot's index in the reach array
	gaps     []uint8 // gaps[k]: extra words allowed before slot k (k ≥ 1)
}

// dangerScratch is the working memory of one Match.
type dangerScratch struct {
	buf     []byte
	col     []byte
	cols    [2]string // the message folded, in English and in Welsh
	toks    []string
	reach   []int32 // per slot: 1 + the last word where the phrase up to it ended
	touched []int32
	pending []int32
}

// NewDangerLexicon compiles each language's phrases. It returns
// DangerErrors listing every bad phrase or shorthand.
func NewDangerLexicon(langs map[string]DangerWords) (*DangerLexicon, error) {
	names := make([]string, 0, len(langs))
	for n := range langs {
		names = append(names, n)
	}
	sort.Strings(names)
	d := &DangerLexicon{}
	var errs DangerErrors
	for _, name := range names {
		dw := langs[name]
		l := &dangerLang{name: name, keep: 1, shorthand: map[string][]string{}}
		if dw.Welsh {
			l.welsh, l.keep = true, 2
		}
		for _, s := range dw.Shorthand {
			from := l.fold(s.From)
			to := strings.Fields(l.fold(s.To))
			switch {
			case from == strings.Join(to, " "):
				// "kil" for "kill": the same once repeats are folded.
			case from == "" || strings.Contains(from, " "):
				errs = append(errs, &DangerError{name, s.Line, s.From, "shorthand: want one word"})
			case len(to) == 0:
				errs = append(errs, &DangerError{name, s.Line, s.From, "shorthand: no words to replace it with"})
			case l.shorthand[from] != nil:
				errs = append(errs, &DangerError{name, s.Line, s.From, "shorthand: given twice"})
			default:
				l.shorthand[from] = to
			}
		}
		l.danger, errs = l.compile(dw.Phrases, dw.Welsh, DangerGap, true, errs)
		l.not, errs = l.compile(dw.NotDanger, dw.Welsh, 0, false, errs)
		d.maxSlot = max(d.maxSlot, l.danger.slots, l.not.slots)
		d.langs = append(d.langs, l)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	d.scratch.New = func() any { return &dangerScratch{reach: make([]int32, d.maxSlot)} }
	return d, nil
}

// fold folds a word of the lexicon as the language compares it.
func (l *dangerLang) fold(s string) string {
	return string(collapse(nil, appendFold(nil, s, l.welsh), l.keep))
}

// compile compiles phrases into a matcher, appending to errs.
func (l *dangerLang) compile(phrases []DangerPhrase, mutate bool, gap int, needCategory bool, errs DangerErrors) (matcher, DangerErrors) {
	lang := l.name
	m := matcher{exact: map[string][]slotRef{}, stems: map[string][]slotRef{}, minStem: 1 << 30}
	for _, ph := range phrases {
		fail := func(format string, args ...any) {
			errs = append(errs, &DangerError{lang, ph.Line, ph.Text, fmt.Sprintf(format, args...)})
		}
		if needCategory && ph.Category == "" {
			fail("no category")
			continue
		}
		slots, gaps, msg := l.parse(ph.Text, mutate, gap)
		if msg != "" {
			fail("%s", msg)
			continue
		}
		p := pattern{category: ph.Category, base: int32(m.slots), gaps: gaps}
		pi := int32(len(m.pats))
		m.pats = append(m.pats, p)
		for k, alts := range slots {
			ref := slotRef{pat: pi, slot: p.base + int32(k)}
			for _, a := range alts {
				if w, ok := strings.CutSuffix(a, "*"); ok {
					if !hasRef(m.stems[w], ref) {
						m.stems[w] = append(m.stems[w], ref)
					}
					m.minStem = min(m.minStem, len(w))
					m.maxStem = max(m.maxStem, len(w))
				} else if !hasRef(m.exact[a], ref) {
					m.exact[a] = append(m.exact[a], ref)
				}
			}
		}
		m.slots += len(slots)
	}
	return m, errs
}

func hasRef(refs []slotRef, r slotRef) bool {
	for _, x := range refs {
		if x == r {
			return true
		}
	}
	return false
}

// parsePhrase splits a phrase into slots of folded alternatives (a stem
// keeps its trailing *), with the gap allowed before each slot. msg
// explains a phrase that does not parse.
func (l *dangerLang) parse(text string, mutate bool, gap int) (slots [][]string, gaps []uint8, msg string) {
	short := l.shorthand
	for i, group := range strings.Fields(text) {
		for j, slot := range strings.Split(group, "_") {
			g := gap
			if j > 0 {
				g = 0
			}
			if i == 0 && j == 0 {
				g = 0
			}
			var alts []string
			for _, alt := range strings.Split(slot, "/") {
				exact := strings.HasPrefix(alt, "=")
				alt = strings.TrimPrefix(alt, "=")
				stem := strings.HasSuffix(alt, "*")
				alt = strings.TrimSuffix(alt, "*")
				if strings.ContainsAny(alt, "*=") {
					return nil, nil, fmt.Sprintf("%q: * may only end a word and = only start one", slot)
				}
				w := l.fold(alt)
				switch {
				case w == "":
					return nil, nil, fmt.Sprintf("empty word in %q", slot)
				case strings.Contains(w, " "):
					return nil, nil, fmt.Sprintf("%q is more than one word: put a space or _ between words, / between choices", alt)
				case stem && len([]rune(w)) < DangerMinStem:
					return nil, nil, fmt.Sprintf("stem %q is too short: a stem needs %d letters or more", alt+"*", DangerMinStem)
				case short[w] != nil:
					return nil, nil, fmt.Sprintf("%q is shorthand for %q: write that instead", alt, strings.Join(short[w], " "))
				}
				forms := []string{w}
				if mutate && !exact {
					for _, m := range mutations(w) {
						forms = append(forms, l.fold(m))
					}
				}
				for _, f := range forms {
					if stem {
						f += "*"
					}
					alts = append(alts, f)
				}
			}
			slots = append(slots, alts)
			gaps = append(gaps, uint8(g))
		}
	}
	switch {
	case len(slots) == 0:
		return nil, nil, "empty phrase"
	case len(slots) > DangerMaxWords:
		return nil, nil, fmt.Sprintf("%d words; the most is %d", len(slots), DangerMaxWords)
	}
	return slots, gaps, ""
}

// welshMutations lists, for each radical initial, the forms it takes
// under the soft, nasal and aspirate mutations.
var welshMutations = []struct {
	from string
	to   []string
}{
	{"ll", []string{"l"}},
	{"rh", []string{"r"}},
	{"ch", nil}, {"ph", nil}, {"th", nil}, {"ff", nil},
	{"p", []string{"b", "mh", "ph"}},
	{"t", []string{"d", "nh", "th"}},
	{"c", []string{"g", "ngh", "ch"}},
	{"b", []string{"f", "m"}},
	{"d", []string{"dd", "n"}},
	{"g", []string{"", "ng"}},
	{"m", []string{"f"}},
}

// mutations returns the Welsh mutated forms of a folded word. A vowel
// takes h- before it.
func mutations(w string) []string {
	if strings.IndexByte("aeiouwy", w[0]) >= 0 {
		return []string{"h" + w}
	}
	for _, m := range welshMutations {
		rest, ok := strings.CutPrefix(w, m.from)
		if !ok {
			continue
		}
		var out []string
		for _, to := range m.to {
			if f := to + rest; f != "" && f != w {
				out = append(out, f)
			}
		}
		return out
	}
	return nil
}

// Match reports whether the tenant's raw message signals danger in any of
// the lexicon's languages, and the category of the phrase found first. A
// nil lexicon matches nothing.
func (d *DangerLexicon) Match(text string) (category string, ok bool) {
	if d == nil || len(d.langs) == 0 {
		return "", false
	}
	sc := d.scratch.Get().(*dangerScratch)
	defer d.scratch.Put(sc)
	sc.cols = [2]string{}
	for _, l := range d.langs {
		mode := 0
		if l.welsh {
			mode = 1
		}
		if sc.cols[mode] == "" {
			sc.buf = appendFold(sc.buf[:0], text, l.welsh)
			sc.col = collapse(sc.col[:0], sc.buf, l.keep)
			sc.cols[mode] = string(sc.col)
		}
		sc.toks = sc.toks[:0]
		for tok := range strings.FieldsSeq(sc.cols[mode]) {
			if to, ok := l.shorthand[tok]; ok {
				sc.toks = append(sc.toks, to...)
			} else {
				sc.toks = append(sc.toks, tok)
			}
		}
		if len(l.not.pats) > 0 {
			l.not.run(sc, func(p *pattern, end int) bool {
				for i := end - len(p.gaps) + 1; i <= end; i++ {
					sc.toks[i] = ""
				}
				return false
			})
		}
		l.danger.run(sc, func(p *pattern, _ int) bool {
			category, ok = p.category, true
			return true
		})
		if ok {
			return category, true
		}
	}
	return "", false
}

// run walks the words of sc.toks once, calling found with each phrase
// that ends at a word, until found returns true. A phrase's progress is
// kept per slot as the last word where the phrase up to that slot ended:
// the latest is always the best start for the next slot.
func (m *matcher) run(sc *dangerScratch, found func(p *pattern, end int) bool) {
	defer func() {
		for _, i := range sc.touched {
			sc.reach[i] = 0
		}
		sc.touched = sc.touched[:0]
	}()
	for i, tok := range sc.toks {
		if tok == "" {
			continue
		}
		sc.pending = sc.pending[:0]
		m.step(sc, m.exact[tok], i)
		for n := m.minStem; n <= m.maxStem && n <= len(tok); n++ {
			m.step(sc, m.stems[tok[:n]], i)
		}
		// Apply after every slot of this word was tried, so one word
		// never fills two slots of a phrase.
		for j := 0; j+1 < len(sc.pending); j += 2 {
			slot, pi := sc.pending[j], sc.pending[j+1]
			if sc.reach[slot] == 0 {
				sc.touched = append(sc.touched, slot)
			}
			sc.reach[slot] = int32(i + 1)
			p := &m.pats[pi]
			if int(slot-p.base) == len(p.gaps)-1 && found(p, i) {
				return
			}
		}
	}
}

// step records the slots the word at i completes.
func (m *matcher) step(sc *dangerScratch, refs []slotRef, i int) {
	for _, r := range refs {
		p := &m.pats[r.pat]
		k := r.slot - p.base
		if k > 0 {
			prev := int(sc.reach[r.slot-1]) - 1
			if prev < 0 || i-prev-1 > int(p.gaps[k]) {
				continue
			}
		}
		sc.pending = append(sc.pending, r.slot, r.pat)
	}
}

// FoldText folds text the way the danger lexicon reads it: lower case,
// accents dropped (ŵ → w, â → a), apostrophes dropped ("he's" → "hes"),
// and every other run of punctuation and space made one space, trimmed.
// "He’s BACK!!" becomes "hes back". The lexicon then folds letters
// repeated in a row (see DangerWords.Welsh).
func FoldText(s string) string {
	return string(appendFold(nil, s, false))
}

// appendFold appends the folded text to buf. In Welsh an apostrophe
// stands between words ("mae'n" is "mae n", "taro'r" is "taro r"); in
// English it is dropped ("he's" is "hes").
func appendFold(buf []byte, s string, welsh bool) []byte {
	space := false
	for _, r := range s {
		if r >= 0x80 {
			r = unicode.ToLower(r)
			if f, ok := foldTable[r]; ok {
				r = f
			}
		} else if 'A' <= r && r <= 'Z' {
			r += 'a' - 'A'
		}
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '`' || r == 'ʼ' || r == '´':
			if welsh {
				space = true
			}
		case r >= 0x80 && unicode.Is(unicode.Mn, r):
			continue
		case r < 0x80 && ('a' <= r && r <= 'z' || '0' <= r && r <= '9'),
			r >= 0x80 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if space && len(buf) > 0 {
				buf = append(buf, ' ')
			}
			space = false
			buf = utf8.AppendRune(buf, r)
		default:
			space = true
		}
	}
	return buf
}

// foldTable maps each accented Latin letter to its letter without the
// accent. It is built once and never changed.
var foldTable = buildFoldTable()

func buildFoldTable() map[rune]rune {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out := map[rune]rune{}
	for _, span := range [][2]rune{{0xC0, 0x24F}, {0x1E00, 0x1EFF}} {
		for r := span[0]; r <= span[1]; r++ {
			s, _, err := transform.String(t, string(unicode.ToLower(r)))
			if err != nil {
				continue
			}
			rs := []rune(s)
			if len(rs) == 1 && rs[0] != unicode.ToLower(r) {
				out[unicode.ToLower(r)] = rs[0]
			}
		}
	}
	return out
}

// collapse appends s to dst with each run of one letter cut to at most
// keep letters ("pleeease" → "please" with keep 1, "lladdd" → "lladd"
// with keep 2). Digits are kept as they are ("999").
func collapse(dst, s []byte, keep int) []byte {
	var last rune
	run := 0
	for len(s) > 0 {
		r, size := utf8.DecodeRune(s)
		s = s[size:]
		if r == last && r != ' ' && (r < '0' || r > '9') {
			run++
			if run > keep {
				continue
			}
		} else {
			last, run = r, 1
		}
		dst = utf8.AppendRune(dst, r)
	}
	return dst
}
