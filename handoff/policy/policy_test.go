package policy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/handoff"
)

func bundle(t *testing.T) *flows.Bundle {
	t.Helper()
	b, problems := flows.Load("", time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC))
	require.Empty(t, problems.Errors())
	return b
}

func ids(rs []handoff.DutyRule) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func byID(rs []handoff.DutyRule, id string) handoff.DutyRule {
	for _, r := range rs {
		if r.ID == id {
			return r
		}
	}
	return handoff.DutyRule{}
}

func TestDutiesAndTheirTimes(t *testing.T) {
	b := bundle(t)
	p := New(b)
	loc := b.Hours.Location()
	rules := p.DutiesFor([]bot.SummaryLine{{Step: "children", Label: "Children", Value: "Yes"}})
	assert.Equal(t, []string{"dash", "children_referral", "flag_address", "perpetrator_caution", "closure"}, ids(rules))

	// Tuesday 1 December 2026, 10:00: the DASH is due in one working
	// day, reminded three quarters of the way; the children's referral
	// by the end of the day.
	tue10 := time.Date(2026, 12, 1, 10, 0, 0, 0, loc)
	warn, due := byID(rules, "dash").Times(tue10)
	assert.Equal(t, b.Hours.Deadline(tue10), due)
	assert.True(t, warn.After(tue10) && warn.Before(due), "warn %s between %s and %s", warn, tue10, due)
	warn, due = byID(rules, "children_referral").Times(tue10)
	assert.Equal(t, b.Hours.EndOfDay(tue10), due)
	assert.Equal(t, tue10.Add(due.Sub(tue10)*3/4), warn)

	// Arising on Friday evening, the referral is due at Monday's close
	// and reminded on Monday, not in the night.
	fri20 := time.Date(2026, 12, 4, 20, 0, 0, 0, loc)
	warn, due = byID(rules, "children_referral").Times(fri20)
	assert.Equal(t, time.Monday, due.Weekday())
	assert.Equal(t, time.Monday, warn.Weekday())
	assert.True(t, b.Hours.Open(warn), "reminded in office hours: %s", warn)

	warn, due = byID(rules, "closure").Times(tue10)
	assert.True(t, warn.IsZero() && due.IsZero(), "due before closing: no time on the clock")
	assert.True(t, byID(rules, "perpetrator_caution").Reminder)
	assert.Nil(t, byID(rules, "perpetrator_caution").Times)

	// Security work: 24 hours on the clock.
	rules = p.DutiesFor([]bot.SummaryLine{{Step: "security", Label: "Security", Value: "the back door lock is broken"}})
	r := byID(rules, "security_repairs")
	require.True(t, r.Repairs)
	warn, due = r.Times(fri20)
	assert.Equal(t, fri20.Add(24*time.Hour), due)
	assert.Equal(t, fri20.Add(18*time.Hour), warn)
}

func TestDASHFollowUps(t *testing.T) {
	p := New(bundle(t))
	assert.Empty(t, p.FollowUps("dash", 13, false))
	assert.Equal(t, []string{"marac"}, ids(p.FollowUps("dash", 14, false)))
	assert.Equal(t, []string{"marac"}, ids(p.FollowUps("dash", 3, true)))
	assert.Equal(t, []string{"children_referral", "security_repairs", "adult_referral"}, ids(p.Offered()), "an officer may add these when they learn of them")
}
