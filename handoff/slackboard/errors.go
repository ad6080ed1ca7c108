package slackboard

import (
	"context"
	"errors"
	"net"
	"strconv"
	"time"

	"github.com/slack-go/slack"
)

// rateLimited carries Slack's Retry-After to the queue.
type rateLimited struct{ err *slack.RateLimitedError }

func (r rateLimited) Error() string             { return r.err.Error() }
func (r rateLimited) Unwrap() error             { return r.err }
func (r rateLimited) RetryAfter() time.Duration { return r.err.RetryAfter }

// failure is a failed call as the queue sees it: its class, for the job
// listing (never the error's text), and whether trying again could
// help.
type failure struct {
	err       error
	class     string
	permanent bool
}

func (f failure) Error() string   { return f.err.Error() }
func (f failure) Unwrap() error   { return f.err }
func (f failure) Class() string   { return f.class }
func (f failure) Permanent() bool { return f.permanent }

// refusedForGood are Slack's errors that the same post or update meets again
// however often it is tried: the message, the thread or the channel is
// gone, or the post itself is wrong. Not among them: not_in_channel,
// which inviting the app mends, and errors of Slack's own health.
var refusedForGood = map[string]bool{
	"channel_not_found": true, "is_archived": true, "message_not_found": true, "cant_update_message": true,
	"edit_window_closed": true, "msg_too_long": true, "no_text": true, "invalid_blocks": true,
	"invalid_blocks_format": true, "invalid_arguments": true, "too_many_attachments": true,
	"invalid_metadata_format": true, "invalid_metadata_schema": true, "metadata_too_large": true,
}

// classify gives a Slack API error what the queue reads from it: the
// wait a rate limit asks for, or its class and whether it is for good.
func classify(err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return rateLimited{rl}
	}
	var se slack.SlackErrorResponse
	if errors.As(err, &se) {
		return failure{err: err, class: "slack " + se.Err, permanent: refusedForGood[se.Err]}
	}
	var sc slack.StatusCodeError
	if errors.As(err, &sc) {
		return failure{err: err, class: "http " + strconv.Itoa(sc.Code)}
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return failure{err: err, class: "timeout"}
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return failure{err: err, class: "network"}
	}
	return err
}
