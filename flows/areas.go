package flows

import (
	"fmt"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/safecontact/safecontact/bot"
)

// readAreas reads areas.yaml into a Directory and reports every problem.
//
// The file, in short (flows/default/areas.yaml has the whole of it):
//
//	version: 1
//	languages: [en, cy]
//	services:
//	  - id: helpline
//	    name: National Domestic Abuse Helpline (Refuge)   # officers only
//	    label: {en: "National helpline, free, 24h", cy: "..."}
//	    number: "0808 2000 247"
//	    hours: 24/7
//	    always_open: true
//	    national: true          # every area must list it
//	    source: refuge.org.uk, checked November 2026
//	    verified: 2026-11-01
//	areas:
//	  - id: shropshire
//	    name: {en: Shropshire, cy: Swydd Amwythig}
//	    aliases: [shrops, shrewsbury]
//	    menu: true
//	    services: [emergency, helpline, wmwa, police_101, samaritans]
//	officers: [galop]           # shown to officers for every area
func readAreas(p *problems, data []byte) *Directory {
	d := &Directory{byID: map[string]*area{}, names: map[string]*area{}}
	if data == nil {
		return d
	}
	root := p.parse(data)
	if root == nil {
		return d
	}
	f := p.fields(root, "areas file", "version", "languages", "services", "areas", "officers")
	p.version(f["version"], DirectoryVersion)
	d.langs = p.strs(f["languages"], "languages")
	if len(d.langs) == 0 {
		p.errorf(root.Line, "no languages: add \"languages: [en, cy]\"")
	}
	r := areaReader{p: p, d: d, byID: map[string]*Service{}}
	for _, n := range p.items(f["services"], "services") {
		r.service(n)
	}
	for _, n := range p.items(f["services"], "services") {
		r.outOfHours(n)
	}
	for _, n := range p.items(f["areas"], "areas") {
		r.area(n)
	}
	d.officers = r.serviceList(f["officers"], "officers", "officers")
	r.check(root)
	return d
}

// areaReader holds what reading one areas file needs.
type areaReader struct {
	p    *problems
	d    *Directory
	byID map[string]*Service
	used map[*Service]bool
}

func (r *areaReader) service(n *yaml.Node) {
	p := r.p
	what := fmt.Sprintf("service %q", scalarAt(n, "id"))
	f := p.fields(n, what, "id", "name", "label", "hours_label", "tip", "number", "hours",
		"always_open", "out_of_hours", "national", "note", "source", "verified", "unconfirmed")
	s := &Service{Line: n.Line}
	s.ID = p.str(f["id"], "service id")
	switch prev := r.byID[s.ID]; {
	case s.ID == "":
		p.errorf(n.Line, "service with no id")
	case prev != nil:
		p.errorf(n.Line, "%s is defined twice (first on line %d)", what, prev.Line)
	default:
		r.byID[s.ID] = s
	}
	s.Name = p.str(f["name"], what+": name")
	s.Number = p.str(f["number"], what+": number")
	s.Hours = p.str(f["hours"], what+": hours")
	s.AlwaysOpen = p.boolean(f["always_open"], what+": always_open")
	s.National = p.boolean(f["national"], what+": national")
	s.Note = p.str(f["note"], what+": note")
	s.Unconfirmed = p.boolean(f["unconfirmed"], what+": unconfirmed")
	s.Source = p.str(f["source"], what+": source")
	for _, k := range []string{"name", "number", "hours", "source", "verified"} {
		if f[k] == nil {
			p.errorf(n.Line, "%s has no %s", what, k)
		}
	}
	if f["number"] != nil {
		if msg := numberProblem(s.Number); msg != "" {
			p.errorf(f["number"].Line, "%s: number %q: %s", what, s.Number, msg)
		}
	}
	if v := f["verified"]; v != nil {
		day, err := time.Parse(time.DateOnly, p.str(v, what+": verified"))
		if err != nil {
			p.errorf(v.Line, "%s: verified %q is not a date like 2026-11-01", what, v.Value)
		}
		s.Verified, s.verifiedLine = day, v.Line
	}
	s.Label = r.text(f["label"], n.Line, what+": label", true)
	s.Tip = r.text(f["tip"], n.Line, what+": tip", false)
	s.HoursLabel = r.text(f["hours_label"], n.Line, what+": hours_label", !s.AlwaysOpen)
	if s.AlwaysOpen && f["hours_label"] != nil {
		p.errorf(f["hours_label"].Line, "%s is always open: hours_label is for lines that are not", what)
	}
	if !validID(s.ID) {
		p.errorf(n.Line, "%s: an id is lower-case letters, digits and _", what)
	}
	r.d.services = append(r.d.services, s)
}

// outOfHours links each service to the line given instead of it while
// the office is closed, once every service is known.
func (r *areaReader) outOfHours(n *yaml.Node) {
	target := valueAt(n, "out_of_hours")
	if target == nil {
		return
	}
	s, t := r.byID[scalarAt(n, "id")], r.byID[target.Value]
	switch {
	case s == nil || s.Line != n.Line:
		// a duplicate id, reported already
	case t == nil:
		r.p.errorf(target.Line, "service %q: out_of_hours names unknown service %q", s.ID, target.Value)
	case t == s:
		r.p.errorf(target.Line, "service %q: out_of_hours must name another service", s.ID)
	case t.Unconfirmed:
		r.p.errorf(target.Line, "service %q: out_of_hours names unconfirmed service %q: a tenant is never sent an unconfirmed number", s.ID, t.ID)
	default:
		s.OutOfHours = t
		r.use(t)
	}
}

