// Package smstest signs requests as Twilio does, for the tests that post
// to the SMS webhook as Twilio would.
package smstest

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
	"strings"
)

// Sign computes X-Twilio-Signature as Twilio documents it: HMAC-SHA1 with
// the auth token over the full URL followed by each POST parameter's name
// and value, sorted by name, base64-encoded. Written from the description,
// not from twilio-go's validator, which the webhook uses, so that the two
// check each other.
func Sign(authToken, fullURL string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(form.Get(k))
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
