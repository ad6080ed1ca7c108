// Package slackboard is the officer queue's Slack side: a Block Kit card per
// case in the area's channel, Claim / Reply to tenant / Show contact /
// Close buttons, the card's thread as the record of the conversation with
// the tenant (their words, and what was sent to them), and alerts to the
// on-call and managers' channels. Officers' replies in the thread stay in
// Slack; writing to the tenant goes through a modal (reply.go). It
// receives Slack's requests over HTTP (signed, answered at once) or Socket
// Mode.
package slackboard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/slack-go/slack"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// Relay takes an officer's reply to the tenant on their channel: the SMS
// outbox or the open web chat. key is unique to the officer's submission,
// so a reply relayed twice is sent once.
type Relay interface {
	Send(ctx context.Context, c *handoff.Case, key, text string) error
}

// Config is what the Slack side needs.
type Config struct {
	BotToken      string // xoxb-…
	SigningSecret string // HTTP mode: verifies Slack's requests
	AppToken      string // xapp-…: Socket Mode instead of HTTP
	// APIURL points slack-go elsewhere (a local test server); it ends
	// in "/api/".
	APIURL string
	// Channels routes a case's card by area id; the "*" entry takes the
	// areas not listed (and cases with no area).
	Channels map[string]string
	// OnCall receives urgent cases at once, and high ones out of hours,
	// with OnCallMention (such as "<!subteam^S0123>" or "<!here>").
	OnCall, OnCallMention string
	// Managers receives escalations of cases not contacted in time, and
	// of overdue duties.
	Managers string
	// Repairs, when set, receives repairs requests for security work.
	Repairs string
	// Report receives the monthly summary; default Managers.
	Report string
	// Officers are the Slack user ids who may claim, see contacts and
	// close. Anyone else is told so, privately.
	Officers []string
	// LockScreenWords are added to the words an officer's reply may not
	// begin with (see bot.LockScreenWord).
	LockScreenWords []string

	Queue *handoff.Queue
	Relay Relay
	// Redis remembers Slack event ids, to ignore Slack's retries.
	Redis  redis.UniversalClient
	Prefix string // key prefix; default "sc:slack:"
	Log    *slog.Logger
}

// Slack is the Slack board and the handler of Slack's requests.
type Slack struct {
	cfg   Config
	api   *slack.Client
	botID string
	loc   *time.Location
	// work runs Slack's requests after they are acknowledged, in the
	// order they came, so an officer's replies reach the tenant in order.
	work chan func(context.Context)
	// quit ends the worker once the work queued is done. closed is set
	// first, under mu, which later holds while it queues: nothing is
	// queued after the worker's last look.
	quit   chan struct{}
	mu     sync.RWMutex
	closed bool
	wg     sync.WaitGroup
	stop   context.CancelFunc
	ctx    context.Context
}

// New checks the configuration, asks Slack who the bot is, and starts the
// background worker. Close stops it.
func New(ctx context.Context, cfg Config) (*Slack, error) {
	var missing []string
	for name, v := range map[string]string{"SLACK_BOT_TOKEN": cfg.BotToken, "SLACK_MANAGERS_CHANNEL": cfg.Managers, "SLACK_ONCALL_CHANNEL": cfg.OnCall} {
		if v == "" {
			missing = append(missing, name)
		}
	}
	if cfg.AppToken == "" && cfg.SigningSecret == "" {
		missing = append(missing, "SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN for Socket Mode)")
	}
	if cfg.Channels["*"] == "" {
		missing = append(missing, `SLACK_CHANNELS with a "*" entry for areas not listed`)
	}
	if len(cfg.Officers) == 0 {
		missing = append(missing, "SLACK_OFFICERS")
	}
	if cfg.Queue == nil || cfg.Redis == nil || cfg.Relay == nil {
		missing = append(missing, "the Redis officer queue (REDIS_URL)")
	}
	if len(missing) > 0 {
		slices.Sort(missing)
		return nil, fmt.Errorf("slack: not configured: %s", strings.Join(missing, ", "))
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "sc:slack:"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	opts := []slack.Option{}
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	if cfg.AppToken != "" {
		opts = append(opts, slack.OptionAppLevelToken(cfg.AppToken))
	}
	s := &Slack{cfg: cfg, api: slack.New(cfg.BotToken, opts...), loc: cfg.Queue.Hours().Location(), work: make(chan func(context.Context), 1024), quit: make(chan struct{})}
	auth, err := s.api.AuthTestContext(ctx)
	if err != nil {
		return nil, fmt.Errorf("slack: auth.test: %w", err)
	}
	s.botID = auth.UserID
	s.ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	s.wg.Go(s.worker)
	return s, nil
}

// Close stops the background worker once the work queued is done. A
// request that arrives after is answered and its work dropped, with a
// log line: Slack has already been told it was received.
func (s *Slack) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	s.wg.Wait()
	s.stop()
}

