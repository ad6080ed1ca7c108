package flows

import (
	"slices"
	"sort"
	"strings"

	"github.com/safecontact/safecontact/bot"
)

// checkSignposts reports, against the area directory, a signpost without
// an id or a label, one whose words leave out a language of the flow, one
// naming an unknown service, and one whose message with its numbers takes
// more than bot.MaxSegments SMS segments. Problems name intake.yaml.
func checkSignposts(fl *bot.Flow, d *Directory) Problems {
	p := &problems{file: IntakeFile}
	ids := map[string]bool{}
	for _, sp := range fl.Signposts {
		switch {
		case sp.ID == "":
			p.errorf(sp.Line, "signpost without an id")
		case ids[sp.ID]:
			p.errorf(sp.Line, "signpost %s is defined twice", sp.ID)
		}
		ids[sp.ID] = true
		if sp.Label == "" {
			p.errorf(sp.Line, "signpost %s: no label: name what officers will read on the case", sp.ID)
		}
		for _, lang := range fl.Languages {
			if len(sp.Words[lang]) == 0 {
				p.errorf(sp.Line, "signpost %s: no words in %s: a tenant writing in it could never reach it", sp.ID, lang)
			}
		}
		var langs []string
		for lang := range sp.Words {
			langs = append(langs, lang)
		}
		sort.Strings(langs)
		for _, lang := range langs {
			if !slices.Contains(fl.Languages, lang) {
				p.errorf(sp.Line, "signpost %s: words for %q, which is not one of the flow's languages", sp.ID, lang)
			}
		}
		if d == nil {
			continue
		}
		known := true
		for _, id := range sp.Services {
			if !d.hasService(id) {
				known = false
				p.errorf(sp.Line, "signpost %s: unknown service %q (see %s)", sp.ID, id, AreasFile)
			}
		}
		if !known {
			continue
		}
		for _, lang := range fl.Languages {
			msg := strings.Join(append([]string{sp.Say.In(lang, fl.DefaultLang())}, d.ServiceLines(sp.Services, lang)...), "\n")
			if n, gsm := bot.Segments(msg); n > bot.MaxSegments {
				p.errorf(sp.Line, "signpost %s (%s): with its numbers, %s", sp.ID, lang, tooLong(msg, n, gsm))
			}
		}
	}
	return p.list
}

// hasService reports whether the directory defines the service.
func (d *Directory) hasService(id string) bool {
	for _, s := range d.services {
		if s.ID == id {
			return true
		}
	}
	return false
}
