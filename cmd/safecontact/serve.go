package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/channels/sms"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/export"
	"github.com/safecontact/safecontact/handoff"
	"github.com/safecontact/safecontact/handoff/policy"
	"github.com/safecontact/safecontact/handoff/relay"
	"github.com/safecontact/safecontact/handoff/slackboard"
	"github.com/safecontact/safecontact/ledger"
	"github.com/safecontact/safecontact/ledger/report"
)

// Main is a running safecontact service. Tests start it on ":0" and read
// Addr.
type Main struct {
	cfg   Config
	log   *slog.Logger
	stack *stack
	met   *metrics
	sms   *sms.Handler
	chat  *webchat.Server
	// outbox sends texts that answer no inbound one; nil unless Twilio's
	// REST API is configured.
	outbox *sms.Outbox
	// queue is the officer queue; nil without Redis.
	queue *handoff.Queue
	// feed prints cases on the console without Redis; nil with it.
	feed *handoff.ConsoleFeed
	// slack is the officers' side; nil unless configured.
	slack *slackboard.Slack
	// stopWorkers ends the background workers (outbox, queue, Socket
	// Mode); workers waits for them.
	stopWorkers context.CancelFunc
	workers     sync.WaitGroup
	ln          net.Listener
	srv         *http.Server
	done        chan error
}

// NewMain builds the service from its configuration.
func NewMain(ctx context.Context, cfg Config, log *slog.Logger) (*Main, error) {
	s, err := build(ctx, cfg, time.Now, log)
	if err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: log, stack: s, met: newMetrics(log), done: make(chan error, 1)}
	// Cases go to standard output, apart from the logs on standard error,
	// which never hold a tenant's words.
	console := handoff.NewConsole(os.Stdout, s.bundle.Hours.Location())
	// The store logs every turn's events with the turn: with Redis the
	// officer queue takes them from there, without it the console feed
	// prints them for an operator. The channels deliver nothing
	// themselves, and a crash between a turn and its delivery loses no
	// handoff.
	if s.redis != nil {
		opts := queueOptions(cfg, s, log)
		opts.Posted = m.met.posted
		m.queue = handoff.New(s.redis, s.sealer, s.bundle.Hours, nil, opts)
		m.met.watchQueue(m.queue, log)
	} else {
		m.feed = handoff.NewConsoleFeed(s.mem, console, log)
	}
	smsCfg := sms.Config{
		Engine: s.engine, AuthToken: cfg.TwilioAuthToken, PublicBaseURL: cfg.PublicBaseURL,
		Log: log,
	}
	if cfg.TwilioAccountSID != "" {
		if m.outbox, err = newOutbox(cfg, s, m.queue, m.met, log); err != nil {
			s.close()
			return nil, err
		}
		smsCfg.OnStatus = m.outbox.RecordStatus
	}
	var jobs []jobSource
	if m.outbox != nil {
		jobs = append(jobs, outboxJobs{m.outbox})
	}
	if m.queue != nil {
		jobs = append(jobs, queueJobs{m.queue})
	}
	if len(jobs) > 0 {
		m.met.watchJobs(log, jobs...)
	}
	m.sms, err = sms.New(smsCfg)
	if err != nil {
		s.close()
		return nil, err
	}
	if m.chat, err = webChat(cfg, s, log); err != nil {
		s.close()
		return nil, err
	}
	if m.queue != nil {
		if err := m.officers(ctx, console); err != nil {
			s.close()
			return nil, err
		}
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
	// Open web chat streams end as shutdown begins, so it waits only for
	// the requests in flight.
	m.srv.RegisterOnShutdown(m.chat.Shutdown)
	return m, nil
}

func (m *Main) routes() http.Handler {
	mux := http.NewServeMux()
	met := m.met
	handle := func(pattern, route string, h http.Handler) { mux.Handle(pattern, met.instrument(route, h)) }
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})
	mux.HandleFunc("GET /readyz", m.ready)
	mux.Handle("GET /metrics", met.handler(m.cfg.MetricsToken))
	handle("POST "+sms.InboundPath, "sms", m.sms)
	handle("POST "+sms.StatusPath, "sms_status", m.sms)
	handle("/chat/", "chat", m.chat)
	if m.slack != nil && !m.slack.SocketMode() {
		handle("POST "+slackboard.InteractionsPath, "slack_interactions", http.HandlerFunc(m.slack.Interactions))
		handle("POST "+slackboard.EventsPath, "slack_events", http.HandlerFunc(m.slack.Events))
	}
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
	_, _ = io.WriteString(w, "ok\n")
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
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	m.stopWorkers = stop
	if m.outbox != nil {
		m.workers.Go(func() { m.logStopped("outbox", m.outbox.Run(wctx)) })
	}
	if m.queue != nil {
		m.workers.Go(func() { m.logStopped("officer queue", m.queue.Run(wctx)) })
	}
	if m.feed != nil {
		m.workers.Go(func() { m.feed.Run(wctx) })
	}
	// Wakes this process's open web chat streams when another process
	// adds to their chat.
	m.workers.Go(func() { m.chat.Run(wctx) })
	if m.slack != nil {
		monthly := &report.Monthly{
			Redis: m.stack.redis, Prefix: ledger.DefaultPrefix, Hours: m.stack.bundle.Hours,
			Post: m.slack.PostReport, Now: time.Now, Log: m.log,
		}
		m.workers.Go(func() { monthly.Run(wctx) })
	}
	if m.slack != nil && m.slack.SocketMode() {
		m.workers.Go(func() {
			if err := m.slack.RunSocketMode(wctx); err != nil {
				m.log.Error("slack: Socket Mode stopped", "err", err)
			}
		})
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
// workersGrace is how long Close waits for the background workers (the
// outbox, the queue, the console feed) to finish what they are doing.
const workersGrace = 10 * time.Second

func (m *Main) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := m.srv.Shutdown(ctx)
	if m.stopWorkers != nil {
		m.stopWorkers()
		// A worker blocked where cancelling cannot reach (a console
		// writing to a full pipe) must not keep the process from ending.
		stopped := make(chan struct{})
		go func() { m.workers.Wait(); close(stopped) }()
		select {
		case <-stopped:
		case <-time.After(workersGrace):
			m.log.Error("shutdown: background workers did not stop in time; exiting without them", "waited", workersGrace)
			err = errors.Join(err, errors.New("shutdown: background workers did not stop in time"))
		}
	}
	if m.slack != nil {
		m.slack.Close()
	}
	return errors.Join(err, m.stack.close())
}