func (s *Slack) worker() {
	run := func(f func(context.Context)) {
		ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
		defer cancel()
		f(ctx)
	}
	for {
		select {
		case f := <-s.work:
			run(f)
		case <-s.quit:
			for {
				select {
				case f := <-s.work:
					run(f)
				default:
					return
				}
			}
		}
	}
}

// later queues f for the worker; Slack has been answered already. In a
// burst that fills the queue, f runs at once on its own rather than keep
// Slack waiting past its three seconds; its order is then not kept.
func (s *Slack) later(f func(context.Context)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.cfg.Log.Warn("slack: shutting down; a request's work is dropped")
		return
	}
	select {
	case s.work <- f:
	default:
		s.cfg.Log.Warn("slack: work queue full; handling a request out of order")
		s.wg.Go(func() {
			ctx, cancel := context.WithTimeout(s.ctx, 30*time.Second)
			defer cancel()
			f(ctx)
		})
	}
}

// officer reports whether the user may act on cases: an officer on the
// list, or a manager.
func (s *Slack) officer(user string) bool {
	return slices.Contains(s.cfg.Officers, user) || s.cfg.Queue.IsManager(user)
}

// channel is where a case's card goes.
func (s *Slack) channel(area string) string {
	if ch := s.cfg.Channels[area]; ch != "" {
		return ch
	}
	return s.cfg.Channels["*"]
}

// metadataType names safecontact's message metadata: the queue's job key
// a post was made for, so that it is posted once.
const metadataType = "safecontact_post"

// post posts a message, or a reply in the thread, once per queue job: it
// carries the job's key in its metadata, and an attempt after a failed
// one first looks for a message with that key (the earlier attempt may
// have been posted, its answer lost) and returns it rather than post
// again.
func (s *Slack) post(ctx context.Context, channel, thread string, opts ...slack.MsgOption) (handoff.Ref, error) {
	job, ok := handoff.JobOf(ctx)
	if ok {
		if job.Attempt > 0 {
			ts, err := s.find(ctx, channel, thread, job.Key)
			if err != nil {
				return handoff.Ref{}, classify(err)
			}
			if ts != "" {
				s.cfg.Log.Info("slack: found a post whose answer was lost; not posting it again", "channel", channel)
				return handoff.Ref{Channel: channel, TS: ts}, nil
			}
		}
		opts = append(opts, slack.MsgOptionMetadata(slack.SlackMetadata{EventType: metadataType, EventPayload: map[string]any{"job": job.Key}}))
	}
	if thread != "" {
		opts = append(opts, slack.MsgOptionTS(thread))
	}
	ch, ts, err := s.api.PostMessageContext(ctx, channel, opts...)
	if err != nil {
		return handoff.Ref{}, classify(err)
	}
	return handoff.Ref{Channel: ch, TS: ts}, nil
}

// lookBack is how many of a channel's latest messages find reads for an
// earlier attempt: it comes seconds or minutes after.
const lookBack = 100

// find returns the timestamp of the message in the channel (or the
// thread) carrying the job's key, or "".
func (s *Slack) find(ctx context.Context, channel, thread, key string) (string, error) {
	var msgs []slack.Message
	if thread != "" {
		replies, _, _, err := s.api.GetConversationRepliesContext(ctx, &slack.GetConversationRepliesParameters{
			ChannelID: channel, Timestamp: thread, Limit: lookBack, IncludeAllMetadata: true})
		if err != nil {
			return "", err
		}
		msgs = replies
	} else {
		h, err := s.api.GetConversationHistoryContext(ctx, &slack.GetConversationHistoryParameters{
			ChannelID: channel, Limit: lookBack, IncludeAllMetadata: true})
		if err != nil {
			return "", err
		}
		msgs = h.Messages
	}
	for _, m := range msgs {
		if m.Metadata.EventType == metadataType && m.Metadata.EventPayload["job"] == key {
			return m.Timestamp, nil
		}
	}
	return "", nil
}

