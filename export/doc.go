// Package export delivers a case record to the landlord's housing system:
// a JSON Record, POSTed once per Send, signed with HMAC-SHA256 so the
// receiver knows it came from safecontact and was not changed on the way.
//
// The officer queue calls Client.Send from its durable job runner when a
// case is handed off, closed, reopened or erased. The runner retries what
// fails; Send makes one attempt and says whether another is worth making
// (errors.Is(err, ErrUnavailable)) and, when the receiver said so, how long
// to wait (an error with a RetryAfter() time.Duration method). Every
// delivery carries an Idempotency-Key, id:event:version, so a receiver
// applies a retried delivery once.
//
// Receivers check a delivery with Verify. docs/export.md describes the
// format, the headers and the signature for receivers not written in Go.
//
// A record holds a tenant's words. Nothing here logs, and no error carries
// a record's content, a response body or the URL's query.
package export
