package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrBusy is returned by Handle when a conversation changed under every
// attempt of a turn: more messages for it arrived at once than the engine
// retries for. Nothing was applied; the channel may ask the tenant to send
// again, or let the provider redeliver.
var ErrBusy = errors.New("conversation busy")

// ErrNoConversation is returned by Handle for a message that continues a
// conversation (Inbound.Continue) when there is none, or it was erased:
// nothing was applied.
var ErrNoConversation = errors.New("no conversation to continue")

// Options tune an Engine. The zero value gives the defaults.
type Options struct {
	// IdleTTL is how long an incomplete intake is kept after the tenant's
	// last message. Default 24 hours.
	IdleTTL time.Duration
	// CaseTTL is how long a handed-off conversation is kept after its last
	// message, so officers' replies can reach the tenant. Default 30 days.
	CaseTTL time.Duration
	// TombstoneTTL is how long the tombstone of an erased conversation is
	// kept (its last message's id and replies). Default 24 hours.
	TombstoneTTL time.Duration
	// ReplayWindow is how long the id of a message applied is remembered,
	// however many messages follow, so that a redelivery or a replayed
	// webhook is not applied again. The ids outlive an erasure. Default
	// 24 hours.
	ReplayWindow time.Duration
	// MaxAttempts bounds the retries of a turn that lost a race with
	// another turn of the same conversation. Default 32.
	MaxAttempts int
	// LockScreenWords adds words, such as the landlord's team name, that
	// must not show on a lock screen.
	LockScreenWords []string
}

func (o Options) withDefaults() Options {
	if o.IdleTTL <= 0 {
		o.IdleTTL = 24 * time.Hour
	}
	if o.CaseTTL <= 0 {
		o.CaseTTL = 30 * 24 * time.Hour
	}
	if o.TombstoneTTL <= 0 {
		o.TombstoneTTL = 24 * time.Hour
	}
	if o.ReplayWindow <= 0 {
		o.ReplayWindow = 24 * time.Hour
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 32
	}
	return o
}

// Config is what an Engine needs.
type Config struct {
	Flow      *Flow
	Store     Store
	Directory Directory
	Hours     WorkingTime
	Keyer     Keyer
	// Now is the clock; time.Now when nil.
	Now     func() time.Time
	Options Options
}

// Engine runs conversations through a flow. It is safe for concurrent use.
type Engine struct {
	flow    *Flow
	store   Store
	dir     Directory
	hours   WorkingTime
	keyer   Keyer
	now     func() time.Time
	opts    Options
	lex     *lexicon
	machine *machine
	// quiet masks lock-screen words in every reply: LockScreenWords and
	// Options.LockScreenWords, lowered once.
	quiet *lockScreen
}

// New returns an Engine for a loaded, validated flow.
func New(cfg Config) (*Engine, error) {
	switch {
	case cfg.Flow == nil:
		return nil, errors.New("bot: no flow")
	case cfg.Store == nil:
		return nil, errors.New("bot: no store")
	case cfg.Directory == nil:
		return nil, errors.New("bot: no directory")
	case cfg.Hours == nil:
		return nil, errors.New("bot: no working hours")
	}
	cfg.Flow.index()
	if cfg.Flow.Step(cfg.Flow.Start) == nil {
		return nil, fmt.Errorf("bot: flow %q: no start step %q", cfg.Flow.Name, cfg.Flow.Start)
	}
	if cfg.Flow.HandoffStep() == nil {
		return nil, fmt.Errorf("bot: flow %q: no handoff step", cfg.Flow.Name)
	}
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Engine{
		flow: cfg.Flow, store: cfg.Store, dir: cfg.Directory, hours: cfg.Hours,
		keyer: cfg.Keyer, now: now, opts: cfg.Options.withDefaults(),
		lex: compileLexicon(cfg.Flow), machine: newMachine(cfg.Flow),
		quiet: newLockScreen(cfg.Options.LockScreenWords),
	}, nil
}