// PostCase posts the case's card in its area's channel.
func (s *Slack) PostCase(ctx context.Context, c *handoff.Case) (handoff.Ref, error) {
	return s.post(ctx, s.channel(c.Area), "", slack.MsgOptionText(cardText(c), false), slack.MsgOptionBlocks(s.card(c)...))
}

// card is the case's card as of now.
func (s *Slack) card(c *handoff.Case) []slack.Block {
	return blocks(c, s.loc, s.cfg.Queue.Now(), s.cfg.Queue.Offered())
}

// errNoCard: the case's card was never posted, so there is nothing to
// update or thread under. It is tried again: the card comes first.
var errNoCard = failure{err: errors.New("slack: the case has no card"), class: "no-card"}

// UpdateCase redraws the card.
func (s *Slack) UpdateCase(ctx context.Context, c *handoff.Case) error {
	if c.Card.TS == "" {
		return errNoCard
	}
	_, _, _, err := s.api.UpdateMessageContext(ctx, c.Card.Channel, c.Card.TS,
		slack.MsgOptionText(cardText(c), false), slack.MsgOptionBlocks(s.card(c)...))
	return classify(err)
}

// PostThread posts a line in the card's thread. The tenant's words are
// escaped, so they can neither mention anyone nor forge a link; a line
// about an officer mentions them.
func (s *Slack) PostThread(ctx context.Context, c *handoff.Case, l handoff.Line) (handoff.Ref, error) {
	if c.Card.TS == "" {
		return handoff.Ref{}, errNoCard
	}
	text := escape(l.Text)
	if !l.Tenant {
		text = mention(text, l.Officer, l.Officer2)
	}
	return s.post(ctx, c.Card.Channel, c.Card.TS, slack.MsgOptionText(text, false))
}

// mention names the officers of a line ({officer}, {officer2}) as Slack
// mentions.
func mention(text, officer, officer2 string) string {
	return strings.NewReplacer("{officer}", "<@"+officer+">", "{officer2}", "<@"+officer2+">").Replace(text)
}

// gone are Slack's errors for a message that chat.update can never reach,
// or a thread conversations.replies can never read: redacting it is
// passed over rather than tried for ever.
var gone = map[string]bool{
	"message_not_found": true, "channel_not_found": true, "is_archived": true,
	"cant_update_message": true, "not_in_channel": true, "edit_window_closed": true,
	"thread_not_found": true,
}

// unreachable returns Slack's error when err says a message can never be
// reached (gone), and "" otherwise.
func unreachable(err error) string {
	var se slack.SlackErrorResponse
	if errors.As(err, &se) && gone[se.Err] {
		return se.Err
	}
	return ""
}

// Redact replaces the messages that held the tenant's words, cards
// included, with handoff.Removed and no blocks. The case's current card
// is then redrawn, without the answers, by the update that follows. A
// post that was tried, its answer lost, is looked for by its job's key
// and redacted if Slack has it.
func (s *Slack) Redact(ctx context.Context, c *handoff.Case, refs []handoff.Ref) error {
	done := map[handoff.Ref]bool{}
	for _, r := range refs {
		if r.TS == "" && r.Job != "" {
			ts, err := s.find(ctx, r.Channel, r.Thread, r.Job)
			if why := unreachable(err); why != "" {
				s.cfg.Log.Warn("slack: a thread to look for a post to redact in cannot be reached; passed over", "case", c.Short(), "err", why)
				continue
			}
			if err != nil {
				return classify(err)
			}
			if ts == "" {
				continue // never posted
			}
			r = handoff.Ref{Channel: r.Channel, TS: ts}
		}
		if done[r] {
			continue // a post tried at the erasure, and recorded as posted
		}
		done[r] = true
		_, _, _, err := s.api.UpdateMessageContext(ctx, r.Channel, r.TS, slack.MsgOptionText(handoff.Removed, false), slack.MsgOptionBlocks())
		if why := unreachable(err); why != "" {
			// It cannot be reached: deleted, or its channel archived or
			// gone. Trying again would never succeed.
			s.cfg.Log.Warn("slack: a message to redact cannot be reached; passed over", "case", c.Short(), "err", why)
			continue
		}
		if err != nil {
			return classify(err)
		}
	}
	return nil
}

