package sms

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twilio/twilio-go"
	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioConfig configures the REST client that sends outbound texts.
type TwilioConfig struct {
	AccountSID, AuthToken string
	// From is the sending number, or MessagingServiceSID the service that
	// picks one. The tenant sees only this; set it to what the landlord
	// chose (DESIGN §3).
	From, MessagingServiceSID string
	// StatusCallback is where Twilio posts delivery statuses
	// (PUBLIC_BASE_URL + StatusPath).
	StatusCallback string
	// APIBase sends every request to this base URL instead of
	// https://api.twilio.com (TWILIO_API_BASE), for a local test server.
	APIBase string
	// Timeout bounds one request; default 10s.
	Timeout time.Duration
}

// TwilioSender sends texts with twilio-go's REST client.
type TwilioSender struct {
	cfg  TwilioConfig
	base *url.URL
}

// NewTwilioSender checks cfg and returns a sender.
func NewTwilioSender(cfg TwilioConfig) (*TwilioSender, error) {
	if cfg.AccountSID == "" || cfg.AuthToken == "" {
		return nil, errors.New("twilio: TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN are required to send texts")
	}
	if (cfg.From == "") == (cfg.MessagingServiceSID == "") {
		return nil, errors.New("twilio: set exactly one of TWILIO_FROM and TWILIO_MESSAGING_SERVICE_SID")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 10 * time.Second
	}
	s := &TwilioSender{cfg: cfg}
	if cfg.APIBase != "" {
		u, err := url.Parse(cfg.APIBase)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("twilio: TWILIO_API_BASE %q: want a URL like http://127.0.0.1:8089", cfg.APIBase)
		}
		s.base = u
	}
	return s, nil
}

// call records what one request saw, so an error can be classified.
type call struct {
	wrote      atomic.Bool
	retryAfter atomic.Value // string
}

// transport points requests at APIBase and records, for the call, whether
// the request was written and the Retry-After of the answer.
type transport struct {
	base *url.URL
	call *call
}

func (t transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.base != nil {
		req = req.Clone(req.Context())
		req.URL.Scheme, req.URL.Host = t.base.Scheme, t.base.Host
		req.Host = t.base.Host
	}
	trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { t.call.wrote.Store(true) }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	resp, err := http.DefaultTransport.RoundTrip(req)
	if resp != nil {
		t.call.retryAfter.Store(resp.Header.Get("Retry-After"))
	}
	return resp, err
}

// api returns a REST client for one call.
func (s *TwilioSender) api(c *call) *openapi.ApiService {
	hc := &http.Client{
		Transport:     transport{base: s.base, call: c},
		Timeout:       s.cfg.Timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	base := &client.Client{Credentials: client.NewCredentials(s.cfg.AccountSID, s.cfg.AuthToken), HTTPClient: hc}
	base.SetAccountSid(s.cfg.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Client: base}).Api
}

// Send implements Sender.
func (s *TwilioSender) Send(ctx context.Context, to, body string) (string, error) {
	c := &call{}
	p := &openapi.CreateMessageParams{}
	p.SetTo(to).SetBody(body)
	if s.cfg.From != "" {
		p.SetFrom(s.cfg.From)
	} else {
		p.SetMessagingServiceSid(s.cfg.MessagingServiceSID)
	}
	if s.cfg.StatusCallback != "" {
		p.SetStatusCallback(s.cfg.StatusCallback)
	}
	msg, err := s.api(c).CreateMessage(p)
	if err == nil {
		if msg.Sid == nil {
			return "", &SendError{Ambiguous: true, Err: errors.New("twilio: answer without a message SID")}
		}
		return *msg.Sid, nil
	}
	return "", classify(err, c)
}

// errUnsubscribed is Twilio's error 21610, "Attempt to send to
// unsubscribed recipient": the number opted out with STOP
// (https://www.twilio.com/docs/api/errors/21610).
const errUnsubscribed = 21610

func classify(err error, c *call) error {
	var rest *client.TwilioRestError
	if errors.As(err, &rest) {
		after, _ := c.retryAfter.Load().(string)
		secs, _ := strconv.Atoi(after)
		// A server error may come after the message was created (a
		// timeout behind Twilio's front, a failure writing the answer):
		// it is looked up before being sent again. Too many requests
		// were refused before any work.
		ambiguous := rest.Status >= 500 && c.wrote.Load()
		retry := rest.Status == http.StatusTooManyRequests || (rest.Status >= 500 && !ambiguous)
		// Twilio's message may quote the tenant's number, and errors are
		// logged: keep only the status and the code.
		return &SendError{
			Retry: retry, Ambiguous: ambiguous, OptedOut: rest.Code == errUnsubscribed, Code: rest.Code, After: time.Duration(secs) * time.Second,
			Err: fmt.Errorf("twilio: HTTP %d, error %d (https://www.twilio.com/docs/api/errors/%d)", rest.Status, rest.Code, rest.Code),
		}
	}
	err = transportError(err)
	if c.wrote.Load() {
		return &SendError{Ambiguous: true, Err: err}
	}
	return &SendError{Retry: true, Err: err}
}

// transportError drops the URL from a failed request's error: a lookup's
// URL carries the tenant's number in its query, and errors are logged.
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("twilio: %s request failed: %w", ue.Op, ue.Err)
	}
	return err
}

// Find implements Sender: it looks through the most recent texts to the
// number for one with the body, created since the time.
func (s *TwilioSender) Find(ctx context.Context, to, body string, since time.Time) (string, error) {
	p := &openapi.ListMessageParams{}
	p.SetTo(to).SetPageSize(50).SetLimit(50)
	if s.cfg.From != "" {
		p.SetFrom(s.cfg.From)
	}
	c := &call{}
	msgs, err := s.api(c).ListMessage(p)
	if err != nil {
		return "", classify(err, c)
	}
	for _, m := range msgs {
		if m.Body == nil || *m.Body != body || m.Sid == nil {
			continue
		}
		if m.DateCreated != nil {
			if t, err := time.Parse(time.RFC1123Z, *m.DateCreated); err == nil && t.Before(since) {
				continue
			}
		}
		return *m.Sid, nil
	}
	return "", nil
}