// newOutbox builds the durable outbox for outbound texts. It texts only a
// conversation the store still holds, and tells the officer queue what
// becomes of each text (relay.Texts).
func newOutbox(cfg Config, s *stack, queue *handoff.Queue, met *metrics, log *slog.Logger) (*sms.Outbox, error) {
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
	texts := relay.Texts{Queue: queue, Log: log, Undelivered: met.textUndelivered}
	return sms.NewOutbox(s.redis, s.sealer, sender, gate, texts.Options(sms.OutboxOptions{Log: log})), nil
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

// queueOptions are the officer queue's settings: the policy's duties, the
// managers, how long cases and ledger entries are kept, and the housing
// system's export when it is set.
func queueOptions(cfg Config, s *stack, log *slog.Logger) handoff.Options {
	o := handoff.Options{
		Log: log, Events: s.events, Policy: policy.New(s.bundle), Managers: cfg.Slack.ManagerUsers,
		TTL: cfg.Retention.OpenCase, ClosedTTL: cfg.Retention.ClosedCase, LedgerTTL: cfg.Retention.Ledger,
	}
	if cfg.ExportURL != "" {
		o.Exporter = export.Queue{Client: &export.Client{URL: cfg.ExportURL, Secret: []byte(cfg.ExportSecret)}}
		log.Info("export: case records go to the housing system", "host", exportHost(cfg.ExportURL))
	}
	return o
}

// exportHost is the export receiver's host, for the log: the URL's path
// and query may carry a token.
func exportHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}

// officers sets where the queue shows cases: Slack when it is configured,
// the console otherwise.
func (m *Main) officers(ctx context.Context, console *handoff.Console) error {
	cfg := m.cfg.Slack
	if !cfg.Enabled() {
		m.log.Info("officer queue: in Redis, shown on the console (SLACK_BOT_TOKEN not set)")
		m.queue.SetBoard(console)
		return nil
	}
	areas := map[string]bool{"*": true}
	var known []string
	for _, a := range m.stack.bundle.Directory.Areas() {
		areas[a.ID] = true
		known = append(known, a.ID)
	}
	for area := range cfg.Channels {
		if !areas[area] {
			return fmt.Errorf("SLACK_CHANNELS: unknown area %q (the areas are %s, and * for the rest)", area, strings.Join(known, ", "))
		}
	}
	var err error
	m.slack, err = slackboard.New(ctx, slackboard.Config{
		BotToken: cfg.BotToken, SigningSecret: cfg.SigningSecret, AppToken: cfg.AppToken, APIURL: cfg.APIURL,
		Channels: cfg.Channels, OnCall: cfg.OnCall, OnCallMention: cfg.OnCallMention, Managers: cfg.Managers, Repairs: cfg.Repairs, Report: cfg.Report,
		// An officer's reply comes unasked: the flow's quiet words may not
		// lead it either.
		Officers: cfg.Officers, LockScreenWords: append(slices.Clone(m.cfg.LockScreenWords), m.stack.bundle.Flow.QuietWords...),
		Queue: m.queue, Relay: m.relay(), Redis: m.stack.redis, Log: m.log,
	})
	if err != nil {
		return err
	}
	m.queue.SetBoard(m.slack)
	mode := "HTTP (" + slackboard.InteractionsPath + ", " + slackboard.EventsPath + ")"
	if m.slack.SocketMode() {
		mode = "Socket Mode"
	}
	m.log.Info("officer queue: in Redis, shown in Slack", "mode", mode)
	return nil
}

// relay takes officers' replies to tenants on the channel they used.
func (m *Main) relay() relay.Relay {
	r := relay.Relay{Chat: m.chat, Queue: m.queue, Log: m.log}
	if m.outbox != nil {
		r.Outbox = m.outbox
	}
	return r
}

// logStopped logs a worker that stopped for any reason but shutdown.
func (m *Main) logStopped(worker string, err error) {
	if err != nil && !errors.Is(err, context.Canceled) {
		m.log.Error(worker+" stopped", "err", err)
	}
}
