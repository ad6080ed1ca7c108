package main

import (
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/safecontact/safecontact/export"
	"github.com/safecontact/safecontact/redisconn"
)

// Config is everything safecontact reads from its environment, parsed once
// here; packages receive values, never the environment.
type Config struct {
	// Addr is where serve listens (SAFECONTACT_ADDR, -addr).
	Addr string
	// FlowsDir overrides the embedded scripts file by file
	// (SAFECONTACT_FLOWS, -flows).
	FlowsDir string
	// RedisURL switches the store from memory to Redis (REDIS_URL).
	RedisURL string
	// RedisMode says what REDIS_URL names (REDIS_MODE): single (the
	// default), sentinel or cluster; see package redisconn.
	RedisMode string
	// Key is the master secret, base64 or hex of 32 bytes
	// (SAFECONTACT_KEY). With Redis it opens the data key kept there,
	// from which the encryption and conversation-id keys are derived;
	// without, they are derived from it. Required with Redis; generated
	// at start otherwise.
	Key string
	// KeyPrevious is the old master key while changing Key
	// (SAFECONTACT_KEY_PREVIOUS): it still opens the data key, which is
	// wrapped under Key as well. Only with Redis.
	KeyPrevious string
	// Retention: how long each kind of record is kept (README, "Data
	// and retention"; docs/data-protection.md). Zero takes the default.
	Retention Retention
	// ExportURL, when set, receives each case's record as a signed JSON
	// POST (SAFECONTACT_EXPORT_URL, SAFECONTACT_EXPORT_SECRET;
	// docs/export.md).
	ExportURL    string
	ExportSecret string
	// LockScreenWords adds words, such as the landlord's team name, that
	// must never show on a lock screen (SAFECONTACT_LOCKSCREEN_WORDS,
	// comma-separated).
	LockScreenWords []string
	// LogFormat is "json" (default) or "text" (SAFECONTACT_LOG_FORMAT).
	LogFormat string
	// PublicBaseURL is the scheme, host and any path prefix the world
	// reaches safecontact on (PUBLIC_BASE_URL); Twilio's signatures are
	// checked against it.
	PublicBaseURL string
	// TwilioAuthToken signs Twilio's webhooks (TWILIO_AUTH_TOKEN). Without
	// it /sms/twilio refuses every request.
	TwilioAuthToken string
	// Twilio sends outbound texts (officers' replies) when these are set:
	// TWILIO_ACCOUNT_SID, and TWILIO_FROM or TWILIO_MESSAGING_SERVICE_SID.
	// TWILIO_API_BASE points the REST client at a local test server.
	TwilioAccountSID, TwilioFrom, TwilioMessagingService, TwilioAPIBase string
	// ChatExitURL is where the web chat's quick exit goes
	// (SAFECONTACT_CHAT_EXIT_URL; default BBC Weather).
	ChatExitURL string
	// ChatFrameAncestors are the sites allowed to embed the web chat in a
	// frame (SAFECONTACT_CHAT_FRAME_ANCESTORS, space-separated, e.g.
	// "https://www.example-housing.org.uk").
	ChatFrameAncestors []string
	// BehindProxy: a reverse proxy in front sets X-Forwarded-For
	// (SAFECONTACT_BEHIND_PROXY=1), so per-client limits use it.
	BehindProxy bool
	// MetricsToken, when set, is required as a bearer token by
	// GET /metrics (SAFECONTACT_METRICS_TOKEN).
	MetricsToken string
	// Slack is the officers' side; off unless SLACK_BOT_TOKEN is set.
	Slack SlackConfig
}

// Retention is how long safecontact keeps each kind of record. Each is a
// Go duration ("36h") or a number of days ("90d").
type Retention struct {
	// Idle: an intake the tenant has not finished, after their last
	// message (SAFECONTACT_IDLE_TTL, default 24h).
	Idle time.Duration
	// Conversation: a handed-off conversation's state, after the
	// tenant's last message (SAFECONTACT_CONVERSATION_TTL, default 30d).
	Conversation time.Duration
	// OpenCase: an open case, after its last change
	// (SAFECONTACT_CASE_TTL, default 90d).
	OpenCase time.Duration
	// ClosedCase: a closed case, after it was closed
	// (SAFECONTACT_CLOSED_CASE_TTL, default 30d).
	ClosedCase time.Duration
	// Ledger: a case's anonymous ledger entry, for the monitoring report
	// (SAFECONTACT_LEDGER_TTL, default 730d).
	Ledger time.Duration
}