func (r *areaReader) area(n *yaml.Node) {
	p, d := r.p, r.d
	what := fmt.Sprintf("area %q", scalarAt(n, "id"))
	f := p.fields(n, what, "id", "name", "aliases", "menu", "services", "officers")
	a := &area{line: n.Line, index: len(d.areas)}
	a.id = p.str(f["id"], "area id")
	switch prev := d.byID[a.id]; {
	case a.id == "":
		p.errorf(n.Line, "area with no id")
		return
	case prev != nil:
		p.errorf(n.Line, "%s is defined twice (first on line %d)", what, prev.line)
		return
	case len(d.areas) == MaxAreas:
		p.errorf(n.Line, "%s is one area too many: a directory has at most %d", what, MaxAreas)
		return
	default:
		d.byID[a.id] = a
	}
	a.name = r.text(f["name"], n.Line, what+": name", true)
	a.menu = p.boolean(f["menu"], what+": menu")
	a.aliases = p.strs(f["aliases"], what+": aliases")
	names := append([]string{strings.ReplaceAll(a.id, "_", " ")}, a.aliases...)
	for _, l := range d.langs {
		names = append(names, a.name[l])
	}
	for _, name := range names {
		key := normalName(name)
		if key == "" {
			continue
		}
		if other := d.names[key]; other != nil && other != a {
			p.errorf(n.Line, "%s: name %q is also a name of area %q", what, name, other.id)
			continue
		}
		d.names[key] = a
	}
	a.services = r.serviceList(f["services"], what, "services")
	a.officers = r.serviceList(f["officers"], what, "officers")
	if n := f["services"]; n != nil && n.Kind == yaml.SequenceNode {
		for _, item := range n.Content {
			if s := r.byID[item.Value]; s != nil && s.Unconfirmed {
				p.errorf(item.Line, "%s: service %q is unconfirmed: list it under officers, never under services, which a tenant is sent", what, s.ID)
			}
		}
	}
	if f["services"] == nil {
		p.errorf(n.Line, "%s lists no services", what)
	}
	for _, s := range d.services {
		if s.National && r.byID[s.ID] == s && !containsService(a.services, s) {
			p.errorf(n.Line, "%s leaves out national service %q", what, s.ID)
		}
	}
	d.areas = append(d.areas, a)
}

// serviceList reads a list of service ids: key of owner.
func (r *areaReader) serviceList(n *yaml.Node, owner, key string) []*Service {
	var out []*Service
	what := owner + ": " + key
	if owner == key {
		what = key
	}
	for _, item := range r.p.items(n, what) {
		id := r.p.str(item, what)
		s := r.byID[id]
		switch {
		case s == nil:
			r.p.errorf(item.Line, "%s lists unknown service %q", owner, id)
		case containsService(out, s):
			r.p.errorf(item.Line, "%s lists service %q twice", owner, id)
		default:
			out = append(out, s)
			r.use(s)
		}
	}
	return out
}

func (r *areaReader) use(s *Service) {
	if r.used == nil {
		r.used = map[*Service]bool{}
	}
	r.used[s] = true
}

// valueAt returns the value of key in mapping n, or nil.
func valueAt(n *yaml.Node, key string) *yaml.Node {
	for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// scalarAt returns the scalar value of key in mapping n, or "".
func scalarAt(n *yaml.Node, key string) string {
	if v := valueAt(n, key); v != nil && v.Kind == yaml.ScalarNode {
		return v.Value
	}
	return ""
}

func containsService(list []*Service, s *Service) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// text reads a text in every language of the file; a tenant reads it, so
// it may hold no lock-screen word.
func (r *areaReader) text(n *yaml.Node, line int, what string, required bool) bot.Text {
	p := r.p
	if n == nil {
		if required {
			p.errorf(line, "%s: missing; give it in %s", what, strings.Join(r.d.langs, " and "))
		}
		return nil
	}
	t := bot.Text{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n.Line, "%s: want a text for each language, like {en: \"...\", cy: \"...\"}", what)
		return t
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		t[k.Value] = p.str(v, what)
		if w, _ := bot.LockScreenWord(t[k.Value]); w != "" {
			p.errorf(v.Line, "%s (%s) has the lock-screen word %q", what, k.Value, w)
		}
	}
	for _, l := range r.d.langs {
		if t[l] == "" {
			p.errorf(n.Line, "%s: no %s text", what, l)
		}
	}
	return t
}

// check reports what needs the whole file: the fallback area, the menu,
// services no area lists, and each area's SMS budget.
func (r *areaReader) check(root *yaml.Node) {
	p, d := r.p, r.d
	if d.byID[FallbackArea] == nil {
		p.errorf(root.Line, "no area %q: add it, with the national services, for tenants whose area is not known", FallbackArea)
	}
	if len(d.Areas()) == 0 {
		p.errorf(root.Line, "no area has \"menu: true\": the tenant's area menu would be empty")
	}
	for _, s := range d.services {
		if !r.used[s] && r.byID[s.ID] == s {
			p.warnf(s.Line, "service %q is not listed by any area", s.ID)
		}
	}
	header := strings.Repeat("x", NumbersHeaderRoom)
	for _, a := range d.areas {
		for _, lang := range d.langs {
			for _, closed := range []bool{false, true} {
				msg := header + "\n" + strings.Join(d.areaLines(a, lang, closed), "\n")
				if n, _ := bot.Segments(msg); n > bot.MaxSegments {
					p.errorf(a.line, "area %q: its numbers in %s take %d SMS segments under a heading of %d characters; the most is %d: shorten the labels",
						a.id, lang, n, NumbersHeaderRoom, bot.MaxSegments)
					break
				}
			}
		}
	}
}
