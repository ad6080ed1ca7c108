package flows_test

import (
	"strings"
	"testing"

	"github.com/safecontact/safecontact/flows"
)

func TestParsePostcode(t *testing.T) {
	tests := []struct {
		label, in string
		want      flows.Postcode // zero: rejected
	}{
		{"district", "TF1", flows.Postcode{Area: "TF", District: "TF1"}},
		{"two-digit district", "TF11", flows.Postcode{Area: "TF", District: "TF11"}},
		{"full with space", "TF11 8AB", flows.Postcode{Area: "TF", District: "TF11", Inward: "8AB"}},
		{"full lower case", "tf11 8ab", flows.Postcode{Area: "TF", District: "TF11", Inward: "8AB"}},
		{"full without space", "TF118AB", flows.Postcode{Area: "TF", District: "TF11", Inward: "8AB"}},
		{"short district, no space", "TF11AB", flows.Postcode{Area: "TF", District: "TF1", Inward: "1AB"}},
		{"mixed case", "Tf1 2ab", flows.Postcode{Area: "TF", District: "TF1", Inward: "2AB"}},
		{"extra spaces", "  SY23   1AA ", flows.Postcode{Area: "SY", District: "SY23", Inward: "1AA"}},
		{"one-letter area", "B1 1AA", flows.Postcode{Area: "B", District: "B1", Inward: "1AA"}},
		{"one-letter area, two digits", "M60", flows.Postcode{Area: "M", District: "M60"}},
		{"London district letter", "EC1A 1BB", flows.Postcode{Area: "EC", District: "EC1A", Inward: "1BB"}},
		{"London district letter, one-letter area", "W1A 0AX", flows.Postcode{Area: "W", District: "W1A", Inward: "0AX"}},
		{"district 0", "BS0", flows.Postcode{Area: "BS", District: "BS0"}},
		{"tab inside", "HR3\t5AA", flows.Postcode{Area: "HR", District: "HR3", Inward: "5AA"}},
		{"punctuation", "TF!!", flows.Postcode{}},
		{"digits only", "12345", flows.Postcode{}},
		{"letters only", "TF", flows.Postcode{}},
		{"empty", "", flows.Postcode{}},
		{"three letters", "TFA1", flows.Postcode{}},
		{"Z second", "ZZ99 9ZZ", flows.Postcode{}},
		{"Q first", "QA1", flows.Postcode{}},
		{"leading zero district", "TF01", flows.Postcode{}},
		{"three-digit district", "TF111", flows.Postcode{}},
		{"inward without outward", "8AB", flows.Postcode{}},
		{"bad inward", "TF1 ABC", flows.Postcode{}},
		{"hyphen", "TF1-2AB", flows.Postcode{}},
		{"too long", "TF1 2AB TF1 2AB TF1", flows.Postcode{}},
		{"non-ASCII letter", "TF1 2AÉ", flows.Postcode{}},
	}
	for _, tt := range tests {
		t.Run(tt.label, func(t *testing.T) {
			got, ok := flows.ParsePostcode(tt.in)
			if ok != (tt.want != flows.Postcode{}) || got != tt.want {
				t.Errorf("ParsePostcode(%q) = %+v, %v; want %+v", tt.in, got, ok, tt.want)
			}
		})
	}
}

func TestPostcodeString(t *testing.T) {
	for in, want := range map[string]string{"tf118ab": "TF11 8AB", "tf11": "TF11", "ec1a1bb": "EC1A 1BB"} {
		pc, ok := flows.ParsePostcode(in)
		if !ok || pc.String() != want {
			t.Errorf("ParsePostcode(%q).String() = %q, %v; want %q", in, pc.String(), ok, want)
		}
	}
}

// FuzzParsePostcode checks that what the parser accepts is a well-formed
// postcode that reads back the same, and that it never panics.
func FuzzParsePostcode(f *testing.F) {
	for _, s := range []string{"TF11 8AB", "tf118ab", "TF1", "Tf1 2ab", "EC1A 1BB", "W1A0AX", "TF!!", "12345", "zz99 9zz", "", "ß1 1AA"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		pc, ok := flows.ParsePostcode(s)
		if !ok {
			if pc != (flows.Postcode{}) {
				t.Errorf("rejected %q but returned %+v", s, pc)
			}
			return
		}
		if n := len(pc.Area); n < 1 || n > 2 || !strings.HasPrefix(pc.District, pc.Area) {
			t.Errorf("ParsePostcode(%q) = %+v: bad area", s, pc)
		}
		if n := len(pc.District); n < 2 || n > 4 {
			t.Errorf("ParsePostcode(%q) = %+v: bad district", s, pc)
		}
		if pc.Inward != "" && len(pc.Inward) != 3 {
			t.Errorf("ParsePostcode(%q) = %+v: bad inward code", s, pc)
		}
		again, ok := flows.ParsePostcode(pc.String())
		if !ok || again != pc {
			t.Errorf("ParsePostcode(%q) = %+v, but its String %q reads as %+v, %v", s, pc, pc.String(), again, ok)
		}
	})
}
