package flows

import (
	"unicode"
	"unicode/utf8"
)

// maxLocateInput is the longest text Locate reads; an area answer is a
// place name or a postcode, and anything longer is cut there.
const maxLocateInput = 200

// Limits of matching a misspelt name. A name of fewer than
// MinFuzzyLetters letters counts only when spelt exactly; one of
// MinFuzzyLetters or more may be one edit off (a letter dropped, added,
// changed, or two neighbours swapped); one of WideFuzzyLetters or more
// may be two edits off. The first letter must always be right, and the
// tenant's word at least MinFuzzyLetters-1 letters long.
const (
	MinFuzzyLetters  = 5
	WideFuzzyLetters = 9
)

// maxFuzzyLetters is the longest name or word compared for misspelling;
// longer ones count only when spelt exactly.
const maxFuzzyLetters = 32

// MaxAreas is the most areas a directory may have.
const MaxAreas = 64

// areaSet is a set of areas, bit i for the directory's area i, so that a
// set in directory order costs nothing to build.
type areaSet uint64

// placeName is one name Locate knows: an area's name, id or alias, or a
// place of places.yaml.
type placeName struct {
	compact string  // letters and digits only: "bishopscastle"
	words   int     // words in the name: 2
	areas   areaSet // the areas the name is in
	within  areaSet // the areas it keeps when it qualifies another name
	fuzzy   bool    // may match misspelt
}

// nameIndex finds names in a tenant's text.
type nameIndex struct {
	exact    map[string]*placeName // by compact form
	fuzzy    [][]*placeName        // by word count: names that may match misspelt
	ordinary map[string]bool       // compact words never read as misspelt names
	maxWords int
}

// add puts a name in the index; it reports false when the compact form
// is another name's already.
func (x *nameIndex) add(name string, areas, within areaSet, fuzzy bool) bool {
	key := normalName(name)
	if key == "" {
		return true
	}
	n := &placeName{compact: compactName(key), areas: areas, within: within | areas, fuzzy: fuzzy}
	for i := 0; i < len(key); i++ {
		if key[i] == ' ' {
			n.words++
		}
	}
	n.words++
	if prev := x.exact[n.compact]; prev != nil {
		if prev.areas != areas {
			return false
		}
		if prev.words == n.words {
			return true
		}
		// "Iron Bridge" beside "Ironbridge": one exact entry, but each
		// may match misspelt in its own number of words.
		n = &placeName{compact: prev.compact, words: n.words, areas: prev.areas, within: prev.within, fuzzy: fuzzy}
	} else {
		x.exact[n.compact] = n
	}
	x.maxWords = max(x.maxWords, n.words)
	if fuzzy && len(n.compact) >= MinFuzzyLetters && len(n.compact) <= maxFuzzyLetters {
		for len(x.fuzzy) <= n.words {
			x.fuzzy = append(x.fuzzy, nil)
		}
		x.fuzzy[n.words] = append(x.fuzzy[n.words], n)
	}
	return true
}

// maxTokens is the most words of a text Locate reads.
const maxTokens = maxLocateInput / 2

// token is one word of a normalised text: buf[start:end].
type token struct {
	start, end int
	digits     bool
}

// nameMatch is a name found in a text: tokens [from, to), its name and
// its edit distance (0 for an exact match).
type nameMatch struct {
	from, to int
	name     *placeName
	dist     int
}

// Locate returns the areas a tenant's text names, in the directory's area
// order. An area's name in any language, its id or one of its aliases, or
// a place of places.yaml counts wherever it stands in the text as whole
// words, in any case, spacing and punctuation ("Telford & Wrekin",
// "telford and wrekin", "I'm in Shrewsbury", "ST GEORGES",
// "bishops castle"), and so does a name misspelt within the limits of
// MinFuzzyLetters and WideFuzzyLetters ("Shrewsbry", "Hereforshire"). A
// name in several areas gives them all ("Newport": Telford & Wrekin and
// Wales). Several names narrow each other where they share areas
// ("Madeley, Telford"; "Newport, Shropshire", as the county of
// Shropshire holds Telford & Wrekin), else they add up ("between Telford
// and Stafford").
//
// A postcode or district in the text counts too ("TF11 8AB", "tf118ab",
// "my postcode is TF1"): its district's areas, several when the district
// straddles areas, or the fallback for a district the file does not list
// in a postcode area it does. A name comes first: the postcode settles a
// name in several areas when they share one ("TF10 Newport" is Telford &
// Wrekin's), and else the name stands. It returns nil when the text names
// nothing it knows; the engine then uses Fallback.
func (d *Directory) Locate(text string) []string {
	if len(text) > maxLocateInput {
		text = text[:maxLocateInput]
	}
	found := d.nameAreas(text)
	if pc := d.set(d.postcodeAreas(text)); found == 0 {
		found = pc
	} else if found&pc != 0 {
		found &= pc
	}
	if found == 0 {
		return nil
	}
	var out []string
	for i, a := range d.areas {
		if found&(1<<i) != 0 {
			out = append(out, a.id)
		}
	}
	return out
}

