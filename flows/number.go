package flows

import "strings"

// numberProblem says why s is not a number a tenant can dial, or "".
// A number is digits and single spaces: a UK number of 10 or 11 digits
// starting 0 (0800 1111 too), a 116 number (116 123), or 999, 112, 101,
// 111. Not a phone library: it checks the form, not that the line exists.
func numberProblem(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c == ' ' && i > 0 && i < len(s)-1 && s[i-1] != ' ':
		default:
			return "want digits, with single spaces between groups"
		}
	}
	digits := strings.ReplaceAll(s, " ", "")
	switch {
	case digits == "999", digits == "112", digits == "101", digits == "111":
	case len(digits) == 6 && strings.HasPrefix(digits, "116"):
	case digits == "08001111":
	case (len(digits) == 10 || len(digits) == 11) && digits[0] == '0' && digits[1] != '0':
	default:
		return "want a UK number of 10 or 11 digits starting 0, a 116 number, or 999, 112, 101, 111"
	}
	return ""
}

// validID reports whether id is lower-case letters, digits and
// underscores.
func validID(id string) bool {
	for _, c := range id {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return true
}
