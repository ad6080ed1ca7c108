package flows

import (
	"fmt"
	"slices"

	"go.yaml.in/yaml/v3"
)

// PlacesFile is the file of towns, villages and districts a tenant may
// name, and the areas each is in.
const PlacesFile = "places.yaml"

// Place is one entry of places.yaml: a town, village, suburb or county a
// tenant may name when asked where they live.
type Place struct {
	// Name is the place's usual English name, "Bishop's Castle".
	Name string
	// Aliases are its other names: the Welsh name ("Amwythig"), a short
	// or older form ("Salop").
	Aliases []string
	// Areas are the ids of every area a place of this name is in, in
	// directory order: "Newport" is in Telford & Wrekin and in Wales.
	Areas []string
	// Source names where the place's areas come from.
	Source string
	// Unverified marks an entry no one has yet confirmed at its source;
	// `flows check` warns about each.
	Unverified bool
	// Fuzzy is false for a name so close to everyday words that only its
	// exact spelling counts ("Stone").
	Fuzzy bool
	// Line is where the place is defined in places.yaml.
	Line int
}

// placesData is what places.yaml holds.
type placesData struct {
	places []*Place
	// qualifiers maps a normalised name to the further areas it keeps
	// when it qualifies another name ("Newport, Shropshire").
	qualifiers map[string][]string
	// ordinary are normalised words never read as a misspelt place.
	ordinary []string
}

// readPlaces reads places.yaml and reports every problem. d holds the
// areas already read, to check area ids and that no place repeats an
// area's own name or alias.
//
// The file, in short (flows/default/places.yaml has the whole of it):
//
//	version: 1
//	sources:
//	  royal_mail: Royal Mail post towns (Postcode Address File)
//	places:
//	  - {name: Wellington, areas: [telford_wrekin, herefordshire], source: ons_ipn}
//	  - {name: Shrewsbury, aliases: [Amwythig], areas: shropshire, source: royal_mail}
//	  - {name: Stone, areas: staffordshire, source: royal_mail, fuzzy: false}
//	  - {name: Lower Penn, areas: staffordshire, source: ons_ipn, unverified: true}
//	qualifiers:
//	  - {names: [Shropshire, Shrops, Salop], areas: [shropshire, telford_wrekin], source: ons_ipn}
//	ordinary_words: [store, stove]
func readPlaces(p *problems, data []byte, d *Directory) *placesData {
	out := &placesData{qualifiers: map[string][]string{}}
	if data == nil {
		return out
	}
	root := p.parse(data)
	if root == nil {
		return out
	}
	f := p.fields(root, "places file", "version", "sources", "places", "qualifiers", "ordinary_words")
	p.version(f["version"], DirectoryVersion)
	sources := map[string]bool{}
	if n := f["sources"]; n == nil {
		p.errorf(root.Line, "no sources: name where the places come from, like \"royal_mail: Royal Mail post towns\"")
	} else if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "sources: want source ids, each with what the source is")
	} else {
		for i := 0; i+1 < len(n.Content); i += 2 {
			sources[n.Content[i].Value] = true
			p.str(n.Content[i+1], "source "+n.Content[i].Value)
		}
	}
	seen := map[string]int{} // normalised name → line
	claim := func(name string, line int, what string) bool {
		key := normalName(name)
		switch {
		case key == "":
			p.errorf(line, "%s: a name needs letters", what)
			return false
		case d.names[key] != nil:
			p.errorf(line, "%s: %q is already a name of area %q in %s: leave it there", what, name, d.names[key].id, AreasFile)
			return false
		case seen[key] != 0:
			p.errorf(line, "%s: %q is listed twice (first on line %d): give one entry every area it may be in", what, name, seen[key])
			return false
		}
		seen[key] = line
		return true
	}
	for _, n := range p.items(f["places"], "places") {
		pl := &Place{Line: n.Line, Fuzzy: true}
		pf := p.fields(n, fmt.Sprintf("place %q", scalarAt(n, "name")), "name", "aliases", "areas", "source", "unverified", "fuzzy", "note")
		pl.Name = p.str(pf["name"], "place name")
		what := fmt.Sprintf("place %q", pl.Name)
		if pf["name"] == nil {
			p.errorf(n.Line, "place with no name")
			continue
		}
		pl.Aliases = p.strs(pf["aliases"], what+": aliases")
		pl.Areas = readAreaIDs(p, pf["areas"], n.Line, what, d)
		pl.Source = p.str(pf["source"], what+": source")
		switch {
		case pf["source"] == nil:
			p.errorf(n.Line, "%s has no source", what)
		case !sources[pl.Source]:
			p.errorf(pf["source"].Line, "%s: unknown source %q: add it under sources", what, pl.Source)
		}
		pl.Unverified = p.boolean(pf["unverified"], what+": unverified")
		if pf["fuzzy"] != nil {
			pl.Fuzzy = p.boolean(pf["fuzzy"], what+": fuzzy")
		}
		p.str(pf["note"], what+": note")
		ok := claim(pl.Name, n.Line, what)
		for _, a := range pl.Aliases {
			ok = claim(a, n.Line, what) && ok
		}
		if !ok || len(pl.Areas) == 0 {
			continue
		}
		if pl.Unverified {
			p.warnf(n.Line, "%s is unverified: confirm that it is in %v at its source (%s) and remove \"unverified\"", what, pl.Areas, pl.Source)
		}
		out.places = append(out.places, pl)
	}
	for _, n := range p.items(f["qualifiers"], "qualifiers") {
		qf := p.fields(n, "qualifier", "names", "areas", "source", "note")
		names := p.strs(qf["names"], "qualifier: names")
		if len(names) == 0 {
			p.errorf(n.Line, "qualifier with no names")
		}
		ids := readAreaIDs(p, qf["areas"], n.Line, "qualifier", d)
		switch s := p.str(qf["source"], "qualifier: source"); {
		case qf["source"] == nil:
			p.errorf(n.Line, "qualifier has no source")
		case !sources[s]:
			p.errorf(qf["source"].Line, "qualifier: unknown source %q: add it under sources", s)
		}
		p.str(qf["note"], "qualifier: note")
		for _, name := range names {
			key := normalName(name)
			if d.names[key] == nil && seen[key] == 0 {
				p.errorf(n.Line, "qualifier: %q is not the name of an area or a place", name)
				continue
			}
			out.qualifiers[key] = ids
		}
	}
	for _, w := range p.strs(f["ordinary_words"], "ordinary_words") {
		if key := normalName(w); key != "" {
			out.ordinary = append(out.ordinary, compactName(key))
		}
	}
	return out
}

// readAreaIDs reads one area id or a list of them, each an area of d,
// each once, and returns them in directory order.
func readAreaIDs(p *problems, n *yaml.Node, line int, what string, d *Directory) []string {
	if n == nil {
		p.errorf(line, "%s names no area: give \"areas\"", what)
		return nil
	}
	var ids []string
	if n.Kind == yaml.ScalarNode {
		ids = []string{n.Value}
	} else {
		ids = p.strs(n, what+": areas")
	}
	if len(ids) == 0 {
		p.errorf(n.Line, "%s names no area", what)
	}
	var out []string
	for j, id := range ids {
		switch {
		case d.byID[id] == nil:
			p.errorf(n.Line, "%s names unknown area %q", what, id)
		case slices.Index(ids, id) != j:
			p.errorf(n.Line, "%s names area %q twice", what, id)
		default:
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b string) int { return d.byID[a].index - d.byID[b].index })
	return out
}
