package flows_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/flows"
)

// rig is an engine on the default flows with a store a test can put a
// conversation into at any step.
type rig struct {
	t      *testing.T
	bundle *flows.Bundle
	store  *memstore.Store
	engine *bot.Engine
	now    time.Time
}

func newRig(t *testing.T) *rig {
	t.Helper()
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	bundle, problems := flows.Load("", now)
	if errs := problems.Errors(); len(errs) > 0 {
		t.Fatalf("default flows: %v", errs)
	}
	r := &rig{t: t, bundle: bundle, store: memstore.New(func() time.Time { return now }), now: now}
	var err error
	r.engine, err = bot.New(bot.Config{
		Flow: bundle.Flow, Store: r.store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer([]byte("globals-test-key-0123456789abcdef")),
		Now:   func() time.Time { return now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// at puts a conversation for address at the step, in lang, with the steps
// before it (in flow order) answered, as if the tenant had got there.
func (r *rig) at(address, step, lang string) {
	r.t.Helper()
	c := &bot.Conversation{
		Channel: bot.ChannelSMS, Address: address, Lang: lang, State: step,
		Answers: map[string]string{}, Started: r.now, Updated: r.now, Area: "shropshire",
	}
	for _, s := range r.bundle.Flow.Steps {
		if s.ID == step {
			break
		}
		if s.Kind != bot.KindEnd && s.ID != "edit" {
			c.History = append(c.History, s.ID)
			c.Answers[s.ID] = bot.Skipped
		}
	}
	if s := r.bundle.Flow.Step(step); s.Handoff {
		c.HandedOff, c.Deadline = r.now, r.bundle.Hours.Deadline(r.now)
	}
	id := r.engine.ID(bot.ChannelSMS, address)
	if err := r.store.Save(context.Background(), id, 0, bot.Commit{Conversation: c, TTL: time.Hour}); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) send(address, text string) (bot.Result, *bot.Conversation) {
	r.t.Helper()
	return r.sendOn(bot.ChannelSMS, address, text)
}

// sendOn is send on another channel.
func (r *rig) sendOn(ch bot.Channel, address, text string) (bot.Result, *bot.Conversation) {
	r.t.Helper()
	res, err := r.engine.Handle(context.Background(), bot.Inbound{Channel: ch, Address: address, Text: text})
	if err != nil {
		r.t.Fatalf("Handle(%q): %v", text, err)
	}
	c, err := r.engine.Conversation(context.Background(), res.Conversation)
	if err != nil {
		r.t.Fatal(err)
	}
	return res, c
}

func hasEvent(res bot.Result, kind bot.EventKind) bool {
	return slices.ContainsFunc(res.Events, func(e bot.Event) bool { return e.Kind == kind })
}

func joined(res bot.Result) string {
	var parts []string
	for _, r := range res.Replies {
		parts = append(parts, r.Text)
	}
	return strings.Join(parts, "\n---\n")
}

// globalWords lists every global word of the flow, by kind, from every
// language's word lists: the test is generated from the data, so a word
// added to words.yaml is tested in every step without a change here.
func globalWords(f *bot.Flow) map[string][]string {
	out := map[string][]string{}
	for _, lang := range f.Languages {
		w := f.Words[lang]
		for kind, list := range map[string][]string{
			"exit": w.Exit, "opt_out": w.OptOut, "erase": w.Erase, "help": w.Help, "skip": w.Skip,
			"back": w.Back, "officer": w.Officer, "danger": w.Danger, "danger_phrase": w.DangerPhrases,
		} {
			out[kind] = append(out[kind], list...)
		}
	}
	for lang, list := range f.Switch {
		out["switch:"+lang] = append(out["switch:"+lang], list...)
	}
	return out
}

// TestGlobalWordsInEveryState sends every global word, in every step of
// the default flow, in both languages, and checks what it did.
func TestGlobalWordsInEveryState(t *testing.T) {
	r := newRig(t)
	f := r.bundle.Flow
	emergency := f.Messages[bot.MsgEmergency]
	numbers := f.Messages[bot.MsgNumbers]
	handoff := f.HandoffStep()
	cases := 0
	for _, lang := range f.Languages {
		for _, step := range f.Steps {
			for kind, words := range globalWords(f) {
				for _, word := range words {
					cases++
					name := fmt.Sprintf("%s/%s/%s/%s", lang, step.ID, kind, word)
					addr := "+44770090" + fmt.Sprint(cases)
					r.at(addr, step.ID, lang)
					res, c := r.send(addr, word)
					fail := func(format string, args ...any) {
						t.Helper()
						t.Errorf("%s: %s\nreplies:\n%s", name, fmt.Sprintf(format, args...), joined(res))
					}
					switch {
					case kind == "exit" || kind == "opt_out":
						want := map[string]bot.EventKind{"exit": bot.EventExited, "opt_out": bot.EventOptedOut}[kind]
						if len(res.Replies) != 0 || c != nil || !hasEvent(res, want) {
							fail("want no reply, the conversation erased and a %s event; got %d replies, conversation %v", want, len(res.Replies), c != nil)
						}
					case kind == "erase":
						// DELETE was asked for: one reply says what went.
						if len(res.Replies) != 1 || res.Replies[0].Text != f.Messages[bot.MsgErased][lang] || c != nil || !hasEvent(res, bot.EventErased) {
							fail("want the erased reply alone, the conversation erased and an erased event; got %d replies, conversation %v", len(res.Replies), c != nil)
						}
					case kind == "danger" || kind == "danger_phrase":
						if len(res.Replies) == 0 || res.Replies[0].Text != emergency[lang] || !hasEvent(res, bot.EventEmergency) || c.Priority != bot.Urgent {
							fail("want the emergency reply first, an emergency event and urgent priority")
						}
					case kind == "help":
						if len(res.Replies) == 0 || !strings.HasPrefix(res.Replies[0].Text, numbers[lang]) || c.State != step.ID {
							fail("want the numbers first and the step unchanged (now %s)", c.State)
						}
					case strings.HasPrefix(kind, "switch:") && step.LanguageAnswer && word != f.Switch[strings.TrimPrefix(kind, "switch:")][0]:
						// "Welsh" to "do you need an interpreter?" is an answer.
						if c.Answers[step.ID] != word || c.Lang != lang {
							fail("want %q recorded as the answer in %s, got %q in %s", word, lang, c.Answers[step.ID], c.Lang)
						}
					case strings.HasPrefix(kind, "switch:"):
						to := strings.TrimPrefix(kind, "switch:")
						if c.Lang != to || c.State != step.ID {
							fail("want language %s at step %s, got %s at %s", to, step.ID, c.Lang, c.State)
						}
						if step.Kind != bot.KindEnd && !strings.Contains(joined(res), prompt(r, step, to)) {
							fail("want the question again in %s", to)
						}
					case kind == "officer" && step.ID == f.Start:
						// Safety first: the handoff waits for a yes.
						if hasEvent(res, bot.EventHandoff) || c.State != step.ID || !c.WantsOfficer {
							fail("want the first question again and the handoff after it (now %s)", c.State)
						}
					case kind == "officer":
						if step.Handoff {
							if hasEvent(res, bot.EventHandoff) || c.State != step.ID {
								fail("want no second handoff after the handoff")
							}
						} else if !hasEvent(res, bot.EventHandoff) || c.State != handoff.ID {
							fail("want a handoff, and the handoff step (now %s)", c.State)
						}
					case kind == "skip" && step.Kind != bot.KindEnd && step.Kind != bot.KindConfirm:
						if c.Answers[step.ID] != bot.Skipped || c.State == step.ID {
							fail("want the step skipped and left (answer %q, now %s)", c.Answers[step.ID], c.State)
						}
					case kind == "back" && step.Kind != bot.KindEnd && step.ID != f.Start:
						if c.State == step.ID || len(res.Replies) == 0 {
							fail("want the previous question (still at %s)", c.State)
						}
					case kind == "back" && step.ID == f.Start:
						if c.State != step.ID || !strings.Contains(joined(res), f.Messages[bot.MsgCannotGoBack][lang]) {
							fail("want to stay at the first question and be told so")
						}
					default:
						// skip at a confirmation, skip and back after an end:
						// never a crash, never silence.
						if len(res.Replies) == 0 {
							fail("want a reply")
						}
					}
				}
			}
		}
	}
	t.Logf("%d cases: every global word in every step, in %v", cases, f.Languages)
}

// prompt is the step's question as the engine words it in lang.
func prompt(r *rig, s *bot.Step, lang string) string {
	p := strings.ReplaceAll(s.Ask[lang], bot.PlaceholderLandlord, r.bundle.Flow.Landlord[lang])
	if i := strings.Index(p, "{"); i >= 0 {
		p = p[:i] // the rest depends on the areas or the deadline
	}
	return p
}
