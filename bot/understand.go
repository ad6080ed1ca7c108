package bot

import (
	"strconv"
	"strings"
)

// isDanger reports whether a message signals danger: a danger word as the
// whole message ("999", "DANGER"), one of the words' danger phrases, or
// the flow's danger lexicon anywhere in it. text is the message
// normalised, raw as the tenant wrote it.
func (e *Engine) isDanger(text, raw string) bool {
	if e.lex.isDanger(text) {
		return true
	}
	_, ok := e.flow.Danger.Match(raw)
	return ok
}

// signpost sends, once a conversation each, the services the tenant's
// own words call for: the men's line to a man who says so, emergencySMS
// to a deaf tenant.
func (t *turn) signpost(text string) {
	for _, sp := range t.e.flow.Signposts {
		if !t.e.lex.signposts[sp].within(text) || containsString(t.conv.Signposted, sp.ID) {
			continue
		}
		t.conv.Signposted = append(t.conv.Signposted, sp.ID)
		t.changed = true
		msg := t.c.text(sp.Say)
		for _, l := range t.e.dir.ServiceLines(sp.Services, t.c.lang) {
			msg += "\n" + l
		}
		t.say(msg)
	}
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// choices are the answers a step takes, for buttons: a choice or confirm
// step's options by label, sending the option's first word in the
// conversation's language ("Y") or its number; a text step's options
// ("Nothing"); an area step's menu, or the areas a place straddles.
func (c composer) choices(s *Step, conv *Conversation) []Choice {
	switch s.Kind {
	case KindArea:
		ids := conv.AreaChoices
		if len(ids) == 0 {
			ids = c.menuAreas()
		}
		out := make([]Choice, len(ids))
		for i, id := range ids {
			out[i] = Choice{Label: c.e.dir.AreaName(id, c.lang), Send: strconv.Itoa(i + 1)}
		}
		return out
	case KindEnd:
		return nil
	}
	def := c.e.flow.DefaultLang()
	var out []Choice
	for i, o := range s.Options {
		label := o.Label.In(c.lang, def)
		if label == "" {
			return nil
		}
		send := ""
		if words := c.words().Sets[o.Means]; len(words) > 0 {
			send = words[0]
		} else if ws := o.Words[c.lang]; len(ws) > 0 {
			send = ws[0]
		} else if s.Kind != KindText {
			send = strconv.Itoa(i + 1)
		}
		if send == "" {
			return nil
		}
		if len([]rune(send)) == 1 {
			send = strings.ToUpper(send)
		}
		out = append(out, Choice{Label: label, Send: send})
	}
	return out
}

// withAreas fills {areas} in msg with the numbered areas, the whole menu
// when ids is nil.
func (c composer) withAreas(msg string, ids []string) string {
	return strings.ReplaceAll(msg, PlaceholderAreas, c.areaMenu(ids))
}

// ask returns the step's question for this conversation: the first
// variant whose answers match, else the step's own.
func (s *Step) ask(conv *Conversation) Text {
	for _, v := range s.Variants {
		match := true
		for step, want := range v.When {
			if conv.Answers[step] != want {
				match = false
				break
			}
		}
		if match {
			return v.Ask
		}
	}
	return s.Ask
}
