package flows_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/safecontact/safecontact/bot"
)

// TestEveryStepInBothLanguages answers every option of every step of the
// default flow, by number and by word, in each language, and checks where
// the conversation goes and that the next question comes in that language.
func TestEveryStepInBothLanguages(t *testing.T) {
	r := newRig(t)
	f := r.bundle.Flow
	n := 0
	check := func(name, lang string, s *bot.Step, answer, wantState string) {
		t.Helper()
		n++
		addr := fmt.Sprint("+4477009", n)
		r.at(addr, s.ID, lang)
		res, c := r.send(addr, answer)
		if next := f.Step(wantState); next.Kind == bot.KindArea && s.Edit == "" {
			// The rig's conversations know their area already, so the
			// area question answers itself, unless the tenant asked to change it.
			wantState = next.Next
		}
		if o := s.Option(c.Answers[s.ID]); o != nil && o.Emergency {
			// The emergency reply comes first, then the next question.
			if len(res.Replies) == 0 || res.Replies[0].Text != f.Messages[bot.MsgEmergency][lang] {
				t.Errorf("%s: %q: want the emergency reply first\nreplies:\n%s", name, answer, joined(res))
			}
		}
		if c.State != wantState {
			t.Errorf("%s: %q: at %s, want %s\nreplies:\n%s", name, answer, c.State, wantState, joined(res))
			return
		}
		next := f.Step(wantState)
		if want := prompt(r, next, lang); next.Kind != bot.KindEnd && !strings.Contains(joined(res), want) {
			t.Errorf("%s: %q: want the %s question in %s, %q\nreplies:\n%s", name, answer, wantState, lang, want, joined(res))
		}
	}
	for _, lang := range f.Languages {
		for _, s := range f.Steps {
			name := lang + "/" + s.ID
			switch s.Kind {
			case bot.KindChoice, bot.KindConfirm:
				for i, o := range s.Options {
					want := o.Next
					if want == "" {
						want = s.Next
					}
					if s.Edit != "" {
						// Changing one answer asks that question, then returns.
						want = o.Next
					}
					check(name+"/"+o.ID, lang, s, fmt.Sprint(i+1), want)
					if words := o.Words[lang]; len(words) > 0 {
						check(name+"/"+o.ID, lang, s, strings.ToUpper(words[0]), want)
					}
				}
			case bot.KindText:
				check(name, lang, s, "text only after 6pm", s.Next)
			case bot.KindArea:
				for i := range r.bundle.Directory.Areas() {
					check(fmt.Sprint(name, "/", i+1), lang, s, fmt.Sprint(i+1), s.Next)
				}
				check(name+"/postcode", lang, s, "tf1 1aa", s.Next)
			case bot.KindEnd:
				n++
				addr := fmt.Sprint("+4477009", n)
				r.at(addr, s.ID, lang)
				if res, _ := r.send(addr, "hello"); len(res.Replies) == 0 {
					t.Errorf("%s: no reply after the end", name)
				}
			}
		}
	}
	t.Logf("%d answers across %d steps in %v", n, len(f.Steps), f.Languages)
}
