package flows

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
)

// TestSignpostChecks checks each signpost rule against the default
// directory: one broken signpost per rule, with its exact problem.
func TestSignpostChecks(t *testing.T) {
	b, problems := Load("", time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC))
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	ok := func() *bot.Signpost {
		return &bot.Signpost{ID: "men", Label: "Men's Advice Line", Line: 10,
			Words:    map[string][]string{"en": {"im a man"}, "cy": {"dyn ydw i"}},
			Say:      bot.Text{"en": "For men:", "cy": "I ddynion:"},
			Services: []string{"mens_advice_line"}}
	}
	tests := []struct {
		name  string
		spoil func(*bot.Signpost)
		want  string
	}{
		{"no id", func(s *bot.Signpost) { s.ID = "" }, "intake.yaml:10: signpost without an id"},
		{"no label", func(s *bot.Signpost) { s.Label = "" }, "intake.yaml:10: signpost men: no label: name what officers will read on the case"},
		{"language left out", func(s *bot.Signpost) { delete(s.Words, "cy") }, "intake.yaml:10: signpost men: no words in cy: a tenant writing in it could never reach it"},
		{"other language", func(s *bot.Signpost) { s.Words["fr"] = []string{"homme"} }, `intake.yaml:10: signpost men: words for "fr", which is not one of the flow's languages`},
		{"unknown service", func(s *bot.Signpost) { s.Services = []string{"mens_line"} }, `intake.yaml:10: signpost men: unknown service "mens_line" (see areas.yaml)`},
		{"too long", func(s *bot.Signpost) { s.Say["en"] = strings.Repeat("word ", 60) },
			"intake.yaml:10: signpost men (en): with its numbers, 342 characters take 3 SMS segments; the most is 2 (306 characters)"},
	}
	fl := *b.Flow
	fl.Signposts = []*bot.Signpost{ok()}
	if got := checkSignposts(&fl, b.Directory); len(got) != 0 {
		t.Fatalf("a good signpost has problems: %v", got)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sp := ok()
			tt.spoil(sp)
			fl.Signposts = []*bot.Signpost{sp}
			var got []string
			for _, p := range checkSignposts(&fl, b.Directory) {
				got = append(got, p.String())
			}
			if !slices.Equal(got, []string{tt.want}) {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), tt.want)
			}
		})
	}
	fl.Signposts = []*bot.Signpost{ok(), ok()}
	if got := checkSignposts(&fl, b.Directory); len(got) != 1 || got[0].String() != "intake.yaml:10: signpost men is defined twice" {
		t.Errorf("a signpost twice: %v", got)
	}
}
