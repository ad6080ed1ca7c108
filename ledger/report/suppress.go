package report

// How small numbers are hidden (docs/reports.md says the same for readers).
//
//  1. Any count from 1 to 4 shows as "<5". 0 shows as 0.
//  2. Every table is a set of rows and columns that add up to a total
//     shown beside them (the areas add up to all cases; on time and
//     overdue add up to the duties triggered). Within each such row or
//     column, the hidden counts must not be workable out by subtracting
//     the shown ones from the total: a single hidden count could be, and
//     so could several whose sum forces their values (two "<5" that leave
//     2 to share are both 1). While that is so, the smallest count still
//     shown in that row or column is hidden too, as "[c]"; when none is
//     left, its total is hidden as "[c]" and checked where it is a part.
//     A "[c]" is always 5 or more, and the check allows for the reader
//     knowing that. The cases in the whole period are never hidden this
//     way, only when they are 1 to 4.
//  3. A percentage shows only when its denominator is 5 or more and both
//     its counts are shown; otherwise "<5" (or "[c]" when a count it is
//     made from is a "[c]"). A median shows only when it is worked out
//     from 5 cases or more; otherwise "<5".
//  4. Charts are drawn from the figures as shown: a hidden figure draws
//     no bar.
//
// The check is made row by row and column by column within each table, as
// statistical offices do by hand; it is not an audit of every combination
// across tables.

// cell is one count before it is shown.
type cell struct {
	n      int
	hidden bool
	fixed  bool // the period's total: hidden only when 1 to 4
}

// small is the largest count that is hidden for itself.
const small = 4

// group is a row or column of counts whose parts add up to total.
type group struct {
	total *cell
	parts []*cell
}

// protect hides the counts from 1 to 4, then more counts until no group
// lets a hidden count be worked out by subtraction.
func protect(cells []*cell, groups []group) {
	for _, c := range cells {
		if c.n >= 1 && c.n <= small {
			c.hidden = true
		}
	}
	for changed := true; changed; {
		changed = false
		for _, g := range groups {
			for !g.safe() {
				c := g.next()
				if c == nil {
					break
				}
				c.hidden = true
				changed = true
			}
		}
	}
}

// safe reports whether every hidden part of g could still take at least
// two values, given the shown parts, the total, and that a hidden part is
// from 1 to 4 ("<5") or at least 5 ("[c]"). A hidden total leaves nothing
// to subtract from.
func (g group) safe() bool {
	if g.total.hidden {
		return true
	}
	var np, ns, sum int // hidden "<5", hidden "[c]", and their sum
	for _, c := range g.parts {
		if !c.hidden {
			continue
		}
		sum += c.n
		if c.n <= small {
			np++
		} else {
			ns++
		}
	}
	return ambiguous(np, ns, sum)
}

// ambiguous reports whether np counts from 1 to 4 and ns counts of 5 or
// more that add up to sum leave each of them at least two possible values.
func ambiguous(np, ns, sum int) bool {
	if np > 0 {
		// One "<5" is largest when the others are smallest.
		hi := min(small, sum-(np-1)-(small+1)*ns)
		lo := 1
		if ns == 0 {
			lo = max(1, sum-small*(np-1))
		}
		if hi <= lo {
			return false
		}
	}
	if ns > 0 {
		hi := sum - np - (small+1)*(ns-1)
		lo := small + 1
		if ns == 1 {
			lo = max(small+1, sum-small*np)
		}
		if hi <= lo {
			return false
		}
	}
	return true
}

// next is the count to hide next in g: its smallest shown part above 0,
// else its total unless that is the period's total; nil when there is
// nothing left to hide.
func (g group) next() *cell {
	var best *cell
	for _, c := range g.parts {
		if !c.hidden && c.n > 0 && (best == nil || c.n < best.n) {
			best = c
		}
	}
	if best == nil && !g.total.hidden && !g.total.fixed {
		best = g.total
	}
	return best
}
