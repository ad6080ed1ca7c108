package bot

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// PlaceholderAreas is replaced by the numbered area menu ("1 Telford &
// Wrekin, 2 Shropshire, …") in an area step's prompt and in MsgAreaChoice.
const PlaceholderAreas = "{areas}"

// MsgSummary heads the summary a confirm step shows before its question.
const MsgSummary = "summary"

// maxQuoted is how much of a tenant's free text an officer's summary
// quotes; maxQuotedForTenant, the summary the tenant checks.
const (
	maxQuoted          = 80
	maxQuotedForTenant = 40
)

// composer renders the messages of one conversation in its language.
type composer struct {
	e    *Engine
	lang string
}

func (c composer) words() *Words {
	if w := c.e.flow.Words[c.lang]; w != nil {
		return w
	}
	return c.e.flow.Words[c.e.flow.DefaultLang()]
}

// text returns t in the conversation's language with the placeholders
// that need no conversation filled in.
func (c composer) text(t Text) string {
	s := t.In(c.lang, c.e.flow.DefaultLang())
	return strings.ReplaceAll(s, PlaceholderLandlord, c.e.flow.Landlord.In(c.lang, c.e.flow.DefaultLang()))
}

func (c composer) message(key string) string { return c.text(c.e.flow.Messages[key]) }

// AreaMenu numbers areas for a tenant, in lang: "1 Telford & Wrekin,
// 2 Shropshire". With no ids it numbers the directory's whole menu.
func AreaMenu(d Directory, ids []string, lang string) string {
	if ids == nil {
		ids = MenuAreas(d)
	}
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = strconv.Itoa(i+1) + " " + d.AreaName(id, lang)
	}
	return strings.Join(parts, ", ")
}

// MenuAreas returns the ids of the directory's menu, in order.
func MenuAreas(d Directory) []string {
	areas := d.Areas()
	ids := make([]string, len(areas))
	for i, a := range areas {
		ids[i] = a.ID
	}
	return ids
}

func (c composer) areaMenu(ids []string) string {
	if ids == nil {
		ids = c.menuAreas()
	}
	return AreaMenu(c.e.dir, ids, c.lang)
}

func (c composer) menuAreas() []string { return MenuAreas(c.e.dir) }

// prompt renders a step's question.
func (c composer) prompt(s *Step, conv *Conversation) string {
	p := c.text(s.ask(conv))
	if strings.Contains(p, PlaceholderAreas) {
		p = strings.ReplaceAll(p, PlaceholderAreas, c.areaMenu(c.menuAreas()))
	}
	if strings.Contains(p, PlaceholderDeadline) {
		p = strings.ReplaceAll(p, PlaceholderDeadline, c.deadline(conv.Deadline))
	}
	return p
}

// deadline quotes a moment in the landlord's time zone: "Tue 29 Dec, 3pm".
func (c composer) deadline(t time.Time) string {
	return FormatDeadline(t.In(c.e.hours.Location()), c.words())
}

// FormatDeadline writes t as a short day, date and time in the words'
// language: "Tue 29 Dec, 3pm", "Mon 7 Sep, 10:30am".
func FormatDeadline(t time.Time, w *Words) string {
	day, month := t.Weekday().String()[:3], t.Month().String()[:3]
	am, pm := "am", "pm"
	if w != nil {
		if len(w.Days) == 7 {
			day = w.Days[t.Weekday()]
		}
		if len(w.Months) == 12 {
			month = w.Months[t.Month()-1]
		}
		if w.AM != "" && w.PM != "" {
			am, pm = w.AM, w.PM
		}
	}
	h, suffix := t.Hour(), am
	if h >= 12 {
		suffix = pm
	}
	if h = h % 12; h == 0 {
		h = 12
	}
	clock := strconv.Itoa(h)
	if t.Minute() != 0 {
		clock += fmt.Sprintf(":%02d", t.Minute())
	}
	return fmt.Sprintf("%s %d %s, %s%s", day, t.Day(), month, clock, suffix)
}

// numbers composes the support numbers for the conversation's area, or
// the national ones before an area is known.
func (c composer) numbers(conv *Conversation, now time.Time) []string {
	area := conv.Area
	if area == "" {
		area = c.e.dir.Fallback()
	}
	return c.e.pack(c.message(MsgNumbers), c.e.dir.Numbers(area, c.lang, now))
}

// summary composes the answers to pass on, for the tenant to check, with
// the question that follows them. Free text is quoted short: the tenant
// knows what they wrote, and a screen over their shoulder need not.
func (c composer) summary(conv *Conversation, question string) []string {
	var lines []string
	for _, l := range c.e.summarise(conv, c.lang) {
		if s := c.e.flow.Step(l.Step); s != nil && s.OfficersOnly {
			continue
		}
		if s := c.e.flow.Step(l.Step); s != nil && s.Kind == KindText && s.Option(conv.Answers[l.Step]) == nil {
			// "..." not "…": one character outside GSM-7 would halve
			// what an SMS segment holds.
			l.Value = quoteShort(conv.Answers[l.Step], maxQuotedForTenant, "...")
		}
		lines = append(lines, l.Label+": "+l.Value)
	}
	return c.e.pack(c.message(MsgSummary), append(lines, question))
}

// summarise lists a conversation's answers in flow order, in lang.
func (e *Engine) summarise(conv *Conversation, lang string) []SummaryLine {
	def := e.flow.DefaultLang()
	var out []SummaryLine
	for _, s := range e.flow.Steps {
		a, ok := conv.Answers[s.ID]
		if !ok || a == Skipped || s.Label == nil {
			continue
		}
		var value, action string
		if s.Kind == KindArea {
			value = e.dir.AreaName(a, lang)
		} else if o := s.Option(a); o != nil {
			value, action = o.Label.In(lang, def), o.Action
		} else {
			value = quote(a)
		}
		out = append(out, SummaryLine{Step: s.ID, Label: s.Label.In(lang, def), Value: value, Private: s.Private, Action: action})
	}
	return out
}

// quote shortens a tenant's free text for an officer's summary.
func quote(s string) string { return quoteShort(s, maxQuoted, "…") }

// quoteShort shortens s to at most n characters and the ellipsis.
func quoteShort(s string, n int, ellipsis string) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) > n {
		return strings.TrimSpace(string(r[:n-1])) + ellipsis
	}
	return string(r)
}

// Option returns the step's option with the id, or nil.
func (s *Step) Option(id string) *Option {
	for _, o := range s.Options {
		if o.ID == id {
			return o
		}
	}
	return nil
}

// pack puts a header and lines into as few messages as fit MaxSegments
// each, and makes every message discreet for a lock screen.
func (e *Engine) pack(header string, lines []string) []string {
	var out []string
	cur := header
	for _, l := range lines {
		next := l
		if cur != "" {
			next = cur + "\n" + l
		}
		if cur != "" && !FitsSegments(next) {
			out = append(out, cur)
			next = l
		}
		cur = next
	}
	if cur != "" {
		out = append(out, cur)
	}
	for i := range out {
		out[i] = e.quiet.mask(out[i])
	}
	return out
}
