package slackboard_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// A thread line Slack refuses for good (the channel archived) is given
// up at once, to the dead list, with Slack's error as its class; one
// refused for a reason a person mends (the app not in the channel) is
// tried again.
func TestSlackRefusalsForGoodGiveALineUpAtOnce(t *testing.T) {
	for _, tt := range []struct {
		code  string
		state string
	}{
		{"is_archived", handoff.JobDead},
		{"not_in_channel", handoff.JobQueued},
	} {
		t.Run(tt.code, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			e.cardFor("refuse-0001", "shropshire", bot.Standard)
			e.api.Refuse(func(method string) string {
				if method == "chat.postMessage" {
					return tt.code
				}
				return ""
			})
			require.NoError(t, e.queue.Deliver(ctx, bot.Event{Kind: bot.EventTenantMessage, Conversation: "refuse-0001", Text: "hello"}))
			e.advance(time.Second)
			e.step()
			jobs, err := e.queue.Jobs(ctx)
			require.NoError(t, err)
			require.Len(t, jobs, 1)
			assert.Equal(t, tt.state, jobs[0].State)
			assert.Equal(t, "slack "+tt.code, jobs[0].ErrClass)
			assert.Equal(t, 1, jobs[0].Attempts)
		})
	}
}
