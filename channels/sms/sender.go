package sms

import "strings"

// Kinds of sender safecontact cannot text back, as the refusal's log
// line names them.
const (
	// SenderWhatsApp: a WhatsApp user, From "whatsapp:+44…". A reply
	// outside WhatsApp's 24-hour window needs an approved template
	// (Twilio error 63016,
	// https://www.twilio.com/docs/api/errors/63016), and the outbox texts
	// from an SMS number, so an officer's reply days later could never
	// reach them.
	SenderWhatsApp = "whatsapp"
	// SenderChannel: another channel address, "<channel>:…" (Messenger,
	// RCS, …): the outbox sends SMS only.
	SenderChannel = "channel address"
	// SenderShortCode: a short code, a 5- or 6-digit number
	// (https://www.twilio.com/docs/messaging/api/short-code-resource).
	// Twilio numbers cannot send messages to short codes (Twilio error
	// 21265, https://www.twilio.com/docs/api/errors/21265).
	SenderShortCode = "short code"
	// SenderAlphanumeric: an alphanumeric sender id, a name of up to 11
	// characters with at least one letter, which is for one-way messages
	// only (https://www.twilio.com/docs/glossary/what-alphanumeric-sender-id).
	SenderAlphanumeric = "alphanumeric sender id"
	// SenderOther: anything else that is not a phone number in E.164
	// ("+" and 7 to 15 digits), the only form a text can be sent to.
	SenderOther = "not a phone number"
)

// phoneOf returns the phone number of an RCS user ("rcs:+447…"): Twilio
// names the recipient of an RCS message by the rcs: address of their
// number (https://www.twilio.com/docs/api/errors/21664), and a Messaging
// Service with an RCS sender tries RCS first and falls back to SMS
// (https://www.twilio.com/docs/rcs/send-an-rcs-message). Such a tenant is
// the same tenant as their number, and can be texted back on it. Any
// other from is returned as it is.
func phoneOf(from string) string {
	if len(from) > 4 && strings.EqualFold(from[:4], "rcs:") && e164(from[4:]) {
		return from[4:]
	}
	return from
}

// unanswerable returns the kind of sender from is when it is one that
// cannot be texted back, and "" when it is a phone number that can.
// Twilio gives a phone number's From in E.164
// (https://www.twilio.com/docs/messaging/guides/webhook-request).
func unanswerable(from string) string {
	switch {
	case strings.HasPrefix(strings.ToLower(from), "whatsapp:"):
		return SenderWhatsApp
	case strings.Contains(from, ":"):
		return SenderChannel
	case e164(from):
		return ""
	case digits(from) && len(from) <= 8:
		// 5 or 6 digits on Twilio; up to 8 in some countries.
		return SenderShortCode
	case strings.ContainsFunc(from, isLetter):
		return SenderAlphanumeric
	}
	return SenderOther
}

// e164 reports whether s is "+" and 7 to 15 digits, the first not 0.
func e164(s string) bool {
	n, ok := strings.CutPrefix(s, "+")
	return ok && len(n) >= 7 && len(n) <= 15 && n[0] != '0' && digits(n)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

func isLetter(r rune) bool { return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') }
