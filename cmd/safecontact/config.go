package main

import (
	"errors"
	"flag"
	"fmt"
	"strings"
	"time"
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
	// Key is the master secret, base64 or hex of 32 bytes, from which the
	// encryption and conversation-id keys are derived (SAFECONTACT_KEY).
	// Required with Redis; generated at start otherwise.
	Key string
	// IdleTTL is how long an incomplete intake is kept
	// (SAFECONTACT_IDLE_TTL, Go duration, default 24h).
	IdleTTL time.Duration
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
	if s := getenv("SAFECONTACT_IDLE_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			errs = append(errs, fmt.Errorf("SAFECONTACT_IDLE_TTL: want a duration such as 24h, not %q", s))
		}
		c.IdleTTL = d
	}
	c.LockScreenWords = splitList(getenv("SAFECONTACT_LOCKSCREEN_WORDS"))
	c.Slack = SlackConfig{
		BotToken: getenv("SLACK_BOT_TOKEN"), SigningSecret: getenv("SLACK_SIGNING_SECRET"),
		AppToken: getenv("SLACK_APP_TOKEN"), APIURL: getenv("SLACK_API_URL"),
		OnCall: getenv("SLACK_ONCALL_CHANNEL"), OnCallMention: getenv("SLACK_ONCALL_MENTION"),
		Managers: getenv("SLACK_MANAGERS_CHANNEL"), Officers: splitList(getenv("SLACK_OFFICERS")),
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
