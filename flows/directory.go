package flows

import (
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// The files of the area directory and of the office hours.
const (
	AreasFile     = "areas.yaml"
	PostcodesFile = "postcodes.yaml"
	HoursFile     = "hours.yaml"
)

// DirectoryVersion is the newest areas.yaml and postcodes.yaml version this
// safecontact understands; a newer file is refused at load.
const DirectoryVersion = 1

// FallbackArea is the area given when a tenant's text names none: the
// national services only. areas.yaml must define it.
const FallbackArea = "elsewhere"

// NumbersHeaderRoom is how many characters the heading above a list of
// numbers (the flow's "numbers" message) may take. The loader checks that
// every area's numbers, under a heading this long, fit in bot.MaxSegments
// SMS segments in every language.
const NumbersHeaderRoom = 30

// Service is one support line: a number with its discreet label for a
// tenant, and its official name, hours and source for officers.
type Service struct {
	ID string
	// Name is the service's official name, for officers only: it may say
	// what the line is for, so it is never sent to a tenant.
	Name string
	// Label is what a tenant reads before the number; it is discreet
	// ("National helpline, free, 24h"), since a lock screen may show it.
	Label bot.Text
	// HoursLabel says when a line that is not always open answers
	// ("weekdays 9-5"); a tenant always reads it with the number.
	HoursLabel bot.Text
	// Tip follows the number ("Can't speak? 999 then 55 (mobile)").
	Tip bot.Text
	// Number is digits and single spaces: "0808 2000 247", "999".
	Number string
	// Hours are the opening hours for officers ("24/7", "Mon-Fri 9am-5pm").
	Hours string
	// AlwaysOpen marks a 24-hour line; out of office hours these come first.
	AlwaysOpen bool
	// OutOfHours is the service given instead of this one while the
	// landlord's office is closed (a council's out-of-hours line), or nil.
	OutOfHours *Service
	// National services are listed by every area.
	National bool
	// Note is further guidance for officers.
	Note string
	// Source says where the number comes from; Verified is when it was
	// last checked there.
	Source   string
	Verified time.Time
	// Unconfirmed marks a number no one could confirm at a source. It is
	// for officers only: no area lists it under services, and no
	// service gives it out of hours (checked at load).
	Unconfirmed bool
	// Line is where the service is defined in areas.yaml.
	Line int

	verifiedLine int // where "verified" stands, for warnings
}

// line renders the service as a tenant reads it:
// "label[, hours]: number[. tip]".
func (s *Service) line(lang, def string) string {
	var b strings.Builder
	b.WriteString(s.Label.In(lang, def))
	if !s.AlwaysOpen {
		b.WriteString(", ")
		b.WriteString(s.HoursLabel.In(lang, def))
	}
	b.WriteString(": ")
	b.WriteString(s.Number)
	if tip := s.Tip.In(lang, def); tip != "" {
		b.WriteString(". ")
		b.WriteString(tip)
	}
	return b.String()
}

// area is one entry of areas.yaml.
type area struct {
	id       string
	name     bot.Text
	aliases  []string
	menu     bool
	services []*Service // what a tenant is sent, in order
	officers []*Service // further services officers see
	index    int        // place in the directory's areas
	line     int
}

// Directory is the area directory: the support services, the areas that
// list them, and the postcode districts of each area. It implements
// bot.Directory. A Directory is not changed after loading, so one value
// serves any number of goroutines.
type Directory struct {
	langs    []string
	services []*Service
	areas    []*area
	byID     map[string]*area
	// names maps a normalised area name or alias to its area.
	names map[string]*area
	// places are the entries of places.yaml.
	places []*Place
	// index finds area names and places in a tenant's text.
	index     nameIndex
	postcodes *districts
	// officers are shown to officers for every area.
	officers []*Service
	hours    bot.WorkingTime
	file     string
}

var _ bot.Directory = (*Directory)(nil)

// LoadDirectory reads the areas, the postcode districts and the places
// from fsys and checks them. The places are read from PlacesFile in the
// folder of areasFile; without that file only the areas' own names and
// aliases are known. The returned Problems name file and line; the
// Directory is only fit to use when Problems.Errors is empty. It orders
// numbers as if the office were closed until given office hours by
// WithHours.
func LoadDirectory(fsys fs.FS, areasFile, postcodesFile string) (*Directory, Problems) {
	places := path.Join(path.Dir(areasFile), PlacesFile)
	if _, err := fs.Stat(fsys, places); err != nil {
		places = ""
	}
	return LoadDirectoryFiles(fsys, DirectoryFiles{Areas: areasFile, Postcodes: postcodesFile, Places: places})
}

// DirectoryFiles names the files of an area directory.
type DirectoryFiles struct {
	Areas     string // AreasFile
	Postcodes string // PostcodesFile
	Places    string // PlacesFile, or "" for none
}

// LoadDirectoryFiles is LoadDirectory with each file named.
func LoadDirectoryFiles(fsys fs.FS, files DirectoryFiles) (*Directory, Problems) {
	ap := &problems{file: files.Areas}
	d := readAreas(ap, readFile(fsys, ap, files.Areas))
	d.file = files.Areas
	pp := &problems{file: files.Postcodes}
	d.postcodes = readDistricts(pp, readFile(fsys, pp, files.Postcodes), d.byID)
	all := append(ap.list, pp.list...)
	var pl *placesData
	if files.Places != "" {
		lp := &problems{file: files.Places}
		pl = readPlaces(lp, readFile(fsys, lp, files.Places), d)
		all = append(all, lp.list...)
	}
	d.buildIndex(pl)
	return d, all
}

// buildIndex makes the index Locate reads from the areas' names and the
// places.
func (d *Directory) buildIndex(pl *placesData) {
	if pl == nil {
		pl = &placesData{}
	}
	x := nameIndex{exact: map[string]*placeName{}, ordinary: map[string]bool{}}
	within := func(key string, own areaSet) areaSet {
		if ids, ok := pl.qualifiers[key]; ok {
			return own | d.set(ids)
		}
		return own
	}
	for key, a := range d.names {
		own := areaSet(1) << a.index
		x.add(key, own, within(key, own), true)
	}
	for _, p := range pl.places {
		own := d.set(p.Areas)
		for _, name := range append([]string{p.Name}, p.Aliases...) {
			x.add(name, own, within(normalName(name), own), p.Fuzzy)
		}
	}
	for _, w := range pl.ordinary {
		x.ordinary[w] = true
	}
	d.places = pl.places
	d.index = x
}

// Places returns the entries of places.yaml, in file order. They are the
// directory's own: callers must not change them.
func (d *Directory) Places() []*Place { return d.places }

// WithHours returns a copy of the directory that orders numbers by the
// office hours h: while the office is closed, 24-hour services come first
// and a service with an out-of-hours line gives that line instead.
func (d *Directory) WithHours(h bot.WorkingTime) *Directory {
	c := *d
	c.hours = h
	return &c
}

// CheckAge warns about every service whose number was verified more than
// a year before now, or whose verified date is after now.
func (d *Directory) CheckAge(now time.Time) Problems {
	p := &problems{file: d.file}
	limit := now.AddDate(-1, 0, 0)
	for _, s := range d.services {
		if s.Verified.IsZero() {
			continue
		}
		day := s.Verified.Format(time.DateOnly)
		switch {
		case s.Verified.Before(limit):
			p.warnf(s.verifiedLine, "service %q (%s) was verified on %s, over a year ago: check the number and update \"verified\"", s.ID, s.Number, day)
		case s.Verified.After(now):
			p.warnf(s.verifiedLine, "service %q (%s) has a verified date in the future: %s", s.ID, s.Number, day)
		}
	}
	return p.list
}

// Areas lists the menu areas in file order.
func (d *Directory) Areas() []bot.Area {
	var out []bot.Area
	for _, a := range d.areas {
		if a.menu {
			out = append(out, bot.Area{ID: a.id, Name: maps.Clone(a.name)})
		}
	}
	return out
}

// IDs lists every area's id in file order, in the menu or not ("wales" is
// reached by postcode only).
func (d *Directory) IDs() []string {
	out := make([]string, len(d.areas))
	for i, a := range d.areas {
		out[i] = a.id
	}
	return out
}

// Fallback returns FallbackArea.
func (d *Directory) Fallback() string { return FallbackArea }

// AreaName returns the area's name in lang, or "" for an unknown area.
func (d *Directory) AreaName(id, lang string) string {
	if a := d.byID[id]; a != nil {
		return a.name.In(lang, d.defaultLang())
	}
	return ""
}

func (d *Directory) defaultLang() string {
	if len(d.langs) == 0 {
		return "en"
	}
	return d.langs[0]
}

// Numbers returns the lines a tenant is sent for the area, in lang: the
// area's services in order while the office is open; while it is closed
// (or when the directory has no office hours), 24-hour services first,
// out-of-hours lines in place of the lines they stand in for, and the
// rest after them. A line that is not always open always says when it
// answers. An unknown area gets the fallback's numbers.
func (d *Directory) Numbers(id, lang string, now time.Time) []string {
	a := d.byID[id]
	if a == nil {
		a = d.byID[FallbackArea]
	}
	if a == nil {
		return nil
	}
	closed := d.hours == nil || !d.hours.Open(now)
	return d.areaLines(a, lang, closed)
}

// areaLines renders an area's services for a tenant, ordered for an
// office that is open or closed.
func (d *Directory) areaLines(a *area, lang string, closed bool) []string {
	var first, rest []*Service
	for _, s := range a.services {
		switch {
		case !closed:
			first = append(first, s)
		case s.OutOfHours != nil:
			first = append(first, s.OutOfHours)
		case s.AlwaysOpen:
			first = append(first, s)
		default:
			rest = append(rest, s)
		}
	}
	lines := make([]string, 0, len(first)+len(rest))
	for _, s := range append(first, rest...) {
		lines = append(lines, s.line(lang, d.defaultLang()))
	}
	return lines
}

// ServiceLines returns the tenant's lines of the services with the ids,
// in order and in lang; unknown ids and unconfirmed services are left
// out.
func (d *Directory) ServiceLines(ids []string, lang string) []string {
	var lines []string
	for _, id := range ids {
		for _, s := range d.services {
			if s.ID == id && !s.Unconfirmed {
				lines = append(lines, s.line(lang, d.defaultLang()))
				break
			}
		}
	}
	return lines
}

// Services returns every service officers see for the area: those a
// tenant is sent, their out-of-hours lines, then the area's and the
// directory's further services. It returns nil for an unknown area. The
// services are the directory's own: callers must not change them.
func (d *Directory) Services(id string) []*Service {
	a := d.byID[id]
	if a == nil {
		return nil
	}
	var out []*Service
	add := func(s *Service) {
		if s != nil && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range a.services {
		add(s)
		add(s.OutOfHours)
	}
	for _, s := range a.officers {
		add(s)
	}
	for _, s := range d.officers {
		add(s)
	}
	return out
}
