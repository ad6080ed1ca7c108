package slackboard

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/slack-go/slack"
	"github.com/slack-go/slack/slackevents"
)

// Paths of Slack's requests in HTTP mode.
const (
	InteractionsPath = "/slack/interactions"
	EventsPath       = "/slack/events"
)

// maxBody bounds a request from Slack; its payloads are a few kilobytes.
const maxBody = 256 << 10

// read reads and verifies a request from Slack: its signature with the
// signing secret, and a timestamp within five minutes (slack-go's
// verifier refuses older ones, so a captured request cannot be replayed
// later). It writes the refusal and returns nil when it fails.
func (s *Slack) read(w http.ResponseWriter, r *http.Request) []byte {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "request too large", http.StatusRequestEntityTooLarge)
		return nil
	}
	sv, err := slack.NewSecretsVerifier(r.Header, s.cfg.SigningSecret)
	if err == nil {
		_, _ = sv.Write(body) // an HMAC's Write never fails
		err = sv.Ensure()
	}
	if err != nil {
		s.cfg.Log.Warn("slack: request refused", "path", r.URL.Path, "err", err)
		http.Error(w, "signature refused", http.StatusUnauthorized)
		return nil
	}
	return body
}

// Interactions answers Slack's interactivity requests. Button presses and
// shortcuts are answered at once and acted on in the background. A
// submitted form is checked first, within Slack's three seconds: a
// refusal is the response's body (response_action "errors", shown in the
// modal); an empty 200 closes the modal. A reply to the tenant is handed
// to the outbox (or the open chat) before that answer, so a crash after
// it cannot lose the reply; what the form asks for otherwise is done in
// the background.
func (s *Slack) Interactions(w http.ResponseWriter, r *http.Request) {
	body := s.read(w, r)
	if body == nil {
		return
	}
	form, err := url.ParseQuery(string(body))
	var cb slack.InteractionCallback
	if err == nil {
		err = json.Unmarshal([]byte(form.Get("payload")), &cb)
	}
	if err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	if cb.Type == slack.InteractionTypeViewSubmission {
		ctx, cancel := context.WithTimeout(r.Context(), submitBudget)
		defer cancel()
		resp := s.submit(ctx, cb)
		if resp == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(resp) // Slack has gone: it sends the action again
		return
	}
	w.WriteHeader(http.StatusOK)
	s.dispatch(cb)
}

// Events answers the Events API: the URL check, and message events, which
// are acknowledged at once, deduplicated by event id (Slack retries what
// it thinks was not received) and handled in the background.
func (s *Slack) Events(w http.ResponseWriter, r *http.Request) {
	body := s.read(w, r)
	if body == nil {
		return
	}
	ev, err := slackevents.ParseEvent(body, slackevents.OptionNoVerifyToken())
	if err != nil {
		http.Error(w, "bad event", http.StatusBadRequest)
		return
	}
	switch ev.Type {
	case slackevents.URLVerification:
		var ch slackevents.ChallengeResponse
		if err := json.Unmarshal(body, &ch); err != nil {
			http.Error(w, "bad challenge", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, ch.Challenge)
	case slackevents.CallbackEvent:
		cb, _ := ev.Data.(*slackevents.EventsAPICallbackEvent)
		if cb == nil {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		first, err := s.firstTime(r.Context(), cb.EventID)
		if err != nil {
			// Unsure whether it was seen: let Slack retry.
			s.cfg.Log.Error("slack: event id not checked", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusOK)
		if first {
			s.later(func(ctx context.Context) { s.event(ctx, ev) })
		}
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// firstTime records the event id and reports whether it is new. Slack
// retries an event for up to about an hour; a day's memory is plenty.
func (s *Slack) firstTime(ctx context.Context, id string) (bool, error) {
	if id == "" {
		return false, errors.New("event without an id")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return s.cfg.Redis.SetNX(ctx, s.cfg.Prefix+"ev:"+id, 1, 24*time.Hour).Result()
}

func (s *Slack) event(ctx context.Context, ev slackevents.EventsAPIEvent) {
	if m, ok := ev.InnerEvent.Data.(*slackevents.MessageEvent); ok {
		s.message(ctx, m)
	}
}