// set returns the areas with the ids as a set.
func (d *Directory) set(ids []string) areaSet {
	var s areaSet
	for _, id := range ids {
		if a := d.byID[id]; a != nil {
			s |= 1 << a.index
		}
	}
	return s
}

// nameAreas returns the areas the names in text are in.
func (d *Directory) nameAreas(text string) areaSet {
	x := &d.index
	if len(x.exact) == 0 {
		return 0
	}
	var bufArr [maxLocateInput * 2]byte
	var tokArr [maxTokens]token
	buf, toks := appendTokens(bufArr[:0], tokArr[:0], text)
	var matchArr [16]nameMatch
	matches := matchArr[:0]
	for i := range toks {
		for w := 1; w <= x.maxWords+1 && i+w <= len(toks); w++ {
			if toks[i+w-1].digits {
				break
			}
			window := buf[toks[i].start:toks[i+w-1].end]
			if n := x.exact[string(window)]; n != nil && (w == n.words || len(n.compact) > MinFuzzyLetters) {
				matches = append(matches, nameMatch{i, i + w, n, 0})
				continue
			}
			if w >= len(x.fuzzy) || len(window) < MinFuzzyLetters-1 || len(window) > maxFuzzyLetters ||
				(w == 1 && x.ordinary[string(window)]) {
				continue
			}
			best, first := 3, len(matches)
			for _, n := range x.fuzzy[w] {
				limit := 1
				if len(n.compact) >= WideFuzzyLetters {
					limit = 2
				}
				if n.compact[0] != window[0] || abs(len(n.compact)-len(window)) > limit {
					continue
				}
				dist := editDistance(window, n.compact, min(limit, best))
				switch {
				case dist > limit || dist > best:
				case dist < best:
					best, matches = dist, append(matches[:first], nameMatch{i, i + w, n, dist})
				default:
					matches = append(matches, nameMatch{i, i + w, n, dist})
				}
			}
		}
	}
	// A name inside a longer one found ("Newcastle" in "Newcastle under
	// Lyme") does not count, nor a misspelling where a name is exact.
	// Names found at the same words are alternatives and add up; names
	// at different words narrow each other.
	var all, within areaSet = 0, ^areaSet(0)
	var spanAreas, spanWithin areaSet
	for j, m := range matches {
		inside := false
		for k, o := range matches {
			if k != j && o.from <= m.from && m.to <= o.to && (o.to-o.from > m.to-m.from || o.dist < m.dist) {
				inside = true
				break
			}
		}
		if !inside {
			spanAreas |= m.name.areas
			spanWithin |= m.name.within
		}
		if last := j+1 == len(matches); last || matches[j+1].from != m.from || matches[j+1].to != m.to {
			if spanAreas != 0 {
				all |= spanAreas
				within &= spanWithin
			}
			spanAreas, spanWithin = 0, 0
		}
	}
	if all&within != 0 {
		return all & within
	}
	return all
}

