package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"safecontact/bot"
	"safecontact/channels/sms"
	"safecontact/channels/webchat"
	"safecontact/handoff"
)

// Main is a running safecontact service. Tests start it on ":0" and read
// Addr.
type Main struct {
	cfg   Config
	log   *slog.Logger
	stack *stack
	sms   *sms.Handler
	chat  *webchat.Server
	// outbox sends texts that answer no inbound one; nil unless Twilio's
	// REST API is configured.
	outbox     *sms.Outbox
	stopOutbox context.CancelFunc
	ln         net.Listener
	srv        *http.Server
	done       chan error
}

// NewMain builds the service from its configuration.
func NewMain(ctx context.Context, cfg Config, log *slog.Logger) (*Main, error) {
	s, err := build(ctx, cfg, time.Now, log)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: log, stack: s, done: make(chan error, 1)}
	// Until the Slack queue lands, cases are printed for an operator.
	sink := handoff.NewConsole(os.Stderr, s.bundle.Hours.Location())
	smsCfg := sms.Config{
		Engine: s.engine, Sink: sink, AuthToken: cfg.TwilioAuthToken, PublicBaseURL: cfg.PublicBaseURL,
		Log: log,
	}
	if cfg.TwilioAccountSID != "" {
		if m.outbox, err = newOutbox(cfg, s, log); err != nil {
			s.close()
			return nil, err
		}
		smsCfg.OnStatus = m.outbox.RecordStatus
	}
	m.sms, err = sms.New(smsCfg)
	if err != nil {
		s.close()
		return nil, err
	}
	if m.chat, err = webChat(cfg, s, sink, log); err != nil {
		s.close()
		return nil, err
	}
	if !m.sms.Enabled() {
		log.Warn("SMS: TWILIO_AUTH_TOKEN or PUBLIC_BASE_URL not set; " + sms.InboundPath + " refuses every request")
	}
	m.srv = &http.Server{
		Handler:           m.routes(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       60 * time.Second,
	}
	return m, nil
}

func (m *Main) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("GET /readyz", m.ready)
	mux.Handle("POST "+sms.InboundPath, m.sms)
	mux.Handle("POST "+sms.StatusPath, m.sms)
	mux.Handle("/chat/", m.chat)
	return noStore(mux)
}

// ready answers 200 when the store answers, 503 otherwise.
func (m *Main) ready(w http.ResponseWriter, r *http.Request) {
	if m.stack.redis != nil {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if err := m.stack.redis.Ping(ctx).Err(); err != nil {
			m.log.Warn("readyz: redis not answering", "err", err)
			http.Error(w, "store not ready", http.StatusServiceUnavailable)
			return
		}
	}
	w.Write([]byte("ok\n"))
}

// noStore tells browsers and proxies to keep nothing: a shared device must
// not hold any trace of a visit.
func noStore(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		h.ServeHTTP(w, r)
	})
}

// Run starts listening and serving; it returns once the listener is open.
func (m *Main) Run(ctx context.Context) error {
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", m.cfg.Addr)
	if err != nil {
		return err
	}
	m.ln = ln
	m.log.Info("listening", "addr", ln.Addr().String(), "webchat", chatURL(ln.Addr()))
	if m.outbox != nil {
		var octx context.Context
		octx, m.stopOutbox = context.WithCancel(context.WithoutCancel(ctx))
		go m.outbox.Run(octx)
	}
	go func() {
		err := m.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		m.done <- err
	}()
	return nil
}

// Addr is the address the service listens on, once Run has returned.
func (m *Main) Addr() string { return m.ln.Addr().String() }

// Wait returns when the server stops by itself (with its error) or ctx ends.
func (m *Main) Wait(ctx context.Context) error {
	select {
	case err := <-m.done:
		return err
	case <-ctx.Done():
		return nil
	}
}

// Close stops the server, letting requests in flight finish for a few
// seconds, then closes the store.
func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	if m.stopOutbox != nil {
		m.stopOutbox()
	}
	return errors.Join(err, m.stack.close())
}

// newOutbox builds the durable outbox for outbound texts. A conversation
// the tenant ended (exit, STOP, DELETE) is gone from the store, and so is
// never texted.
func newOutbox(cfg Config, s *stack, log *slog.Logger) (*sms.Outbox, error) {
	sender, err := sms.NewTwilioSender(sms.TwilioConfig{
		AccountSID: cfg.TwilioAccountSID, AuthToken: cfg.TwilioAuthToken,
		From: cfg.TwilioFrom, MessagingServiceSID: cfg.TwilioMessagingService,
		StatusCallback: strings.TrimRight(cfg.PublicBaseURL, "/") + sms.StatusPath,
		APIBase:        cfg.TwilioAPIBase,
	})
	if err != nil {
		return nil, err
	}
	gate := func(ctx context.Context, id bot.ConversationID) (bool, error) {
		c, err := s.engine.Conversation(ctx, id)
		return c != nil, err
	}
	return sms.NewOutbox(s.redis, s.sealer, sender, gate, sms.OutboxOptions{Log: log}), nil
}

// chatURL is the web chat's address on this machine, for people to open.
func chatURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return ""
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/chat/"
}
