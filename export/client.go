package export

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Limits on one delivery.
const (
	// DefaultTimeout bounds one delivery when Client.HTTP is nil.
	DefaultTimeout = 10 * time.Second
	// MaxResponseRead is the most of a response body Send reads; the
	// rest is discarded unread.
	MaxResponseRead = 4 << 10
	// MaxRetryAfter caps the wait a receiver's Retry-After asks for, so
	// one answer cannot hold records back past the one working day the
	// housing system has to get them in.
	MaxRetryAfter = time.Hour
)

// Errors callers test with errors.Is. None carries a record's content, a
// response body or the URL; errors.Is(err, ErrUnavailable) says whether
// another attempt may succeed.
var (
	// ErrUnavailable: the receiver could not be reached, or answered 408,
	// 429 or 5xx. Another attempt may succeed. When the receiver sent
	// Retry-After, the error also has a RetryAfter() time.Duration method.
	ErrUnavailable = errors.New("export: the receiver is unavailable")
	// ErrRefused: the receiver answered with another 4xx (or a redirect,
	// which Send does not follow). The record was not delivered, and
	// sending it again unchanged will not help until the receiver or the
	// settings change.
	ErrRefused = errors.New("export: the receiver refused the record")
	// ErrInvalid: the record lacks an id, a known event or a version.
	ErrInvalid = errors.New("export: invalid record")
	// ErrBadURL: SAFECONTACT_EXPORT_URL is not an https URL (or plain
	// http to a loopback host, for tests).
	ErrBadURL = errors.New("export: bad SAFECONTACT_EXPORT_URL")
	// ErrBadSecret: SAFECONTACT_EXPORT_SECRET is shorter than
	// MinSecretLen bytes.
	ErrBadSecret = errors.New("export: bad SAFECONTACT_EXPORT_SECRET")
)

// Client delivers records to one receiver. The zero value is not usable:
// set URL and Secret.
type Client struct {
	// URL is the receiver: https, or http to a loopback host for tests
	// (see CheckURL).
	URL string
	// Secret is the key shared with the receiver, at least MinSecretLen
	// bytes.
	Secret []byte
	// HTTP makes the request; nil means a client with DefaultTimeout.
	// Send never follows redirects, whatever its CheckRedirect says.
	HTTP *http.Client
	// Now is the clock for timestamps; nil means time.Now.
	Now func() time.Time
}

// CheckURL reports whether raw is a URL Send will deliver to: https, or
// plain http only when the host is loopback (localhost, 127.0.0.0/8, ::1),
// for tests. The service calls it at start-up when SAFECONTACT_EXPORT_URL
// is set, so a bad value stops it there. Errors wrap ErrBadURL and never
// quote the URL, which may carry a token in its query.
func CheckURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("%w: it is empty", ErrBadURL)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%w: it is not a URL", ErrBadURL)
	}
	if u.Host == "" || u.Hostname() == "" {
		return fmt.Errorf("%w: it has no host", ErrBadURL)
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if loopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("%w: it must use https; plain http is allowed only to a loopback host (localhost, 127.0.0.1, ::1), for tests, and %s is not one: records hold tenants' words", ErrBadURL, u.Hostname())
	}
	return fmt.Errorf("%w: it must be an https:// URL", ErrBadURL)
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// CheckSecret reports whether secret is long enough to sign with: at least
// MinSecretLen bytes. Errors wrap ErrBadSecret.
func CheckSecret(secret []byte) error {
	if len(secret) < MinSecretLen {
		return fmt.Errorf("%w: it has %d bytes, want at least %d (e.g. from `openssl rand -hex 32`)", ErrBadSecret, len(secret), MinSecretLen)
	}
	return nil
}

