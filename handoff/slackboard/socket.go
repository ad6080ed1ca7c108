package slackboard

import (
	"context"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
	"github.com/slack-go/slack/socketmode"
)

// SocketMode reports whether the app token is set: Slack's requests then
// come over a WebSocket the service opens (RunSocketMode), and no public
// URL is needed.
func (s *Slack) SocketMode() bool { return s.cfg.AppToken != "" }

// RunSocketMode receives Slack's requests over Socket Mode until ctx ends,
// acknowledging each at once and handling it as the HTTP endpoints do.
func (s *Slack) RunSocketMode(ctx context.Context) error {
	sm := socketmode.New(s.api)
	errc := make(chan error, 1)
	go func() { errc <- sm.RunContext(ctx) }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			if ctx.Err() != nil {
				return nil
			}
			return err
		case evt := <-sm.Events:
			s.socketEvent(ctx, sm, evt)
		}
	}
}

func (s *Slack) socketEvent(ctx context.Context, sm *socketmode.Client, evt socketmode.Event) {
	switch evt.Type {
	case socketmode.EventTypeInvalidAuth:
		s.cfg.Log.Error("slack: Socket Mode refused SLACK_APP_TOKEN")
	case socketmode.EventTypeConnectionError:
		s.cfg.Log.Warn("slack: Socket Mode connection failed; retrying", "err", evt.Data)
	case socketmode.EventTypeConnected:
		s.cfg.Log.Info("slack: Socket Mode connected")
	case socketmode.EventTypeInteractive:
		cb, ok := evt.Data.(slack.InteractionCallback)
		if ok && cb.Type == slack.InteractionTypeViewSubmission {
			// A submitted reply is checked before the acknowledgement,
			// which carries a refusal to show in the modal.
			sctx, cancel := context.WithTimeout(ctx, submitBudget)
			resp := s.submit(sctx, cb)
			cancel()
			if resp != nil {
				s.ack(sm, *evt.Request, resp)
			} else {
				s.ack(sm, *evt.Request)
			}
			return
		}
		s.ack(sm, *evt.Request)
		if ok {
			s.dispatch(cb)
		}
	case socketmode.EventTypeEventsAPI:
		ev, ok := evt.Data.(slackevents.EventsAPIEvent)
		cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if !ok || cb == nil {
			s.ack(sm, *evt.Request)
			return
		}
		first, err := s.firstTime(ctx, cb.EventID)
		if err != nil {
			// Not acknowledged: Slack sends it again.
			s.cfg.Log.Error("slack: event id not checked", "err", err)
			return
		}
		s.ack(sm, *evt.Request)
		if first {
			s.later(func(ctx context.Context) { s.event(ctx, ev) })
		}
	}
}

// ack acknowledges a request. One that cannot be acknowledged (the
// connection dropped) Slack sends again, once the connection is back.
func (s *Slack) ack(sm *socketmode.Client, req socketmode.Request, payload ...any) {
	if err := sm.Ack(req, payload...); err != nil {
		s.cfg.Log.Warn("slack: Socket Mode request not acknowledged; Slack sends it again", "err", err)
	}
}
