package flows

import (
	"strings"
	"unicode"
)

// maxLocateInput is the longest text Locate reads; an area answer is a
// place name or a postcode, and anything longer is cut there.
const maxLocateInput = 200

// Locate returns the areas a tenant's text names, in the directory's area
// order. An area's name in any language, its id or one of its aliases
// counts wherever it stands in the text as whole words, in any case and
// spacing ("Telford & Wrekin", "telford and wrekin", "I'm in Shrewsbury").
// Failing a name, a postcode or district in the text counts ("TF11 8AB",
// "tf118ab", "my postcode is TF1"): its district's areas, several when the
// district straddles areas, or the fallback for a district the file does
// not list in a postcode area it does. It returns nil when the text names
// nothing it knows; the engine then uses Fallback.
func (d *Directory) Locate(text string) []string {
	if len(text) > maxLocateInput {
		text = text[:maxLocateInput]
	}
	found := map[string]bool{}
	words := " " + normalName(text) + " "
	for name, a := range d.names {
		if strings.Contains(words, " "+name+" ") {
			found[a.id] = true
		}
	}
	if len(found) == 0 {
		for _, id := range d.postcodeAreas(text) {
			found[id] = true
		}
	}
	var out []string
	for _, a := range d.areas {
		if found[a.id] {
			out = append(out, a.id)
		}
	}
	return out
}

// postcodeAreas finds the first postcode or district in text and returns
// its areas: the whole text first, then each word, and each word joined
// with the next so "TF1 2AB" inside a sentence is read whole.
func (d *Directory) postcodeAreas(text string) []string {
	try := func(s string) []string {
		if pc, ok := ParsePostcode(s); ok {
			return d.postcodes.lookup(pc)
		}
		return nil
	}
	if ids := try(text); ids != nil {
		return ids
	}
	words := strings.FieldsFunc(text, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	for i, w := range words {
		if i+1 < len(words) {
			if ids := try(w + words[i+1]); ids != nil {
				return ids
			}
		}
		if ids := try(w); ids != nil {
			return ids
		}
	}
	return nil
}

// normalName lower-cases s, reads "&" as "and", drops apostrophes and
// makes every other run of non-letters one space: "Bishop's Castle" and
// "bishops  castle" match, as do "Stoke-on-Trent" and "stoke on trent".
func normalName(s string) string {
	s = strings.ToLower(s)
	s = strings.ReplaceAll(s, "&", " and ")
	s = strings.NewReplacer("'", "", "’", "").Replace(s)
	return strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}), " ")
}
