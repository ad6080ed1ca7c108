package ledger

import (
	"math/rand/v2"
	"slices"
	"time"
)

// Fixture returns n made-up entries for cases opened from from
// (inclusive) to to (exclusive), the same for the same arguments, with
// spreads like a landlord's: most cases in Telford & Wrekin and
// Shropshire, more texts than chats, mostly English with Welsh mainly in
// Wales, about one in eight urgent, contact mostly within the promise,
// some duties late, some tenants never contacted, a few cases still open
// at the end. Office hours are taken as Monday to Friday 9:00 to 17:00 in
// from's location (bank holidays are not counted). Entries are oldest
// first.
func Fixture(seed int64, from, to time.Time, n int) []Entry {
	g := gen{rand.New(rand.NewPCG(uint64(seed), 0x5afec0417ac7)), from.Location()}
	start, end := from.UTC().Truncate(time.Hour), to.UTC().Truncate(time.Hour)
	if !start.Before(end) {
		return nil
	}
	if start.Before(from) {
		start = start.Add(time.Hour)
	}
	hours := int64(end.Sub(start) / time.Hour)
	entries := make([]Entry, 0, n)
	for range n {
		entries = append(entries, g.entry(start, hours, end))
	}
	slices.SortStableFunc(entries, func(a, b Entry) int { return a.Hour.Compare(b.Hour) })
	return entries
}

// gen draws one entry at a time.
type gen struct {
	r   *rand.Rand
	loc *time.Location
}

// pick chooses one of choices, weighted.
func pick[T any](r *rand.Rand, choices []T, weights []float64) T {
	var sum float64
	for _, w := range weights {
		sum += w
	}
	x := r.Float64() * sum
	for i, w := range weights {
		if x < w {
			return choices[i]
		}
		x -= w
	}
	return choices[len(choices)-1]
}

// hourWeight makes nights quieter than days and evenings.
var hourWeight = [24]float64{
	.25, .2, .15, .15, .15, .2, .3, .6, .8, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, .9, .8, .6, .4,
}

func (g gen) inHours(t time.Time) bool {
	t = t.In(g.loc)
	wd := t.Weekday()
	return wd != time.Saturday && wd != time.Sunday && t.Hour() >= 9 && t.Hour() < 17
}

// untilOpen is the time from t to the next 9:00 on a weekday.
func (g gen) untilOpen(t time.Time) time.Duration {
	u := t
	for !g.inHours(u) {
		u = u.Add(time.Hour)
	}
	return u.Sub(t)
}

func (g gen) chance(p float64) bool { return g.r.Float64() < p }

// between returns a whole number of minutes from lo to hi.
func (g gen) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo.Truncate(time.Minute)
	}
	return (lo + time.Duration(g.r.Int64N(int64(hi-lo)))).Truncate(time.Minute)
}

func (g gen) entry(start time.Time, hours int64, end time.Time) Entry {
	var e Entry
	for {
		e.Hour = start.Add(time.Duration(g.r.Int64N(hours)) * time.Hour)
		if g.chance(hourWeight[e.Hour.In(g.loc).Hour()]) {
			break
		}
	}
	e.OutOfHours = !g.inHours(e.Hour)
	e.Area = pick(g.r, []string{"telford_wrekin", "shropshire", "staffordshire", "herefordshire", "wales", "elsewhere", ""},
		[]float64{28, 24, 16, 10, 10, 4, 8})
	e.Channel = pick(g.r, []string{"sms", "webchat"}, []float64{62, 38})
	e.Lang = "en"
	if (e.Area == "wales" && g.chance(.35)) || g.chance(.015) {
		e.Lang = "cy"
	}
	e.Priority = pick(g.r, []int{Standard, High, Urgent}, []float64{58, 30, 12})
	switch e.Priority {
	case Urgent:
		e.Why = "danger"
	case High:
		e.Why = pick(g.r, []string{"answers", "danger"}, []float64{75, 25})
	}
	e.Reason = pick(g.r, []string{"complete", "officer"}, []float64{82, 18})
	if e.Why == "danger" && g.chance(.5) {
		e.Reason = "danger"
	}
	e.LeftEarly = g.chance(.08)

	// The promise, as working hours make it.
	open := g.untilOpen(e.Hour)
	switch e.Priority {
	case Urgent:
		e.Deadline = time.Hour
	case High:
		e.Deadline = open + 4*time.Hour
	default:
		e.Deadline = open + 24*time.Hour
	}

	e.Claimed = g.chance(.97)
	if e.Claimed {
		switch e.Priority {
		case Urgent:
			e.ToClaim = g.between(2*time.Minute, 20*time.Minute)
		case High:
			e.ToClaim = open + g.between(5*time.Minute, 75*time.Minute)
		default:
			e.ToClaim = open + g.between(10*time.Minute, 5*time.Hour)
		}
	}
	reach := .92
	if e.LeftEarly {
		reach = .6
	}
	e.Contacted = e.Claimed && g.chance(reach)
	if e.Contacted {
		if g.chance(.88) {
			e.ToContact = g.between(e.ToClaim+time.Minute, max(e.Deadline, e.ToClaim+2*time.Minute))
		} else {
			e.ToContact = g.between(max(e.Deadline, e.ToClaim)+time.Minute, 2*e.Deadline+time.Hour)
		}
	}

	duty := func(id string, p float64) {
		if !g.chance(p) {
			return
		}
		e.Duties = append(e.Duties, id)
		switch x := g.r.Float64(); {
		case x < .84:
			e.DoneOnTime = append(e.DoneOnTime, id)
		case x < .95:
			e.DoneLate = append(e.DoneLate, id)
		}
	}
	// As flows/default/duties.yaml calls for them.
	duty("dash", 1)
	if e.Priority > Standard {
		duty("marac", .3)
	}
	duty("children_referral", .3)
	duty("adult_referral", .04)
	duty("security_repairs", .25)
	duty("flag_address", 1)

	if end.Sub(e.Hour) < 72*time.Hour && g.chance(.5) {
		return e // still open
	}
	duty("closure", 1)
	if e.Contacted {
		e.Outcome = pick(g.r, []string{
			"Contacted: safety plan agreed", "Contacted: referred to support services",
			"Contacted: housing options given", "Not domestic abuse: passed on",
		}, []float64{45, 30, 20, 5})
		e.Discussed = pick(g.r, []string{"yes", "no"}, []float64{85, 15})
	} else {
		e.Outcome = pick(g.r, []string{"Could not contact safely", "Tenant declined support"}, []float64{70, 30})
		e.Discussed = "no"
	}
	return e
}
