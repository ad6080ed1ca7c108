package flows

import (
	"os"
	"slices"
	"strings"
	"testing"
)

// loadDefault loads the default directory, failing on any error.
func loadDefault(t testing.TB) *Directory {
	t.Helper()
	d, ps := LoadDirectory(os.DirFS("default"), AreasFile, PostcodesFile)
	if errs := ps.Errors(); len(errs) > 0 {
		t.Fatalf("default directory:\n%v", errs)
	}
	return d
}

func TestEditDistance(t *testing.T) {
	tests := []struct {
		a, b  string
		limit int
		want  int
	}{
		{"shrewsbury", "shrewsbury", 2, 0},
		{"shrewsbry", "shrewsbury", 2, 1},   // dropped
		{"shrewsbuury", "shrewsbury", 2, 1}, // added
		{"shrewsbiry", "shrewsbury", 2, 1},  // changed
		{"telfrod", "telford", 2, 1},        // swapped
		{"hereforshire", "herefordshire", 2, 1},
		{"staffordshre", "staffordshire", 2, 1},
		{"oswestery", "oswestry", 2, 1},
		{"wellingon", "wellington", 2, 1},
		{"ab", "ba", 2, 1},
		{"abc", "ca", 3, 3}, // optimal string alignment: no edit twice
		{"", "abc", 5, 3},
		{"abc", "", 5, 3},
		{"kitten", "sitting", 5, 3},
		{"kitten", "sitting", 1, 2}, // stops past the limit
		{"house", "hadley", 1, 2},
	}
	for _, tt := range tests {
		if got := editDistance([]byte(tt.a), tt.b, tt.limit); got != tt.want {
			t.Errorf("editDistance(%q, %q, %d) = %d, want %d", tt.a, tt.b, tt.limit, got, tt.want)
		}
	}
}

// typos returns the misspellings of name Locate must still read: each
// letter but the first dropped, each pair of neighbours after the first
// letter swapped, each letter but the first changed. Only names of
// MinFuzzyLetters letters or more have them.
func typos(name string) []string {
	b := []byte(name)
	letters := 0
	for _, c := range b {
		if c >= 'a' && c <= 'z' {
			letters++
		}
	}
	if letters < MinFuzzyLetters {
		return nil
	}
	var out []string
	for i := 1; i < len(b); i++ {
		if b[i] == ' ' || b[i-1] == ' ' && (i+1 == len(b) || b[i+1] == ' ') {
			continue // a space, or a one-letter word
		}
		out = append(out, string(b[:i])+string(b[i+1:]))
		if i+1 < len(b) && b[i+1] != ' ' && b[i] != b[i+1] {
			s := slices.Clone(b)
			s[i], s[i+1] = s[i+1], s[i]
			out = append(out, string(s))
		}
		s := slices.Clone(b)
		s[i] = 'q'
		if b[i] == 'q' {
			s[i] = 'z'
		}
		out = append(out, string(s))
	}
	return out
}

// Every place and alias of places.yaml gives exactly its areas: in lower
// case, upper case and title case, inside a sentence, and misspelt once.
func TestEveryPlaceIsFound(t *testing.T) {
	d := loadDefault(t)
	if len(d.Places()) < 200 {
		t.Fatalf("only %d places", len(d.Places()))
	}
	for _, p := range d.Places() {
		for _, name := range append([]string{p.Name}, p.Aliases...) {
			lower := strings.ToLower(name)
			forms := []string{lower, strings.ToUpper(name), title(lower), name,
				"i live in " + name, "I'm in " + strings.ToUpper(name) + " thanks", name + "."}
			for _, text := range forms {
				if got := d.Locate(text); !slices.Equal(got, p.Areas) {
					t.Errorf("%s (line %d): Locate(%q) = %v, want %v", p.Name, p.Line, text, got, p.Areas)
				}
			}
			if !p.Fuzzy {
				continue
			}
			own := d.set(p.Areas)
			for _, typo := range typos(normalName(name)) {
				if c := compactName(typo); d.index.exact[c] != nil || d.index.ordinary[c] {
					continue // another name spelt right, or an everyday word
				}
				// A misspelling as close to another name gives its areas too.
				got := d.set(d.Locate(typo))
				if got&own != own || got&^(own|d.near(typo)) != 0 {
					t.Errorf("%s (line %d): misspelt Locate(%q) = %v, want %v", p.Name, p.Line, typo, d.Locate(typo), p.Areas)
				}
			}
		}
	}
}

