package bot

import "fmt"

// Priority orders cases in the officer queue. The zero value is Standard.
type Priority int

// Priorities, lowest first, as DESIGN §6 defines them.
const (
	Standard Priority = iota // the rest
	High                     // children in the home, or risk words in free text
	Urgent                   // in danger now, or unsafe at home while living with the person
)

// String returns the priority's name as used in scripts and officer cards.
func (p Priority) String() string {
	switch p {
	case Standard:
		return "standard"
	case High:
		return "high"
	case Urgent:
		return "urgent"
	}
	return fmt.Sprintf("priority(%d)", int(p))
}

// ParsePriority parses a priority name written by String.
func ParsePriority(s string) (Priority, error) {
	for p := Standard; p <= Urgent; p++ {
		if p.String() == s {
			return p, nil
		}
	}
	return Standard, fmt.Errorf("unknown priority %q (want standard, high or urgent)", s)
}
