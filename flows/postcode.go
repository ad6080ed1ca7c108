package flows

import "unicode"

// Postcode is a UK postcode, or the district part of one, as read from a
// tenant's text.
type Postcode struct {
	// Area is the postcode area: the one or two letters, "TF".
	Area string
	// District is the outward code: the area and its district number,
	// with a letter in some London districts: "TF11", "SW1A".
	District string
	// Inward is the part after the space, "8AB", or "" when the tenant
	// gave only the district.
	Inward string
}

// String writes the postcode in its usual form, "TF11 8AB" or "TF11".
func (p Postcode) String() string {
	if p.Inward == "" {
		return p.District
	}
	return p.District + " " + p.Inward
}

// maxPostcodeInput is the longest text ParsePostcode looks at: a postcode
// is at most 8 characters with its space; tenants add a few more.
const maxPostcodeInput = 16

// ParsePostcode reads a full postcode ("TF11 8AB") or a district ("TF11")
// in any case and with or without spaces ("tf118ab", "Tf1 2ab"). It
// reports false for anything else: other characters, a shape that is not
// a UK postcode's ("12345", "TF!!"), or letters no postcode area uses.
// It checks the form only; whether the area exists is the directory's
// business.
//
// The outward code is the area (one or two letters), a district number
// (one or two digits) and, in some London districts, a letter: A9, A99,
// A9A, AA9, AA99, AA9A. The inward code is a digit and two letters. As
// the inward code always has three characters, "TF118AB" can only be
// TF11 8AB and "TF11AB" only TF1 1AB.
func ParsePostcode(s string) (Postcode, bool) {
	if len(s) > maxPostcodeInput {
		return Postcode{}, false
	}
	buf := make([]byte, 0, 8)
	for _, r := range s {
		switch {
		case unicode.IsSpace(r):
			continue
		case r >= 'a' && r <= 'z':
			r -= 'a' - 'A'
		case r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		default:
			return Postcode{}, false
		}
		buf = append(buf, byte(r))
	}
	c := string(buf)
	if n := len(c); n >= 5 && isInward(c[n-3:]) {
		pc, ok := parseOutward(c[:n-3])
		if !ok {
			return Postcode{}, false
		}
		pc.Inward = c[n-3:]
		return pc, true
	}
	return parseOutward(c)
}

// parseOutward reads an outward code: A9, A99, A9A, AA9, AA99, AA9A.
func parseOutward(c string) (Postcode, bool) {
	letters := 0
	for letters < len(c) && isLetter(c[letters]) {
		letters++
	}
	rest := c[letters:]
	switch {
	case letters < 1 || letters > 2 || len(rest) < 1 || len(rest) > 2:
		return Postcode{}, false
	case !validAreaLetters(c[:letters]):
		return Postcode{}, false
	case !isDigit(rest[0]):
		return Postcode{}, false
	case len(rest) == 2 && !isDigit(rest[1]) && !isLetter(rest[1]):
		return Postcode{}, false
	case len(rest) == 2 && rest[0] == '0' && isDigit(rest[1]):
		return Postcode{}, false // no district is numbered 01 to 09
	}
	return Postcode{Area: c[:letters], District: c}, true
}

// validAreaLetters applies Royal Mail's rules for the area letters: Q, V
// and X are never first, and I, J and Z never second.
func validAreaLetters(a string) bool {
	switch a[0] {
	case 'Q', 'V', 'X':
		return false
	}
	if len(a) == 2 {
		switch a[1] {
		case 'I', 'J', 'Z':
			return false
		}
	}
	return true
}

// isInward reports whether s is an inward code: a digit and two letters.
func isInward(s string) bool {
	return len(s) == 3 && isDigit(s[0]) && isLetter(s[1]) && isLetter(s[2])
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }
