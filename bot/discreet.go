package bot

import (
	"strings"
	"unicode"
)

// LockScreenChars is how much of a message a lock screen may show: no word
// of LockScreenWords may start in a message's first LockScreenChars
// characters (one cut off at the edge still shows its start).
const LockScreenChars = 60

// LockScreenWords are the words that must never show on a lock screen: they
// tell whoever glances at the phone what the conversation is about. A word
// matches any word starting with it ("abus" matches "abuser").
var LockScreenWords = []string{
	"abus", "violen", "domestic", "refuge", "assault", "rape",
	"cam-drin", "camdrin", "trais", "lloches", // Welsh: abuse, violence, refuge
}

// LockScreenWord returns the first lock-screen word found at the start of a
// word that starts within the first LockScreenChars characters of text,
// and its character offset, or "" and -1. The landlord's team name, when sensitive,
// is added by the caller through extra.
func LockScreenWord(text string, extra ...string) (string, int) {
	return newLockScreen(extra).find(text)
}

// Discreet returns text with every lock-screen word in its first
// LockScreenChars characters masked, so a composed message (a summary that
// quotes the tenant, a list of numbers) can never light up a lock screen
// with one. Prompts from a flow are checked at load instead.
func Discreet(text string, extra ...string) string {
	return newLockScreen(extra).mask(text)
}

// lockScreen is LockScreenWords and the caller's extra words, lowered
// once: an engine checks every reply it sends with one.
type lockScreen struct {
	words []lockWord
	// longest is the longest word's length in runes: a word starting
	// just inside the head runs past it.
	longest int
}

type lockWord struct {
	word  string // lowered
	runes []rune // the same, as runes
}

func newLockScreen(extra []string) *lockScreen {
	l := &lockScreen{words: make([]lockWord, 0, len(LockScreenWords)+len(extra))}
	for _, w := range append(append([]string(nil), LockScreenWords...), extra...) {
		if w = strings.ToLower(w); w != "" {
			l.words = append(l.words, lockWord{word: w, runes: []rune(w)})
			l.longest = max(l.longest, len(l.words[len(l.words)-1].runes))
		}
	}
	return l
}

// find is LockScreenWord with the matcher's words.
func (l *lockScreen) find(text string) (string, int) {
	// The head of the text and as much after it as a word starting in
	// it can run to, lowered rune by rune so that offsets match the
	// original text; on the stack, as most replies have no word.
	var buf [LockScreenChars + 40]rune
	var head []rune
	if limit := LockScreenChars + l.longest; limit > len(buf) {
		head = make([]rune, limit)
	} else {
		head = buf[:limit]
	}
	n := 0
	for _, r := range text {
		if n == len(head) {
			break
		}
		head[n] = unicode.ToLower(r)
		n++
	}
	for i := 0; i < min(n, LockScreenChars); i++ {
		if i > 0 && (unicode.IsLetter(head[i-1]) || unicode.IsDigit(head[i-1])) {
			continue
		}
		for _, w := range l.words {
			if hasRunePrefix(head[i:n], w.runes) {
				return w.word, i
			}
		}
	}
	return "", -1
}

func hasRunePrefix(s, prefix []rune) bool {
	if len(prefix) > len(s) {
		return false
	}
	for i, r := range prefix {
		if s[i] != r {
			return false
		}
	}
	return true
}

// mask is Discreet with the matcher's words. A text with no word is
// returned as it is.
func (l *lockScreen) mask(text string) string {
	for {
		w, at := l.find(text)
		if at < 0 {
			return text
		}
		r := []rune(text)
		n := len([]rune(w))
		// Keep the first letter so the tenant can still read their words;
		// a one-letter word is masked whole.
		from := at + 1
		if n <= 1 {
			from = at
		}
		for i := from; i < at+n && i < len(r); i++ {
			r[i] = '*'
		}
		text = string(r)
	}
}
