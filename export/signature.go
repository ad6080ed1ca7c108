package export

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Headers on every delivery.
const (
	// HeaderTimestamp is when the delivery was signed, in Unix seconds.
	HeaderTimestamp = "Safecontact-Timestamp"
	// HeaderSignature is "v1=" and the hex HMAC-SHA256, keyed with the
	// shared secret, of the timestamp, ".", and the body.
	HeaderSignature = "Safecontact-Signature"
	// HeaderIdempotencyKey is id:event:version (Record.IdempotencyKey).
	HeaderIdempotencyKey = "Idempotency-Key"
)

// MinSecretLen is the shortest shared secret Send and Verify accept, in
// bytes: 32, as `openssl rand -hex 32` gives (64 characters).
const MinSecretLen = 32

// MaxSkew is how far a delivery's timestamp may be from the receiver's
// clock, either way, before Verify refuses it as a replay.
const MaxSkew = 5 * time.Minute

// Errors Verify returns, wrapped with detail; test with errors.Is.
var (
	// ErrSignature: the signature is missing, malformed, or not made with
	// the secret over this timestamp and body.
	ErrSignature = errors.New("export: bad signature")
	// ErrTimestamp: the timestamp is missing, malformed, or more than
	// MaxSkew from the receiver's clock.
	ErrTimestamp = errors.New("export: bad timestamp")
)

// Signature is the Safecontact-Signature header value for a body signed
// at ts (Unix seconds): "v1=" and the lower-case hex HMAC-SHA256, keyed
// with secret, of the decimal ts, a full stop, and the body.
func Signature(secret []byte, ts int64, body []byte) string {
	return "v1=" + hex.EncodeToString(mac(secret, ts, body))
}

func mac(secret []byte, ts int64, body []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(strconv.FormatInt(ts, 10)))
	m.Write([]byte("."))
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a delivery as a receiver gets it: that h carries a
// timestamp and a v1 signature made with secret over that timestamp and
// body, compared in constant time, and that the timestamp is within
// MaxSkew of now. The signature header may hold several comma-separated
// v1= values (so a sender can move to a new secret); one must match.
//
// It returns nil, or an error wrapping ErrSignature, ErrTimestamp, or
// ErrBadSecret when secret is shorter than MinSecretLen.
func Verify(secret []byte, h http.Header, body []byte, now time.Time) error {
	if err := CheckSecret(secret); err != nil {
		return err
	}
	raw := h.Get(HeaderTimestamp)
	ts, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || ts < 0 || strconv.FormatInt(ts, 10) != raw {
		return fmt.Errorf("%w: %s is missing or not Unix seconds", ErrTimestamp, HeaderTimestamp)
	}
	want := mac(secret, ts, body)
	ok := false
	for v := range strings.SplitSeq(h.Get(HeaderSignature), ",") {
		hexSig, found := strings.CutPrefix(strings.TrimSpace(v), "v1=")
		if !found {
			continue
		}
		got, err := hex.DecodeString(hexSig)
		if err != nil {
			continue
		}
		if hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: no v1 signature in %s matches", ErrSignature, HeaderSignature)
	}
	if d := now.Sub(time.Unix(ts, 0)).Abs(); d > MaxSkew {
		return fmt.Errorf("%w: signed %s from now, more than %s", ErrTimestamp, d.Truncate(time.Second), MaxSkew)
	}
	return nil
}