// parseRetention reads the retention settings, naming each bad one.
func parseRetention(getenv func(string) string) (Retention, []error) {
	var r Retention
	var errs []error
	for _, s := range []struct {
		name string
		to   *time.Duration
	}{
		{"SAFECONTACT_IDLE_TTL", &r.Idle},
		{"SAFECONTACT_CONVERSATION_TTL", &r.Conversation},
		{"SAFECONTACT_CASE_TTL", &r.OpenCase},
		{"SAFECONTACT_CLOSED_CASE_TTL", &r.ClosedCase},
		{"SAFECONTACT_LEDGER_TTL", &r.Ledger},
	} {
		v := getenv(s.name)
		if v == "" {
			continue
		}
		d, err := parseDays(v)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("%s: want a duration such as 36h or 90d, not %q", s.name, v))
			continue
		}
		*s.to = d
	}
	return r, errs
}

// parseDays reads a Go duration, or a whole number of days ("90d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, err
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

// SlackConfig is the Slack app's settings (README, "Officers in Slack").
type SlackConfig struct {
	BotToken      string // SLACK_BOT_TOKEN
	SigningSecret string // SLACK_SIGNING_SECRET (HTTP mode)
	AppToken      string // SLACK_APP_TOKEN (Socket Mode)
	APIURL        string // SLACK_API_URL: a local test server
	// Channels routes cards by area id (SLACK_CHANNELS,
	// "shropshire=C0123,telford_wrekin=C0456,*=C0789").
	Channels      map[string]string
	OnCall        string   // SLACK_ONCALL_CHANNEL
	OnCallMention string   // SLACK_ONCALL_MENTION, e.g. <!subteam^S0123>
	Managers      string   // SLACK_MANAGERS_CHANNEL
	Officers      []string // SLACK_OFFICERS: user ids, comma-separated
	// ManagerUsers may reassign and close any case and tick its duties
	// (SLACK_MANAGERS: user ids, comma-separated). Not the managers'
	// channel, where escalations go.
	ManagerUsers []string
	// Repairs receives security repairs requests (SLACK_REPAIRS_CHANNEL);
	// without it they go in the case's thread for the officer to pass on.
	Repairs string
	// Report receives the monthly summary (SLACK_REPORT_CHANNEL; default
	// the managers' channel).
	Report string
}

// Enabled reports whether Slack is configured.
func (s SlackConfig) Enabled() bool { return s.BotToken != "" }