// Result is what one turn produced.
type Result struct {
	Conversation ConversationID
	// Replies go to the tenant, in order. A quick exit has none.
	Replies []Reply
	Events  []Event
	// Duplicate is set when the message id was applied before (within
	// Options.ReplayWindow): nothing is applied, there are no events, and
	// Replies are the replies it got then if it is still the
	// conversation's latest message, none otherwise (an older message, or
	// the conversation has since been erased).
	Duplicate bool
}

// ID returns the conversation id of an address on a channel.
func (e *Engine) ID(ch Channel, address string) ConversationID {
	return e.keyer.ID(ch, address)
}

// Handle applies one inbound message to its conversation and returns the
// replies and events. The new state is saved before Handle returns, so a
// caller sends the replies only after they are committed. A message id
// seen before is not applied again. Errors: ErrBusy, ErrNoConversation,
// or the store's error wrapped; the tenant should never see any.
func (e *Engine) Handle(ctx context.Context, in Inbound) (Result, error) {
	id := e.keyer.ID(in.Channel, in.Address)
	msg := SeenDigest(in.MessageID)
	fresh := false
	for attempt := 0; attempt < e.opts.MaxAttempts; attempt++ {
		conv, version, err := e.store.Load(ctx, id)
		if err != nil {
			return Result{}, fmt.Errorf("bot: load: %w", err)
		}
		if conv != nil {
			if seen, latest := conv.replayOf(msg); seen {
				// Applied before, surely; whether it is still the
				// latest, only the shared store can say.
				if !fresh && e.forget(id) {
					fresh = true
					continue
				}
				return duplicate(id, conv, latest, e.now()), nil
			}
		}
		// A message sent again after the one that ended the
		// conversation is its duplicate, above; any other is refused.
		if in.Continue && (conv == nil || conv.Erased) {
			return Result{Conversation: id}, ErrNoConversation
		}
		earlier := conv.legacySeen()
		t, err := e.turn(ctx, conv, in, msg)
		if err != nil {
			return Result{}, err
		}
		for i := range t.events {
			t.events[i].Conversation = id
			t.events[i].Channel = in.Channel
			t.events[i].At = t.now
		}
		err = e.store.Save(ctx, id, version, Commit{
			Conversation: t.conv, Append: t.lines, TTL: e.ttl(t.conv), Events: t.events,
			Seen: SeenIDs{ID: msg, Earlier: earlier, At: t.now, Window: e.opts.ReplayWindow},
		})
		switch {
		case errors.Is(err, ErrConflict):
			continue
		case errors.Is(err, ErrDuplicate):
			// Applied before: by another process just now (then it is
			// the latest and its replies are in the state), or long ago.
			return e.replay(ctx, id, msg)
		case err != nil:
			return Result{}, fmt.Errorf("bot: save: %w", err)
		}
		return Result{Conversation: id, Replies: t.replies, Events: t.events}, nil
	}
	return Result{}, ErrBusy
}

// forget makes the store's next Load of the conversation read the store
// shared by every process, when the store may answer from memory
// (Forgetter). It reports whether it may have.
func (e *Engine) forget(id ConversationID) bool {
	f, ok := e.store.(Forgetter)
	if ok {
		f.Forget(id)
	}
	return ok
}

// replay answers a message the store refused as already applied.
func (e *Engine) replay(ctx context.Context, id ConversationID, msg string) (Result, error) {
	e.forget(id)
	conv, _, err := e.store.Load(ctx, id)
	if err != nil {
		return Result{}, fmt.Errorf("bot: load: %w", err)
	}
	latest := false
	if conv != nil {
		_, latest = conv.replayOf(msg)
	}
	return duplicate(id, conv, latest, e.now()), nil
}

// RedeliveryWindow is how long after a message its replies are sent again
// to a redelivery of it (Twilio retrying a webhook whose answer it did not
// get): past it, a repeat of even the latest message is answered with
// nothing, so a replayed request cannot fetch what the tenant was told.
const RedeliveryWindow = 15 * time.Minute

