// Package sms is the Twilio SMS channel: the inbound webhook that runs one
// engine turn per text and answers with TwiML, and the status callback for
// outbound texts, which the outbox (Outbox, outbox.go) sends.
//
// Every request must carry a valid X-Twilio-Signature for PublicBaseURL +
// its path; without an auth token configured, every request is refused.
// Nothing a tenant sends, nor their number, is logged: a conversation is
// named by its id.
//
// A sender that cannot be texted back (WhatsApp, a short code, an
// alphanumeric sender id) is answered with an empty TwiML response and
// starts no conversation: an officer could never reply to it. Pictures
// and other files sent with a text are never fetched or kept: the engine
// is told only how many there were.
package sms

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"

	"github.com/safecontact/safecontact/bot"
)

// Paths the handler serves (DESIGN §8).
const (
	InboundPath = "/sms/twilio"
	StatusPath  = "/sms/twilio/status"
)

// Engine is what the channel needs of the dialogue engine.
type Engine interface {
	Handle(ctx context.Context, in bot.Inbound) (bot.Result, error)
	// Flow is the script: its messages answer a sender safecontact
	// cannot serve.
	Flow() *bot.Flow
}

// Config configures the handler.
type Config struct {
	// Engine handles each turn. The store it saves to logs the turn's
	// events with it, for the officer queue: the channel delivers none.
	Engine Engine
	// AuthToken is the Twilio account's auth token, which signs webhooks.
	// Empty: every request is refused (fail closed).
	AuthToken string
	// PublicBaseURL is the scheme and host Twilio calls, e.g.
	// "https://contact.example.org", with any path prefix a proxy adds.
	// Signatures are checked against it + the request's path and query,
	// never against the Host header.
	PublicBaseURL string
	// TurnTimeout bounds one engine turn; past it the tenant gets the
	// fallback reply. Default 5s, well inside Twilio's 15-second limit.
	TurnTimeout time.Duration
	// MaxBody is the largest request body accepted; default 16 KiB.
	// Twilio's inbound form for a 1,600-character text is under 4 KiB.
	MaxBody int64
	// OnStatus records a delivery status callback (Outbox.RecordStatus).
	OnStatus func(ctx context.Context, sid, status string) error
	Log      *slog.Logger
}

// Fallback is the reply when a turn cannot be completed in time. It keeps
// the emergency number in front of the tenant whatever went wrong.
const Fallback = "Sorry, something went wrong. Please text again. In danger, call 999."

// Handler serves the Twilio webhooks.
type Handler struct {
	cfg       Config
	validator client.RequestValidator
	mux       *http.ServeMux
}

// New returns the handler for cfg.
func New(cfg Config) (*Handler, error) {
	if cfg.Engine == nil {
		return nil, errors.New("sms: no engine")
	}
	if cfg.PublicBaseURL != "" {
		u, err := url.Parse(cfg.PublicBaseURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return nil, fmt.Errorf("sms: PUBLIC_BASE_URL %q: want an absolute http(s) URL", cfg.PublicBaseURL)
		}
		cfg.PublicBaseURL = strings.TrimRight(cfg.PublicBaseURL, "/")
	}
	if cfg.TurnTimeout <= 0 {
		cfg.TurnTimeout = 5 * time.Second
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 10
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, validator: client.NewRequestValidator(cfg.AuthToken), mux: http.NewServeMux()}
	h.mux.HandleFunc("POST "+InboundPath, h.inbound)
	h.mux.HandleFunc("POST "+StatusPath, h.status)
	return h, nil
}

// Enabled reports whether the handler can accept anything: it needs both
// the auth token and the public URL.
func (h *Handler) Enabled() bool { return h.cfg.AuthToken != "" && h.cfg.PublicBaseURL != "" }

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// form reads and authenticates a webhook's form. It writes the refusal
// and returns nil when the request is not one Twilio signed.
func (h *Handler) form(w http.ResponseWriter, r *http.Request) url.Values {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, "request body too large", http.StatusRequestEntityTooLarge)
			return nil
		}
		http.Error(w, "bad request", http.StatusBadRequest)
		return nil
	}
	sig := r.Header.Get("X-Twilio-Signature")
	if !h.Enabled() || sig == "" || !h.validator.ValidateBody(h.cfg.PublicBaseURL+r.URL.RequestURI(), body, sig) {
		h.cfg.Log.Warn("sms: refused a request without a valid Twilio signature", "path", r.URL.Path)
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		http.Error(w, "want a form", http.StatusUnsupportedMediaType)
		return nil
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "malformed form", http.StatusBadRequest)
		return nil
	}
	return form
}

