package sms

import (
	"strings"
	"testing"
)

func TestUnanswerable(t *testing.T) {
	for from, want := range map[string]string{
		"+447700900123":          "",
		"+14155238886":           "",
		"+2901234":               "",
		"whatsapp:+447700900123": SenderWhatsApp,
		"WHATSAPP:+447700900123": SenderWhatsApp,
		"rcs:+447700900123":      SenderChannel,
		"messenger:1234":         SenderChannel,
		"60006":                  SenderShortCode,
		"894546":                 SenderShortCode,
		"123":                    SenderShortCode,
		"HSBC":                   SenderAlphanumeric,
		"My Bank":                SenderAlphanumeric,
		"Bank2Go":                SenderAlphanumeric,
		"447700900123":           SenderOther,
		"+44 7700 900123":        SenderOther,
		"+0447700900123":         SenderOther,
		"+1234567890123456":      SenderOther,
		"+":                      SenderOther,
		"":                       SenderOther,
	} {
		if got := unanswerable(from); got != want {
			t.Errorf("unanswerable(%q) = %q, want %q", from, got, want)
		}
	}
}

func TestPhoneOf(t *testing.T) {
	for from, want := range map[string]string{
		"rcs:+447700900123": "+447700900123",
		"RCS:+447700900123": "+447700900123",
		"rcs:agent_id":      "rcs:agent_id",
		"+447700900123":     "+447700900123",
		"whatsapp:+4477009": "whatsapp:+4477009",
	} {
		if got := phoneOf(from); got != want {
			t.Errorf("phoneOf(%q) = %q, want %q", from, got, want)
		}
	}
}

// FuzzUnanswerable: whatever Twilio sends as From, only a "+" and digits
// is ever answered.
func FuzzUnanswerable(f *testing.F) {
	for _, s := range []string{"+447700900123", "whatsapp:+447700900123", "60006", "HSBC", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, from string) {
		if unanswerable(from) != "" {
			return
		}
		n, ok := strings.CutPrefix(from, "+")
		if !ok || strings.Trim(n, "0123456789") != "" || len(n) > 15 {
			t.Errorf("answered %q", from)
		}
	})
}
