package failover_test

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/safecontact/safecontact/channels/sms/smstest"
	"github.com/safecontact/safecontact/test/servetest"
)

// The settings of the serve processes under test.
const (
	authToken = "0123456789abcdef0123456789abcdef" // shaped like a Twilio auth token
	publicURL = "https://contact.example.org"
	// masterKey is SAFECONTACT_KEY: 32 bytes, base64.
	masterKey = "ZmFpbG92ZXItdGVzdC1tYXN0ZXIta2V5LTAxMjM0NTY="
)

// startServe runs `safecontact serve` with Twilio's webhook on, on the
// test's Redis, and waits until it is ready. env overrides the test's own
// environment.
func startServe(t *testing.T, bin string, env ...string) *servetest.Process {
	t.Helper()
	return servetest.Start(t, bin, append([]string{"SAFECONTACT_KEY=" + masterKey,
		"TWILIO_AUTH_TOKEN=" + authToken, "PUBLIC_BASE_URL=" + publicURL, "SAFECONTACT_LOG_FORMAT=text"}, env...)...)
}

// newSid is a MessageSid as Twilio makes them: SM and 32 hex digits, new
// for every text, a tenant's resend included.
func newSid() string {
	b := make([]byte, 16)
	rand.Read(b)
	return "SM" + hex.EncodeToString(b)
}

// twiml is the part of a TwiML response the test reads.
type twiml struct {
	Messages []string `xml:"Message"`
}

// text posts one inbound text as Twilio would, signed, and returns the
// HTTP status and the messages of the TwiML answer.
func text(client *http.Client, base, from, body, sid string) (int, []string, error) {
	form := url.Values{
		"MessageSid": {sid}, "AccountSid": {"AC" + strings.Repeat("0", 32)},
		"From": {from}, "To": {"+441952000000"}, "Body": {body}, "NumMedia": {"0"},
	}
	req, err := http.NewRequest(http.MethodPost, base+"/sms/twilio", strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", smstest.Sign(authToken, publicURL+"/sms/twilio", form))
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, nil, nil
	}
	var doc twiml
	if err := xml.Unmarshal(raw, &doc); err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, doc.Messages, nil
}
