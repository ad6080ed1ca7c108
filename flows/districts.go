package flows

import (
	"slices"

	"go.yaml.in/yaml/v3"
)

// districts maps postcode districts, and failing them postcode areas, to
// the directory's areas.
type districts struct {
	byDistrict map[string][]string // "TF11" → [shropshire]
	byArea     map[string][]string // "B" → [elsewhere]
}

// lookup returns the areas of a parsed postcode: its district's, else
// (for a London district with a letter, "EC1A") the district without the
// letter's, else its postcode area's. It returns nil for a postcode area
// the file does not list.
func (t *districts) lookup(pc Postcode) []string {
	if t == nil {
		return nil
	}
	if ids, ok := t.byDistrict[pc.District]; ok {
		return ids
	}
	if last := pc.District[len(pc.District)-1]; isLetter(last) {
		if ids, ok := t.byDistrict[pc.District[:len(pc.District)-1]]; ok {
			return ids
		}
	}
	return t.byArea[pc.Area]
}

// readDistricts reads postcodes.yaml and reports every problem. known
// holds the directory's areas, to check the names.
//
// The file, in short (flows/default/postcodes.yaml has the whole of it):
//
//	version: 1
//	postcode_areas:              # areas for districts not listed below
//	  wales: [CF, LD, LL, NP, SA]
//	  elsewhere: [AB, AL, B, TF, ...]
//	districts:
//	  TF1: telford_wrekin        # one area
//	  TF9: [shropshire, staffordshire]   # straddles: the tenant picks
//	  TF10: {areas: [telford_wrekin, staffordshire], source: "post town: Newport", unverified: true}
//
// A district in the long form carries its source and may be marked
// unverified; each unverified district is a warning.
func readDistricts(p *problems, data []byte, known map[string]*area) *districts {
	t := &districts{byDistrict: map[string][]string{}, byArea: map[string][]string{}}
	if data == nil {
		return t
	}
	root := p.parse(data)
	if root == nil {
		return t
	}
	f := p.fields(root, "postcodes file", "version", "postcode_areas", "districts")
	p.version(f["version"], DirectoryVersion)
	areaLine := map[string]int{}
	if n := f["postcode_areas"]; n == nil {
		p.errorf(root.Line, "no postcode_areas: list every postcode area under the area its unlisted districts belong to")
	} else if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "postcode_areas: want area ids, each with a list of postcode areas")
	} else {
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if known[k.Value] == nil {
				p.errorf(k.Line, "postcode_areas: unknown area %q", k.Value)
			}
			for _, item := range p.items(v, "postcode_areas: "+k.Value) {
				letters := p.str(item, "postcode area")
				switch {
				case !isAreaLetters(letters):
					p.errorf(item.Line, "%q is not a postcode area: want one or two capital letters, like TF or B", letters)
				case areaLine[letters] != 0:
					p.errorf(item.Line, "postcode area %s is listed twice (first on line %d)", letters, areaLine[letters])
				default:
					areaLine[letters] = item.Line
					t.byArea[letters] = []string{k.Value}
				}
			}
		}
	}
	n := f["districts"]
	if n == nil {
		return t
	}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "districts: want postcode districts, each with an area or a list of areas")
		return t
	}
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		pc, ok := ParsePostcode(k.Value)
		switch {
		case !ok || pc.Inward != "" || pc.District != k.Value:
			p.errorf(k.Line, "%q is not a postcode district: want capitals and digits like TF1 or SY23", k.Value)
			continue
		case seen[k.Value] != 0:
			p.errorf(k.Line, "district %s is listed twice (first on line %d)", k.Value, seen[k.Value])
			continue
		case areaLine[pc.Area] == 0 && f["postcode_areas"] != nil:
			p.errorf(k.Line, "district %s: postcode area %s is not under postcode_areas", k.Value, pc.Area)
		}
		seen[k.Value] = k.Line
		unverified := false
		if v.Kind == yaml.MappingNode {
			what := "district " + k.Value
			df := p.fields(v, what, "areas", "source", "unverified", "note")
			p.str(df["source"], what+": source")
			p.str(df["note"], what+": note")
			unverified = p.boolean(df["unverified"], what+": unverified")
			if df["areas"] == nil {
				p.errorf(v.Line, "district %s names no area", k.Value)
				continue
			}
			v = df["areas"]
		}
		var ids []string
		if v.Kind == yaml.ScalarNode {
			ids = []string{v.Value}
		} else {
			ids = p.strs(v, "district "+k.Value)
		}
		if len(ids) == 0 {
			p.errorf(v.Line, "district %s names no area", k.Value)
		}
		for j, id := range ids {
			switch {
			case known[id] == nil:
				p.errorf(v.Line, "district %s names unknown area %q", k.Value, id)
			case slices.Index(ids, id) != j:
				p.errorf(v.Line, "district %s names area %q twice", k.Value, id)
			}
		}
		t.byDistrict[k.Value] = ids
		if unverified {
			p.warnf(k.Line, "district %s is unverified: confirm its areas %v in the ONS Postcode Directory and remove \"unverified\"", k.Value, ids)
		}
	}
	return t
}

// isAreaLetters reports whether s is one or two capital letters that a
// postcode area may use.
func isAreaLetters(s string) bool {
	if len(s) < 1 || len(s) > 2 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isLetter(s[i]) {
			return false
		}
	}
	return validAreaLetters(s)
}
