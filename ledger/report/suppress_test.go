package report

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestProtect(t *testing.T) {
	tests := []struct {
		label string
		total int
		fixed bool
		parts []int
		want  string // parts as shown, then the total
	}{
		{"nothing small", 30, true, []int{10, 0, 20}, "10 0 20 | 30"},
		{"one small: the next smallest goes too", 30, true, []int{3, 10, 17}, "<5 [c] 17 | 30"},
		{"two smalls that can't be told apart", 20, true, []int{2, 3, 15}, "<5 <5 15 | 20"},
		{"two ones give themselves away", 12, true, []int{1, 1, 10}, "<5 <5 [c] | 12"},
		{"two fours give themselves away", 20, true, []int{4, 4, 12}, "<5 <5 [c] | 20"},
		{"one and five leave the one known", 26, true, []int{1, 5, 20}, "<5 [c] [c] | 26"},
		{"a small total", 3, true, []int{1, 2, 0}, "<5 <5 0 | <5"},
		{"a row that can't be saved hides its total", 6, false, []int{1, 5}, "<5 [c] | [c]"},
		{"the period's total is never hidden for others", 6, true, []int{1, 5}, "<5 [c] | 6"},
	}
	for _, tc := range tests {
		t.Run(tc.label, func(t *testing.T) {
			total := &cell{n: tc.total, fixed: tc.fixed}
			cells := []*cell{total}
			var parts []*cell
			for _, n := range tc.parts {
				c := &cell{n: n}
				parts = append(parts, c)
				cells = append(cells, c)
			}
			protect(cells, []group{{total, parts}})
			assert.Equal(t, tc.want, shown(parts, total))
		})
	}
}

func shown(parts []*cell, total *cell) string {
	s := ""
	for _, c := range parts {
		s += c.value().String() + " "
	}
	return s + "| " + total.value().String()
}

// TestProtectBruteForce checks the rule against every way a reader could
// fill in the hidden counts of a row: whatever protect hides, each hidden
// count must have at least two possible values, knowing the total, the
// shown counts, that "<5" is 1 to 4 and that "[c]" is 5 or more.
func TestProtectBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 3000 {
		parts := make([]*cell, 2+r.IntN(4))
		cells := []*cell{}
		sum := 0
		for i := range parts {
			n := r.IntN(14)
			if r.IntN(3) == 0 {
				n = 1 + r.IntN(4)
			}
			parts[i] = &cell{n: n}
			cells = append(cells, parts[i])
			sum += n
		}
		total := &cell{n: sum, fixed: true}
		protect(append(cells, total), []group{{total, parts}})
		if total.hidden {
			continue // 1 to 4 cases: nothing to subtract from
		}
		var hidden []*cell
		left := sum // what the shown counts leave to the hidden ones
		for _, c := range parts {
			if c.hidden {
				hidden = append(hidden, c)
			} else {
				left -= c.n
			}
		}
		if (group{total, parts}).next() == nil {
			continue // every count above 0 hidden: the documented corner where the rule gives up
		}
		seen := make([]map[int]bool, len(hidden))
		for i := range seen {
			seen[i] = map[int]bool{}
		}
		var fill func(i, rest int, vals []int)
		fill = func(i, rest int, vals []int) {
			if i == len(hidden) {
				if rest == 0 {
					for j, v := range vals {
						seen[j][v] = true
					}
				}
				return
			}
			lo, hi := 5, rest
			if hidden[i].n <= small {
				lo, hi = 1, small
			}
			for v := lo; v <= hi && v <= rest; v++ {
				fill(i+1, rest-v, append(vals, v))
			}
		}
		fill(0, left, nil)
		for j, c := range hidden {
			if len(seen[j]) < 2 {
				var ns []int
				for _, p := range parts {
					ns = append(ns, p.n)
				}
				t.Fatalf("parts %v total %d: hidden %d can be worked out (%s)", ns, sum, c.n, fmt.Sprint(shown(parts, total)))
			}
		}
	}
}

func TestAmbiguous(t *testing.T) {
	tests := []struct {
		np, ns, sum int
		want        bool
	}{
		{1, 0, 3, false}, {0, 1, 7, false}, {2, 0, 2, false}, {2, 0, 8, false}, {2, 0, 5, true},
		{1, 1, 6, false}, {1, 1, 7, true}, {0, 2, 10, false}, {0, 2, 11, true}, {3, 0, 6, true},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, ambiguous(tc.np, tc.ns, tc.sum), "np %d ns %d sum %d", tc.np, tc.ns, tc.sum)
	}
}
