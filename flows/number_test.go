package flows

import "testing"

func TestNumberForm(t *testing.T) {
	tests := []struct {
		number string
		ok     bool
	}{
		{"999", true},
		{"101", true},
		{"116 123", true},
		{"0808 2000 247", true},
		{"0808 80 10 800", true},
		{"01952 385385", true},
		{"0800 1111", true},
		{"0300 303 3778", true},
		{"", false},
		{"55", false}, // the silent-999 digits are guidance, not a line
		{"0800 783 13599", false},
		{"0800-783-1359", false},
		{"0800  783 1359", false},
		{" 0800 783 1359", false},
		{"0800 783 1359 ", false},
		{"+44 800 783 1359", false},
		{"0080 783 1359", false},
		{"0800 783 135a", false},
		{"12345678901", false},
	}
	for _, tt := range tests {
		if msg := numberProblem(tt.number); (msg == "") != tt.ok {
			t.Errorf("numberProblem(%q) = %q, want ok=%v", tt.number, msg, tt.ok)
		}
	}
}
