package flows

import (
	"embed"
	"errors"
	"io/fs"
	"os"

	"github.com/safecontact/safecontact/bot"
)

//go:embed default/*.yaml
var defaults embed.FS

// Defaults returns the embedded default files.
func Defaults() fs.FS {
	sub, err := fs.Sub(defaults, "default")
	if err != nil {
		panic(err) // the embed pattern above guarantees the folder
	}
	return sub
}

// overlay reads a file from dir when it is there, else from the defaults,
// so a landlord can override one file and keep the rest.
type overlay struct {
	dir  fs.FS
	base fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if o.dir != nil {
		f, err := o.dir.Open(name)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return o.base.Open(name)
}

// Source returns the files to load: those in dir over the embedded
// defaults. An empty dir means the defaults alone. The names of files
// from dir carry the dir, so problems name the file the admin edited.
func Source(dir string) (fs.FS, error) {
	if dir == "" {
		return Defaults(), nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, &fs.PathError{Op: "open", Path: dir, Err: errors.New("not a directory")}
	}
	return overlay{dir: os.DirFS(dir), base: Defaults()}, nil
}

// readFile reads one file of the source, reporting a problem if it can't.
func readFile(fsys fs.FS, p *problems, name string) []byte {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		p.errorf(0, "%v", err)
		return nil
	}
	return data
}

// loadFlow reads and checks the intake and its words. menu renders the
// area menu for {areas}, for the length check.
func loadFlow(fsys fs.FS, menu func(lang string) string) (*bot.Flow, Problems) {
	ip := &problems{file: IntakeFile}
	wp := &problems{file: WordsFile}
	ff := readFlow(ip, readFile(fsys, ip, IntakeFile))
	wf := readWords(wp, readFile(fsys, wp, WordsFile))
	fl := ff.flow
	fl.Words = wf.words
	fl.Switch = wf.switchTo
	if ff.parsed && wf.parsed {
		checkFlow(ff, wf, ip, wp, expander{landlord: fl.Landlord, areas: menu, words: wf.words})
	}
	dp := &problems{file: DangerFile}
	df := readDanger(dp, readFile(fsys, dp, DangerFile))
	fl.Danger = df.lexicon
	if ff.parsed && wf.parsed {
		checkDanger(df, fl, wf, menu, dp)
	}
	return fl, append(append(ip.list, wp.list...), dp.list...)
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
