package flows_test

import (
	"fmt"
	"testing"

	"github.com/safecontact/safecontact/bot"
)

// TestPriorityRules drives the default flow from a step through answers
// and checks the priority DESIGN §6 asks for: urgent for danger now or for
// living with the person and not safe at home; high for children in the
// home or a risk word in free text; standard otherwise; never lowered.
// Words of danger in any message (a weapon, strangling) make it urgent.
func TestPriorityRules(t *testing.T) {
	tests := []struct {
		name    string
		lang    string
		from    string
		answers []string
		want    bot.Priority
		raised  bool // a priority_raised event on the last answer
	}{
		{"danger now", "en", "danger", []string{"yes"}, bot.Urgent, true},
		{"not in danger", "en", "danger", []string{"no"}, bot.Standard, false},
		{"lives with, not safe at home", "en", "lives_with", []string{"yes", "no", "n", "no"}, bot.Urgent, true},
		{"lives apart, not safe at home", "en", "lives_with", []string{"no", "no", "n", "no"}, bot.Standard, false},
		{"lives with, safe at home", "en", "lives_with", []string{"yes", "no", "n", "yes"}, bot.Standard, false},
		{"children in the home", "en", "children", []string{"yes"}, bot.High, true},
		{"children, Welsh", "cy", "children", []string{"oes"}, bot.High, true},
		{"risk word in free text", "en", "security", []string{"I'm PREGNANT, the lock is broken"}, bot.High, true},
		{"risk stem in free text", "en", "reported", []string{"told the midwife, im pregnant"}, bot.High, true},
		{"risk word, Welsh", "cy", "security", []string{"rwy'n feichiog, mae'r clo wedi torri"}, bot.High, true},
		{"weapon in free text is danger", "en", "security", []string{"He said he'd get a KNIFE"}, bot.Urgent, true},
		{"strangling is danger", "en", "reported", []string{"he strangled me last year"}, bot.Urgent, true},
		{"weapon, Welsh, is danger", "cy", "security", []string{"mae ganddo gyllell"}, bot.Urgent, true},
		{"no risk word", "en", "security", []string{"the back door lock"}, bot.Standard, false},
		{"danger word anywhere", "en", "needs", []string{"999"}, bot.Urgent, true},
		{"never lowered", "en", "danger", []string{"yes", "hello", "1", "no"}, bot.Urgent, false},
		{"children then danger", "en", "children", []string{"yes", "help me now"}, bot.Urgent, true},
		{"risk word after the handoff", "en", "handed_off", []string{"i think im pregnant"}, bot.High, true},
		{"danger after the handoff", "en", "handed_off", []string{"he has a gun"}, bot.Urgent, true},
	}
	r := newRig(t)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr := fmt.Sprint("+4477008", i)
			r.at(addr, tt.from, tt.lang)
			var res bot.Result
			var c *bot.Conversation
			for _, a := range tt.answers {
				res, c = r.send(addr, a)
			}
			if c.Priority != tt.want {
				t.Errorf("priority %s, want %s (at %s, answers %v)", c.Priority, tt.want, c.State, c.Answers)
			}
			if got := hasEvent(res, bot.EventPriorityRaised); got != tt.raised {
				t.Errorf("priority_raised event on the last answer: %v, want %v", got, tt.raised)
			}
		})
	}
}
