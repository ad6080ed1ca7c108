package flows

import (
	"fmt"
	"strings"
)

// Problem is one finding of loading and checking flow files. An error stops
// start-up; a warning (a number past its verified-on date) does not.
type Problem struct {
	File    string
	Line    int
	Msg     string
	Warning bool
}

// String formats the problem as "file:line: msg", the form editors and CI
// logs turn into links.
func (p Problem) String() string {
	kind := ""
	if p.Warning {
		kind = "warning: "
	}
	if p.Line > 0 {
		return fmt.Sprintf("%s:%d: %s%s", p.File, p.Line, kind, p.Msg)
	}
	return fmt.Sprintf("%s: %s%s", p.File, kind, p.Msg)
}

// Problems is the list of findings of a load. As an error it lists the
// errors only, one per line.
type Problems []Problem

// Errors returns the problems that stop start-up.
func (ps Problems) Errors() Problems {
	var out Problems
	for _, p := range ps {
		if !p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Warnings returns the problems that do not stop start-up.
func (ps Problems) Warnings() Problems {
	var out Problems
	for _, p := range ps {
		if p.Warning {
			out = append(out, p)
		}
	}
	return out
}

// Error implements error, listing every problem on its own line.
func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// problems collects findings for one file.
type problems struct {
	file string
	list Problems
}

func (p *problems) errorf(line int, format string, args ...any) {
	p.list = append(p.list, Problem{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...)})
}

func (p *problems) warnf(line int, format string, args ...any) {
	p.list = append(p.list, Problem{File: p.file, Line: line, Msg: fmt.Sprintf(format, args...), Warning: true})
}