func (h *Handler) inbound(w http.ResponseWriter, r *http.Request) {
	form := h.form(w, r)
	if form == nil {
		return
	}
	from, sid := form.Get("From"), form.Get("MessageSid")
	if from == "" || sid == "" {
		http.Error(w, "From and MessageSid are required", http.StatusBadRequest)
		return
	}
	from = phoneOf(from)
	if kind := unanswerable(from); kind != "" {
		// No conversation an officer could never answer: nothing is
		// stored, and Twilio is told all is well so it does not retry.
		// The kind is logged, never the sender. A WhatsApp user, who can
		// be answered now, is given the 999 advice and told to text from
		// their phone: whatever they wrote, they may be in danger.
		h.cfg.Log.Warn("sms: refused a sender that cannot be texted back", "kind", kind)
		writeTwiML(w, h.textOnly(kind))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), h.cfg.TurnTimeout)
	defer cancel()
	res, err := h.cfg.Engine.Handle(ctx, bot.Inbound{
		Channel: bot.ChannelSMS, Address: from, MessageID: sid, Text: form.Get("Body"),
		Attachments: attachments(form),
	})
	if err != nil {
		// The store refused or was too slow: nothing was saved (a turn is
		// saved whole or not at all), so the tenant's next text is read
		// against the same question.
		h.cfg.Log.Error("sms: turn failed; sent the fallback reply", "err", err)
		writeTwiML(w, []bot.Reply{{Text: Fallback}})
		return
	}
	if res.Duplicate {
		h.cfg.Log.Info("sms: redelivered message answered again, not applied", "conversation", res.Conversation)
	}
	writeTwiML(w, res.Replies)
}

// maxMedia is the most attachments Twilio puts on one message
// (https://www.twilio.com/docs/api/rest/media: up to 10 media files).
const maxMedia = 10

// attachments is how many pictures or other files came with the message:
// Twilio's NumMedia, with MediaUrl0 … and MediaContentType0 … for each
// (https://www.twilio.com/docs/messaging/guides/webhook-request). Only
// the count is read; the files are never fetched, and no URL or type is
// passed on or kept. Twilio itself keeps received media until its Media
// resource is deleted (https://www.twilio.com/docs/api/rest/media).
func attachments(form url.Values) int {
	n, err := strconv.Atoi(strings.TrimSpace(form.Get("NumMedia")))
	if err != nil || n < 0 {
		n = 0
	}
	if n == 0 && form.Get("MediaUrl0") != "" {
		// A count missing or garbled: a picture is still a picture.
		n = 1
	}
	return min(n, maxMedia)
}

func (h *Handler) status(w http.ResponseWriter, r *http.Request) {
	form := h.form(w, r)
	if form == nil {
		return
	}
	sid, status := form.Get("MessageSid"), form.Get("MessageStatus")
	if sid == "" || status == "" {
		http.Error(w, "MessageSid and MessageStatus are required", http.StatusBadRequest)
		return
	}
	if h.cfg.OnStatus != nil {
		if err := h.cfg.OnStatus(r.Context(), sid, status); err != nil {
			// Twilio retries a failed callback; tell it to.
			h.cfg.Log.Error("sms: status not recorded", "err", err)
			http.Error(w, "try again", http.StatusServiceUnavailable)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}

// textOnly is the reply to a sender that cannot be texted back but can
// be answered now (WhatsApp): the emergency reply and, when the flow has
// it, the text_only message, in the flow's first language. Others get
// nothing: a reply could not reach them.
func (h *Handler) textOnly(kind string) []bot.Reply {
	if kind != SenderWhatsApp {
		return nil
	}
	fl := h.cfg.Engine.Flow()
	var out []bot.Reply
	for _, key := range []string{bot.MsgEmergency, bot.MsgTextOnly} {
		if t := fl.Messages[key].In(fl.DefaultLang(), fl.DefaultLang()); t != "" {
			out = append(out, bot.Reply{Text: t})
		}
	}
	return out
}

// writeTwiML answers with one <Message> per reply, in order; no replies
// is an empty <Response/>, which sends nothing.
func writeTwiML(w http.ResponseWriter, replies []bot.Reply) {
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	// Twilio has gone if this fails: it retries the webhook, which is
	// answered from the stored replies.
	_, _ = w.Write(appendTwiML(make([]byte, 0, 128+160*len(replies)), replies))
}

// appendTwiML appends the messaging response with one <Message> per
// reply: the bytes twilio-go's twiml.Messages writes (twiml_test.go holds
// them to it), without building a document for each response.
func appendTwiML(b []byte, replies []bot.Reply) []byte {
	b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`...)
	if len(replies) == 0 {
		return append(b, "<Response/>"...)
	}
	b = append(b, "<Response>"...)
	for _, r := range replies {
		if r.Text == "" {
			b = append(b, "<Message/>"...)
			continue
		}
		b = append(b, "<Message>"...)
		b = appendXMLText(b, r.Text)
		b = append(b, "</Message>"...)
	}
	return append(b, "</Response>"...)
}

// appendXMLText appends s escaped as XML character data: the five
// markup characters as entities, and what XML cannot carry (control
// characters, invalid UTF-8) as U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); {
		r, width := utf8.DecodeRuneInString(s[i:])
		i += width
		var esc string
		switch r {
		case '&':
			esc = "&amp;"
		case '<':
			esc = "&lt;"
		case '>':
			esc = "&gt;"
		case '\'':
			esc = "&apos;"
		case '"':
			esc = "&quot;"
		default:
			if xmlChar(r) && (r != utf8.RuneError || width > 1) {
				continue
			}
			esc = "\uFFFD"
		}
		b = append(append(b, s[last:i-width]...), esc...)
		last = i
	}
	return append(b, s[last:]...)
}

// xmlChar reports whether XML 1.0 can carry r (its Char production).
func xmlChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF
}