// near returns the areas of every name a misspelling is within reach of.
func (d *Directory) near(typo string) areaSet {
	c := compactName(normalName(typo))
	var s areaSet
	for _, list := range d.index.fuzzy {
		for _, n := range list {
			limit := 1
			if len(n.compact) >= WideFuzzyLetters {
				limit = 2
			}
			if n.compact[0] == c[0] && editDistance([]byte(c), n.compact, limit) <= limit {
				s |= n.areas
			}
		}
	}
	return s
}

// title upper-cases the first letter of each word.
func title(s string) string {
	b := []byte(s)
	for i := range b {
		if (i == 0 || b[i-1] == ' ' || b[i-1] == '-') && b[i] >= 'a' && b[i] <= 'z' {
			b[i] -= 'a' - 'A'
		}
	}
	return string(b)
}

// Ordinary answers to "where do you live?" that name no place give
// nothing, misspelt or not, and the engine falls back to the national
// numbers.
func TestOrdinaryWordsAreNotPlaces(t *testing.T) {
	d := loadDefault(t)
	for _, text := range []string{
		"no", "yes", "home", "dont know", "don't know", "flat", "house", "near the shops",
		"with my mum", "him", "here", "we live with my nan", "skip", "help", "back", "stop",
		"not sure", "idk", "my flat", "a house", "in town", "the city", "council house",
		"bungalow", "at home", "with my partner", "with my dad", "with friends", "hostel",
		"staying with family", "i would rather not say", "prefer not to say", "none",
		"nowhere", "anywhere", "somewhere", "town centre", "village", "countryside",
		"ok", "okay", "thanks", "thank you", "please", "hello", "hi", "sorry", "what",
		"why", "later", "cant say", "store", "stones", "stove", "french", "bench",
		"leeks", "hays", "trenches", "new", "port", "north", "south", "east", "west",
		"street", "road", "lane", "close", "avenue", "drive", "estate", "farm", "tower",
		"block", "floor", "number", "phone", "mobile", "police", "refuge", "danger",
		"safe", "unsafe", "scared", "hurt", "kids", "children", "baby", "pregnant",
		"work", "school", "hospital", "doctor", "money", "rent", "landlord", "tenant",
		"housing", "neighbour", "neighbours", "weekend", "tonight",
		"today", "tomorrow", "morning", "evening", "night", "monday", "friday",
		"shops", "store", "stove", "stole", "smoke", "spoke", "staff", "walls", "wages",
		"waves", "crew", "banger", "madly", "button", "person", "press", "wore", "salon",
		"english", "welsh", "cymraeg", "saesneg", "ydw", "nac ydw", "diolch",
	} {
		if got := d.Locate(text); got != nil {
			t.Errorf("Locate(%q) = %v, want none", text, got)
		}
	}
}