// duplicate is the result for a message applied before: the replies it
// got when it is the latest and within the RedeliveryWindow, nothing
// otherwise.
func duplicate(id ConversationID, conv *Conversation, latest bool, now time.Time) Result {
	res := Result{Conversation: id, Duplicate: true}
	if latest && conv != nil && now.Sub(conv.Updated) <= RedeliveryWindow {
		res.Replies = conv.LastReplies
	}
	return res
}

// Erase ends a conversation without a message, as the web chat's
// quick-exit button does: like EXIT, it leaves only a tombstone and emits
// EventExited. Erasing a conversation that is gone does nothing.
func (e *Engine) Erase(ctx context.Context, ch Channel, address string) (Result, error) {
	id := e.keyer.ID(ch, address)
	// Found gone or erased, it must be so in the shared store: not in a
	// memory of it another process has since made stale.
	e.forget(id)
	for attempt := 0; attempt < e.opts.MaxAttempts; attempt++ {
		conv, version, err := e.store.Load(ctx, id)
		if err != nil {
			return Result{}, fmt.Errorf("bot: load: %w", err)
		}
		if conv == nil || conv.Erased {
			return Result{Conversation: id}, nil
		}
		tomb := &Conversation{Erased: true, Updated: e.now()}
		ev := Event{Kind: EventExited, Conversation: id, Channel: ch, Priority: conv.Priority, At: tomb.Updated}
		err = e.store.Save(ctx, id, version, Commit{
			Conversation: tomb, TTL: e.ttl(tomb), Events: []Event{ev},
			Seen: SeenIDs{Earlier: conv.legacySeen(), At: tomb.Updated, Window: e.opts.ReplayWindow},
		})
		if errors.Is(err, ErrConflict) {
			continue
		}
		if err != nil {
			return Result{}, fmt.Errorf("bot: save: %w", err)
		}
		return Result{Conversation: id, Events: []Event{ev}}, nil
	}
	return Result{}, ErrBusy
}

func (e *Engine) ttl(c *Conversation) time.Duration {
	switch {
	case c.Erased:
		return e.opts.TombstoneTTL
	case !c.HandedOff.IsZero(), !c.Opened.IsZero():
		return e.opts.CaseTTL
	}
	return e.opts.IdleTTL
}

// Summary returns the case summary of a conversation, in the flow's
// default language, for an officer.
// After the answers come the words of danger the tenant wrote, and the
// services they were signposted to.
func (e *Engine) Summary(c *Conversation) []SummaryLine {
	out := e.summarise(c, e.flow.DefaultLang())
	for _, said := range c.Said {
		out = append(out, SummaryLine{Step: SummarySaid, Label: "Tenant wrote", Value: quote(said)})
	}
	var sent []string
	for _, sp := range e.flow.Signposts {
		if containsString(c.Signposted, sp.ID) {
			sent = append(sent, sp.Label)
		}
	}
	if len(sent) > 0 {
		out = append(out, SummaryLine{Step: SummarySignposted, Label: "Signposted", Value: strings.Join(sent, "; ")})
	}
	return out
}

// Steps of summary lines that are not answers to a step.
const (
	// SummarySaid: words of danger the tenant wrote, which answered no
	// question.
	SummarySaid = "said"
	// SummarySignposted: the services the tenant was sent for what they
	// said.
	SummarySignposted = "signposted"
)

// Conversation returns the stored conversation with the id, or nil when
// there is none or it was erased. Channels use it to reach a tenant again
// (an officer's reply); it never changes the conversation. It reads the
// store every process shares, never a memory of it (Forgetter): a
// conversation erased through another process is gone here too.
func (e *Engine) Conversation(ctx context.Context, id ConversationID) (*Conversation, error) {
	e.forget(id)
	c, _, err := e.store.Load(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("bot: load: %w", err)
	}
	if c == nil || c.Erased {
		return nil, nil
	}
	return c, nil
}

// Flow returns the flow the engine runs.
func (e *Engine) Flow() *Flow { return e.flow }