// loadConfig reads the environment, then lets flags in fs override it. It
// returns every problem at once.
func loadConfig(getenv func(string) string, fs *flag.FlagSet, args []string) (Config, error) {
	c := Config{
		Addr:      or(getenv("SAFECONTACT_ADDR"), ":8080"),
		FlowsDir:  getenv("SAFECONTACT_FLOWS"),
		RedisURL:  getenv("REDIS_URL"),
		RedisMode: getenv("REDIS_MODE"),
		Key:       getenv("SAFECONTACT_KEY"),
		LogFormat: or(getenv("SAFECONTACT_LOG_FORMAT"), "json"),

		PublicBaseURL:   getenv("PUBLIC_BASE_URL"),
		TwilioAuthToken: getenv("TWILIO_AUTH_TOKEN"),

		TwilioAccountSID:       getenv("TWILIO_ACCOUNT_SID"),
		TwilioFrom:             getenv("TWILIO_FROM"),
		TwilioMessagingService: getenv("TWILIO_MESSAGING_SERVICE_SID"),
		TwilioAPIBase:          getenv("TWILIO_API_BASE"),

		ChatExitURL:        getenv("SAFECONTACT_CHAT_EXIT_URL"),
		ChatFrameAncestors: strings.Fields(getenv("SAFECONTACT_CHAT_FRAME_ANCESTORS")),
		BehindProxy:        getenv("SAFECONTACT_BEHIND_PROXY") == "1",
		MetricsToken:       getenv("SAFECONTACT_METRICS_TOKEN"),
	}
	var errs []error
	c.Retention, errs = parseRetention(getenv)
	c.KeyPrevious = getenv("SAFECONTACT_KEY_PREVIOUS")
	c.ExportURL, c.ExportSecret = getenv("SAFECONTACT_EXPORT_URL"), getenv("SAFECONTACT_EXPORT_SECRET")
	c.LockScreenWords = splitList(getenv("SAFECONTACT_LOCKSCREEN_WORDS"))
	c.Slack = SlackConfig{
		BotToken: getenv("SLACK_BOT_TOKEN"), SigningSecret: getenv("SLACK_SIGNING_SECRET"),
		AppToken: getenv("SLACK_APP_TOKEN"), APIURL: getenv("SLACK_API_URL"),
		OnCall: getenv("SLACK_ONCALL_CHANNEL"), OnCallMention: getenv("SLACK_ONCALL_MENTION"),
		Managers: getenv("SLACK_MANAGERS_CHANNEL"), Officers: splitList(getenv("SLACK_OFFICERS")),
		ManagerUsers: splitList(getenv("SLACK_MANAGERS")), Repairs: getenv("SLACK_REPAIRS_CHANNEL"),
		Report: getenv("SLACK_REPORT_CHANNEL"),
	}
	var err error
	if c.Slack.Channels, err = parseChannels(getenv("SLACK_CHANNELS")); err != nil {
		errs = append(errs, err)
	}
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (SAFECONTACT_ADDR)")
	fs.StringVar(&c.FlowsDir, "flows", c.FlowsDir, "directory of flow files overriding the embedded ones (SAFECONTACT_FLOWS)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if c.LogFormat != "json" && c.LogFormat != "text" {
		errs = append(errs, fmt.Errorf("SAFECONTACT_LOG_FORMAT: want json or text, not %q", c.LogFormat))
	}
	if c.TwilioAuthToken != "" && c.PublicBaseURL == "" {
		errs = append(errs, errors.New("PUBLIC_BASE_URL is required with TWILIO_AUTH_TOKEN: Twilio signs the URL it calls, e.g. https://contact.example.org"))
	}
	if c.TwilioAccountSID != "" && c.RedisURL == "" {
		errs = append(errs, errors.New("TWILIO_ACCOUNT_SID needs REDIS_URL: outbound texts wait in a durable outbox in Redis"))
	}
	if c.Slack.Enabled() && c.RedisURL == "" {
		errs = append(errs, errors.New("SLACK_BOT_TOKEN needs REDIS_URL: the officer queue and its clocks live in Redis"))
	}
	if c.ExportURL != "" {
		if c.RedisURL == "" {
			errs = append(errs, errors.New("SAFECONTACT_EXPORT_URL needs REDIS_URL: records wait for the housing system in a durable queue in Redis"))
		}
		if err := export.CheckURL(c.ExportURL); err != nil {
			errs = append(errs, err)
		}
		if err := export.CheckSecret([]byte(c.ExportSecret)); err != nil {
			errs = append(errs, err)
		}
	}
	if c.KeyPrevious != "" && c.RedisURL == "" {
		errs = append(errs, errors.New("SAFECONTACT_KEY_PREVIOUS is for changing the key of the data in Redis: without REDIS_URL there is none; unset it"))
	}
	switch strings.ToLower(c.RedisMode) {
	case "", redisconn.Single, redisconn.Sentinel, redisconn.Cluster:
		if c.RedisMode != "" && c.RedisURL == "" {
			errs = append(errs, fmt.Errorf("REDIS_MODE=%s needs REDIS_URL naming the Redis", c.RedisMode))
		}
	default:
		errs = append(errs, fmt.Errorf("REDIS_MODE=%q: want single, sentinel or cluster", c.RedisMode))
	}
	if c.RedisURL != "" && c.Key == "" {
		errs = append(errs, errors.New("SAFECONTACT_KEY is required with REDIS_URL: without it, stored conversations could not be read after a restart (generate one with: safecontact key)"))
	}
	return c, errors.Join(errs...)
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func splitList(s string) []string {
	var out []string
	for _, w := range strings.Split(s, ",") {
		if w = strings.TrimSpace(w); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// parseChannels reads SLACK_CHANNELS: area=channel pairs, comma-separated,
// with "*" for every other area.
func parseChannels(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, pair := range splitList(s) {
		area, ch, ok := strings.Cut(pair, "=")
		area, ch = strings.TrimSpace(area), strings.TrimSpace(ch)
		if !ok || area == "" || ch == "" {
			return nil, fmt.Errorf("SLACK_CHANNELS: want area=channel-id pairs such as shropshire=C0123,*=C0789, not %q", pair)
		}
		if _, dup := out[area]; dup {
			return nil, fmt.Errorf("SLACK_CHANNELS: area %q given twice", area)
		}
		out[area] = ch
	}
	return out, nil
}