// PostRepairs posts the repairs request to the repairs channel: what
// needs securing, the area, and which officer to ask for the address and
// access. Without a repairs channel it goes in the case's thread, for the
// officer to pass on.
func (s *Slack) PostRepairs(ctx context.Context, c *handoff.Case, text string) error {
	msg := fmt.Sprintf("Security work for a tenant at risk, %s: %s\nWithin 24 hours, free of charge to the tenant (seed 003). Ask <@%s> for the address and a safe time to call; do not contact the tenant directly. Ref %s.",
		escape(areaName(c)), escape(text), c.ClaimedBy, c.Short())
	ch, thread := s.cfg.Repairs, ""
	if ch == "" {
		if c.Card.TS == "" {
			return errNoCard
		}
		ch, thread = c.Card.Channel, c.Card.TS
	}
	_, err := s.post(ctx, ch, thread, slack.MsgOptionText(msg, false))
	return err
}

// PostReport posts the monthly summary (no personal data) to the report
// channel, or the managers'.
func (s *Slack) PostReport(ctx context.Context, text string) error {
	ch := s.cfg.Report
	if ch == "" {
		ch = s.cfg.Managers
	}
	_, _, err := s.api.PostMessageContext(ctx, ch, slack.MsgOptionText(text, false))
	return err
}

// Alert posts to on-call (with its mention) or the managers' channel,
// linking to the card; a reminder for the officer holding the case goes
// in its thread, naming them.
func (s *Slack) Alert(ctx context.Context, c *handoff.Case, a handoff.Alert, d *handoff.Duty) error {
	text := mention(a.Describe(c, s.loc, d), c.ClaimedBy, "")
	if a.ToClaimer(c) && c.Card.TS != "" {
		_, err := s.post(ctx, c.Card.Channel, c.Card.TS, slack.MsgOptionText(text, false))
		return err
	}
	if a.OnCall() && s.cfg.OnCallMention != "" {
		text = s.cfg.OnCallMention + " " + text
	}
	if c.Card.TS != "" {
		link, err := s.api.GetPermalinkContext(ctx, &slack.PermalinkParameters{Channel: c.Card.Channel, Ts: c.Card.TS})
		if err != nil {
			return classify(err)
		}
		text += " <" + link + "|Open the case>"
	} else if a != handoff.AlertNoCard {
		text += " The card is on its way to <#" + s.channel(c.Area) + ">."
	}
	_, err := s.post(ctx, s.alertChannel(a), "", slack.MsgOptionText(text, false))
	return err
}

func (s *Slack) alertChannel(a handoff.Alert) string {
	if a.OnCall() {
		return s.cfg.OnCall
	}
	return s.cfg.Managers
}

// Lane is the Slack channel a post goes to: Slack limits posting per
// channel, so a rate-limited channel holds back only its own posts.
func (s *Slack) Lane(c *handoff.Case, kind handoff.JobKind, a handoff.Alert) string {
	if kind == handoff.JobAlert && !a.ToClaimer(c) {
		return s.alertChannel(a)
	}
	if kind == handoff.JobRepairs && s.cfg.Repairs != "" {
		return s.cfg.Repairs
	}
	if c.Card.Channel != "" {
		return c.Card.Channel
	}
	return s.channel(c.Area)
}

// ephemeral tells one user something only they see.
func (s *Slack) ephemeral(ctx context.Context, channel, user, text string) {
	if _, err := s.api.PostEphemeralContext(ctx, channel, user, slack.MsgOptionText(text, false)); err != nil {
		s.cfg.Log.Warn("slack: private answer not posted", "user", user, "err", err)
	}
}

// caseID reads the case id a button carries.
func caseID(v string) bot.ConversationID { return bot.ConversationID(v) }