// appendTokens appends the words of s to buf, lower-cased, with accents
// taken off ("ŵ" is "w"), "&" read as "and" and apostrophes dropped, and
// appends each word's place in buf to toks. It stops when either is full.
func appendTokens(buf []byte, toks []token, s string) ([]byte, []token) {
	start := len(buf)
	digits := false
	end := func() {
		if len(buf) > start && len(toks) < cap(toks) {
			toks = append(toks, token{start, len(buf), digits})
		} else {
			buf = buf[:start]
		}
		start, digits = len(buf), false
	}
	for _, r := range s {
		if len(buf)+utf8.UTFMax > cap(buf) {
			break
		}
		switch {
		case r == '\'' || r == '’':
			continue
		case r == '&':
			end()
			buf = append(buf, "and"...)
			end()
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			buf = append(buf, byte(r))
			digits = digits || r <= '9'
		case r >= 'A' && r <= 'Z':
			buf = append(buf, byte(r+'a'-'A'))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = foldAccent(unicode.ToLower(r))
			buf = utf8.AppendRune(buf, r)
			digits = digits || unicode.IsDigit(r)
		default:
			end()
		}
	}
	end()
	return buf, toks
}

// foldAccent returns the letter without its accent for the accented
// vowels of Welsh and the Latin-1 letters; other runes are returned as
// they are.
func foldAccent(r rune) rune {
	switch r {
	case 'à', 'á', 'â', 'ä', 'ã', 'å':
		return 'a'
	case 'è', 'é', 'ê', 'ë':
		return 'e'
	case 'ì', 'í', 'î', 'ï':
		return 'i'
	case 'ò', 'ó', 'ô', 'ö', 'õ':
		return 'o'
	case 'ù', 'ú', 'û', 'ü':
		return 'u'
	case 'ŵ', 'ẁ', 'ẃ', 'ẅ':
		return 'w'
	case 'ŷ', 'ỳ', 'ý', 'ÿ':
		return 'y'
	case 'ç':
		return 'c'
	}
	return r
}

// normalName is a name as Locate compares it: its words lower-cased and
// without accents, "&" read as "and", apostrophes dropped and every other
// run of non-letters one space. "Bishop's Castle" and "bishops  castle"
// are the same, as are "Stoke-on-Trent" and "stoke on trent".
func normalName(s string) string {
	buf, toks := appendTokens(make([]byte, 0, 2*len(s)+8), make([]token, 0, len(s)+1), s)
	out := make([]byte, 0, len(buf)+len(toks))
	for i, t := range toks {
		if i > 0 {
			out = append(out, ' ')
		}
		out = append(out, buf[t.start:t.end]...)
	}
	return string(out)
}

// compactName drops the spaces of a normalised name.
func compactName(key string) string {
	out := make([]byte, 0, len(key))
	for i := 0; i < len(key); i++ {
		if key[i] != ' ' {
			out = append(out, key[i])
		}
	}
	return string(out)
}

// editDistance returns the optimal string alignment distance between a
// and b (the Damerau-Levenshtein distance where no letter is edited
// twice): the fewest letters dropped, added or changed, or neighbours
// swapped, that turn a into b. It stops counting past limit and returns
// limit+1 for anything further; a and b are at most maxFuzzyLetters
// bytes.
func editDistance(a []byte, b string, limit int) int {
	if len(a) > maxFuzzyLetters || len(b) > maxFuzzyLetters {
		return limit + 1
	}
	var rows [3][maxFuzzyLetters + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return min(prev[len(b)], limit+1)
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// postcodeAreas finds the first postcode or district in text and returns
// its areas: the whole text first, then each word, and each word joined
// with the next so "TF1 2AB" inside a sentence is read whole.
func (d *Directory) postcodeAreas(text string) []string {
	if d.postcodes == nil {
		return nil
	}
	try := func(s string) []string {
		if pc, ok := ParsePostcode(s); ok {
			return d.postcodes.lookup(pc)
		}
		return nil
	}
	if ids := try(text); ids != nil {
		return ids
	}
	var bufArr [maxLocateInput * 2]byte
	var tokArr [maxTokens]token
	buf, toks := appendTokens(bufArr[:0], tokArr[:0], text)
	for i, t := range toks {
		if i+1 < len(toks) {
			// Two words make a postcode only whole: "TF1 2AB", not "CW3 9".
			if pc, ok := ParsePostcode(string(buf[t.start:toks[i+1].end])); ok && pc.Inward != "" {
				if ids := d.postcodes.lookup(pc); ids != nil {
					return ids
				}
			}
		}
		if ids := try(string(buf[t.start:t.end])); ids != nil {
			return ids
		}
	}
	return nil
}
