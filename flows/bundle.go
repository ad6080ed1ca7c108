package flows

import (
	"path/filepath"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// Bundle is everything the flow files define, loaded and checked.
type Bundle struct {
	Flow      *bot.Flow
	Directory *Directory
	Hours     *Hours
	// Duties are what the policies ask of officers, in the order of
	// duties.yaml (see DutiesFor, FollowUps, OfficerDuties).
	Duties []*Duty
}

// Load reads the flow files from dir over the embedded defaults ("" for
// the defaults alone) and checks them all. Warnings compare verified-on
// dates with now. When Problems has errors, the Bundle must not be used.
func Load(dir string, now time.Time) (*Bundle, Problems) {
	fsys, err := Source(dir)
	if err != nil {
		return nil, Problems{{File: dir, Msg: err.Error()}}
	}
	b := &Bundle{}
	var all Problems
	var ps Problems
	b.Hours, ps = LoadHours(fsys, HoursFile)
	all = append(all, ps...)
	b.Directory, ps = LoadDirectory(fsys, AreasFile, PostcodesFile)
	all = append(all, ps...)
	b.Directory = b.Directory.WithHours(b.Hours)
	all = append(all, b.Directory.CheckAge(now)...)
	menu := func(lang string) string { return bot.AreaMenu(b.Directory, nil, lang) }
	b.Flow, ps = loadFlow(fsys, menu)
	all = append(all, ps...)
	all = append(all, checkSignposts(b.Flow, b.Directory)...)
	b.Duties, ps = LoadDuties(fsys, DutiesFile, b.Flow)
	all = append(all, ps...)
	// Name the files an admin edited with their folder.
	for i, p := range all {
		all[i].File = displayName(dir, p.File)
	}
	return b, all
}

// displayName is how problems name a file: with the override directory
// when the file came from there, else its place in this repository.
func displayName(dir, name string) string {
	if dir != "" && fileExists(filepath.Join(dir, name)) {
		return filepath.Join(dir, name)
	}
	return "flows/default/" + name
}
