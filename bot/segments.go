package bot

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// SMS segment sizes (3GPP TS 23.038 and 23.040; the same figures are in
// Twilio's "What the heck is a segment?" support article): a single
// message holds 160 GSM-7 septets or 70 UCS-2 code units; each part of a
// concatenated message holds 153 or 67, the rest being the header.
const (
	gsmSingle = 160
	gsmPart   = 153
	ucsSingle = 70
	ucsPart   = 67
)

// MaxSegments is the most SMS segments one prompt may take. Two segments
// hold 306 GSM-7 characters, or 134 UCS-2 ones: one character outside the
// GSM-7 alphabet, such as a curly apostrophe, makes the whole message UCS-2.
const MaxSegments = 2

// gsmBasic is the GSM 03.38 default alphabet; gsmExtended are the
// characters sent as an escape plus one septet, so they count twice.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "\f^{}\\[~]|€"
)

// gsmASCII is how many septets each ASCII character takes in GSM-7 (0:
// none, it is not in the alphabet), from gsmBasic and gsmExtended; every
// reply is measured, and most are ASCII.
var gsmASCII = func() (t [utf8.RuneSelf]uint8) {
	for _, r := range gsmBasic {
		if r < utf8.RuneSelf {
			t[r] = 1
		}
	}
	for _, r := range gsmExtended {
		if r < utf8.RuneSelf {
			t[r] = 2
		}
	}
	return t
}()

// gsmSeptets is how many septets r takes in GSM-7, 0 when it is not in
// the alphabet.
func gsmSeptets(r rune) int {
	switch {
	case r < utf8.RuneSelf:
		return int(gsmASCII[r])
	case strings.ContainsRune(gsmBasic, r):
		return 1
	case strings.ContainsRune(gsmExtended, r):
		return 2
	}
	return 0
}

// GSM7 reports whether text can be sent in the GSM-7 alphabet.
func GSM7(text string) bool {
	for _, r := range text {
		if gsmSeptets(r) == 0 {
			return false
		}
	}
	return true
}

// Segments returns how many SMS segments text takes and whether it is sent
// as GSM-7 (false: UCS-2).
func Segments(text string) (n int, gsm bool) {
	var units, single, part int
	gsm = true
	for _, r := range text {
		n := gsmSeptets(r)
		if n == 0 {
			gsm = false
			break
		}
		units += n
	}
	if gsm {
		single, part = gsmSingle, gsmPart
	} else {
		single, part = ucsSingle, ucsPart
		units = 0
		for _, r := range text {
			units += utf16.RuneLen(r)
		}
	}
	if units == 0 {
		return 0, gsm
	}
	if units <= single {
		return 1, gsm
	}
	return (units + part - 1) / part, gsm
}

// FitsSegments reports whether text takes at most MaxSegments segments.
func FitsSegments(text string) bool {
	n, _ := Segments(text)
	return n <= MaxSegments
}