// Send makes one attempt to deliver r: a signed POST of its JSON, with
// r.IdempotencyKey() as the Idempotency-Key. It sets r.SentAt to the clock
// when it is zero. A 2xx answer, or 409 (the receiver has it already),
// means delivered, and Send returns nil.
//
// Otherwise the error wraps ErrUnavailable (retry later; with a
// RetryAfter() time.Duration method when the receiver sent Retry-After),
// ErrRefused (a 4xx or a redirect; *StatusError has the code), ErrInvalid,
// ErrBadURL or ErrBadSecret. It never carries the record's content, the
// response body or the URL's query.
func (c *Client) Send(ctx context.Context, r Record) error {
	if err := CheckURL(c.URL); err != nil {
		return err
	}
	if err := CheckSecret(c.Secret); err != nil {
		return err
	}
	if err := r.validate(); err != nil {
		return err
	}
	now := c.now()
	if r.SentAt.IsZero() {
		r.SentAt = now.UTC().Truncate(time.Second)
	}
	body, err := encode(r)
	if err != nil {
		return fmt.Errorf("export: encode record: %w", err)
	}
	ts := now.Unix()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("export: build request: %w", redact(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(HeaderSignature, Signature(c.Secret, ts, body))
	req.Header.Set(HeaderIdempotencyKey, r.IdempotencyKey())
	resp, err := c.client().Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnavailable, redact(err))
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, MaxResponseRead))
	return answer(resp.StatusCode, resp.Header.Get("Retry-After"), now)
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// client is c.HTTP, or the default, with redirects turned off: a signed
// record goes to the URL it was configured for or nowhere.
func (c *Client) client() *http.Client {
	hc := http.Client{Timeout: DefaultTimeout}
	if c.HTTP != nil {
		hc = *c.HTTP
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &hc
}

// redact drops the method and URL a *url.Error quotes, keeping its cause.
func redact(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// StatusError is a receiver's answer that was not a delivery. It wraps
// ErrUnavailable when Retryable, and ErrRefused otherwise.
type StatusError struct {
	// Code is the HTTP status code.
	Code int
}

// Retryable reports whether another attempt may succeed: 408, 429, 5xx.
func (e *StatusError) Retryable() bool {
	return e.Code == http.StatusRequestTimeout || e.Code == http.StatusTooManyRequests || e.Code >= 500
}

func (e *StatusError) Error() string {
	switch {
	case e.Retryable():
		return fmt.Sprintf("%v: HTTP %d", ErrUnavailable, e.Code)
	case e.Code >= 300 && e.Code < 400:
		return fmt.Sprintf("%v: HTTP %d (a redirect; Send does not follow them)", ErrRefused, e.Code)
	}
	return fmt.Sprintf("%v: HTTP %d", ErrRefused, e.Code)
}

// Is makes errors.Is(err, ErrUnavailable) and errors.Is(err, ErrRefused)
// work on a StatusError.
func (e *StatusError) Is(target error) bool {
	return target == ErrUnavailable && e.Retryable() || target == ErrRefused && !e.Retryable()
}

// retryAfterError is an unavailable answer that said when to come back.
type retryAfterError struct {
	*StatusError
	wait time.Duration
}

func (e *retryAfterError) Error() string {
	return fmt.Sprintf("%s, retry after %s", e.StatusError.Error(), e.wait)
}

func (e *retryAfterError) Unwrap() error { return e.StatusError }

// RetryAfter is how long the receiver asked the sender to wait, at most
// MaxRetryAfter.
func (e *retryAfterError) RetryAfter() time.Duration { return e.wait }

// answer turns a response's status (and Retry-After) into Send's result.
func answer(code int, retryAfter string, now time.Time) error {
	if code >= 200 && code < 300 || code == http.StatusConflict {
		return nil
	}
	err := &StatusError{Code: code}
	if !err.Retryable() {
		return err
	}
	if wait, ok := parseRetryAfter(retryAfter, now); ok {
		return &retryAfterError{StatusError: err, wait: wait}
	}
	return err
}

// parseRetryAfter reads a Retry-After value, seconds or an HTTP date, as a
// wait from now between 0 and MaxRetryAfter.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	var wait time.Duration
	if s, err := strconv.ParseUint(v, 10, 64); err == nil {
		wait = MaxRetryAfter
		if s < uint64(MaxRetryAfter/time.Second) {
			wait = time.Duration(s) * time.Second
		}
	} else if t, err := http.ParseTime(v); err == nil {
		wait = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(wait, 0), MaxRetryAfter), true
}
