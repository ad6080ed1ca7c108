package sms

import (
	"fmt"
	"time"
)

// SendError classifies a failed send.
type SendError struct {
	// Retry: the text was not accepted and may be tried again (network
	// failure before the request was written, 5xx, 429).
	Retry bool
	// After is how long the provider asked to wait (Retry-After).
	After time.Duration
	// Ambiguous: the request was written but no answer came, so the text
	// may or may not have been accepted. It is looked up (Find) before
	// any further attempt.
	Ambiguous bool
	// OptedOut: the number texted STOP to the carrier or to Twilio, and
	// no text reaches it until it texts START (Twilio error 21610).
	OptedOut bool
	// Code is Twilio's error code, when it gave one.
	Code int
	Err  error
}

func (e *SendError) Error() string { return e.Err.Error() }
func (e *SendError) Unwrap() error { return e.Err }

// Error classes, as a job's listing shows its last error (OutboxJob).
const (
	classNetwork     = "network"     // Twilio not reached, or a 5xx or 429 without an error code
	classNoAnswer    = "no-answer"   // the request went, the answer did not come
	classTwilio      = "twilio"      // Twilio answered with an error code
	classRefused     = "refused"     // refused for good without an error code
	classOptedOut    = "opted-out"   // the tenant texted STOP (Twilio 21610)
	classLookup      = "lookup"      // Twilio could not be asked whether an earlier attempt went
	classGate        = "gate"        // the conversation could not be read
	classUnreadable  = "unreadable"  // the sealed text did not open (the data key changed?)
	classUndelivered = "undelivered" // Twilio took it, the phone network did not deliver it
)

// errClass is an error as it is kept with a job: a class and Twilio's
// code, never the message (which may quote the number).
type errClass struct {
	Class string
	Code  int
}

func classOf(se *SendError) errClass {
	switch {
	case se.OptedOut:
		return errClass{classOptedOut, se.Code}
	case se.Code != 0:
		// Twilio answered with an error, even one after which the
		// text is looked up (a server error).
		return errClass{classTwilio, se.Code}
	case se.Ambiguous:
		return errClass{classNoAnswer, 0}
	case se.Retry:
		return errClass{classNetwork, 0}
	}
	return errClass{classRefused, 0}
}

// retryReason says why a send is being retried, for the officer: Twilio's
// error code, never its message (which may quote the number).
func retryReason(se *SendError) string {
	if se.Code != 0 {
		return fmt.Sprintf("Twilio error %d", se.Code)
	}
	return "Twilio could not be reached"
}