// A name in several areas gives them all; another name or a postcode
// narrows it where they share an area.
func TestAmbiguousPlaces(t *testing.T) {
	d := loadDefault(t)
	tests := []struct {
		text string
		want []string
	}{
		{"Newport", []string{"telford_wrekin", "wales"}},
		{"newport", []string{"telford_wrekin", "wales"}},
		{"Whitchurch", []string{"shropshire", "herefordshire", "wales"}},
		{"Wellington", []string{"telford_wrekin", "herefordshire"}},
		{"Madeley", []string{"telford_wrekin", "staffordshire"}},
		{"Cheadle", []string{"staffordshire", "elsewhere"}},
		{"Newcastle", []string{"staffordshire", "elsewhere"}},
		{"Newcastle-under-Lyme", []string{"staffordshire"}},
		{"newcastle under lyme", []string{"staffordshire"}},
		{"Newcastle upon Tyne", []string{"elsewhere"}},
		{"Longnor", []string{"shropshire", "staffordshire"}},
		// Narrowed by another name.
		{"madeley telford", []string{"telford_wrekin"}},
		{"Madeley, Telford", []string{"telford_wrekin"}},
		{"Madeley near Newcastle", []string{"staffordshire"}},
		{"Newport Shropshire", []string{"telford_wrekin"}},
		{"Newport, Salop", []string{"telford_wrekin"}},
		{"Newport south wales", []string{"wales"}},
		{"Wellington Shropshire", []string{"telford_wrekin"}},
		{"Whitchurch Shropshire", []string{"shropshire"}},
		{"Whitchurch Cardiff", []string{"wales"}},
		{"Whitchurch near Ross-on-Wye", []string{"herefordshire"}},
		{"between Telford and Stafford", []string{"telford_wrekin", "staffordshire"}},
		// Narrowed by a postcode.
		{"TF10 Newport", []string{"telford_wrekin"}},
		{"Newport NP20 1AA", []string{"wales"}},
		{"Wellington TF1", []string{"telford_wrekin"}},
		{"Madeley CW3 9", []string{"staffordshire"}},
		// A name and a postcode sharing nothing: the name stands.
		{"Telford TF9", []string{"telford_wrekin"}},
		{"Newport B1", []string{"telford_wrekin", "wales"}},
	}
	for _, tt := range tests {
		if got := d.Locate(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Locate(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// The misspellings tenants make.
func TestMisspeltPlaces(t *testing.T) {
	d := loadDefault(t)
	tests := []struct {
		text string
		want []string
	}{
		{"Shrewsbry", []string{"shropshire"}},
		{"shrewsbury", []string{"shropshire"}},
		{"Hereforshire", []string{"herefordshire"}},
		{"Wellingon", []string{"telford_wrekin", "herefordshire"}},
		{"Oswestery", []string{"shropshire"}},
		{"Staffordshre", []string{"staffordshire"}},
		{"Telfrod", []string{"telford_wrekin"}},
		{"i live in Telfrod", []string{"telford_wrekin"}},
		{"Stoke on Trnt", []string{"staffordshire"}},
		{"bishops castel", []string{"shropshire"}},
		{"Shropshre", []string{"shropshire"}},
		{"Ludlwo", []string{"shropshire"}},
		{"Ironbrige", []string{"telford_wrekin"}},
		{"Bridgenorth", []string{"shropshire"}},
		{"Kidsgove", []string{"staffordshire"}},
		{"marketdrayton", []string{"shropshire"}},
		{"new port", []string{"telford_wrekin", "wales"}},
		{"St. George's", []string{"telford_wrekin"}},
		{"Llandrindod Wels", []string{"wales"}},
	}
	for _, tt := range tests {
		if got := d.Locate(tt.text); !slices.Equal(got, tt.want) {
			t.Errorf("Locate(%q) = %v, want %v", tt.text, got, tt.want)
		}
	}
}

// Unverified places and districts are warnings, each naming its line.
func TestUnverifiedAreWarnings(t *testing.T) {
	_, ps := LoadDirectory(os.DirFS("default"), AreasFile, PostcodesFile)
	var places, districts int
	for _, p := range ps {
		if !p.Warning {
			t.Errorf("error: %v", p)
			continue
		}
		switch {
		case p.File == PlacesFile && strings.Contains(p.Msg, "is unverified") && p.Line > 0:
			places++
		case p.File == PostcodesFile && strings.Contains(p.Msg, "is unverified") && p.Line > 0:
			districts++
		default:
			t.Errorf("unexpected warning: %v", p)
		}
	}
	wantPlaces := 0
	for _, p := range loadDefault(t).Places() {
		if p.Unverified {
			wantPlaces++
		}
	}
	if places != wantPlaces || places == 0 {
		t.Errorf("%d place warnings, want %d", places, wantPlaces)
	}
	if districts == 0 {
		t.Error("no district warnings")
	}
}

// Locate reads one answer per conversation; keep it cheap.
func BenchmarkLocate(b *testing.B) {
	d := loadDefault(b)
	texts := []string{"I live in Madeley", "Shrewsbry", "TF10 Newport", "we live with my nan", "TF11 8AB",
		"my postcode is sy23 1aa and I am in Aberystwyth"}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.Locate(texts[i%len(texts)])
	}
}
