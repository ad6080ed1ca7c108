package bot

import (
	"strings"
	"unicode"
)

// LockScreenChars is how much of a message a lock screen may show: no word
// of LockScreenWords may appear in a message's first LockScreenChars
// characters.
const LockScreenChars = 60

// LockScreenWords are the words that must never show on a lock screen: they
// tell whoever glances at the phone what the conversation is about. A word
// matches any word starting with it ("abus" matches "abuser").
var LockScreenWords = []string{
	"abus", "violen", "domestic", "refuge", "assault", "rape",
	"cam-drin", "camdrin", "trais", "lloches", // Welsh: abuse, violence, refuge
}

// LockScreenWord returns the first lock-screen word found at the start of a
// word within the first LockScreenChars characters of text, and its
// character offset, or "" and -1. The landlord's team name, when sensitive,
// is added by the caller through extra.
func LockScreenWord(text string, extra ...string) (string, int) {
	head := []rune(text)
	if len(head) > LockScreenChars {
		head = head[:LockScreenChars]
	}
	// Lower rune by rune, so offsets match the original text.
	lower := make([]rune, len(head))
	for i, r := range head {
		lower[i] = unicode.ToLower(r)
	}
	words := append(append([]string(nil), LockScreenWords...), extra...)
	for i := range lower {
		if i > 0 && (unicode.IsLetter(lower[i-1]) || unicode.IsDigit(lower[i-1])) {
			continue
		}
		rest := string(lower[i:])
		for _, w := range words {
			w = strings.ToLower(w)
			if w != "" && strings.HasPrefix(rest, w) {
				return w, i
			}
		}
	}
	return "", -1
}

// Discreet returns text with every lock-screen word in its first
// LockScreenChars characters masked, so a composed message (a summary that
// quotes the tenant, a list of numbers) can never light up a lock screen
// with one. Prompts from a flow are checked at load instead.
func Discreet(text string, extra ...string) string {
	for {
		w, at := LockScreenWord(text, extra...)
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
