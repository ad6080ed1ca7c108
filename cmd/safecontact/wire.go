package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/bot/memstore"
	"github.com/safecontact/safecontact/channels/webchat"
	"github.com/safecontact/safecontact/flows"
	"github.com/safecontact/safecontact/keys"
	"github.com/safecontact/safecontact/redisconn"
	"github.com/safecontact/safecontact/redisstore"
	"github.com/safecontact/safecontact/seal"
)

// stack is the engine and what it runs on, built from a Config.
type stack struct {
	bundle *flows.Bundle
	engine *bot.Engine
	redis  redis.UniversalClient // nil on the in-memory store
	sealer *seal.Sealer          // seals what is kept in Redis; nil without it
	// events is the Redis store's log of each turn's events, for the
	// officer queue; nil on the in-memory store.
	events *redisstore.Store
	// mem is the in-memory store, whose event log the console feed
	// reads; nil with Redis.
	mem  *memstore.Store
	keys keys.Keys
}

// build loads the flows and opens the store. now is the engine's clock.
func build(ctx context.Context, cfg Config, now func() time.Time, log *slog.Logger) (*stack, error) {
	bundle, problems := flows.Load(cfg.FlowsDir, now())
	for _, w := range problems.Warnings() {
		log.Warn("flows", "problem", w.String())
	}
	if errs := problems.Errors(); len(errs) > 0 {
		return nil, fmt.Errorf("flows:\n%w", errs)
	}
	s := &stack{bundle: bundle}
	var store bot.Store
	var err error
	if cfg.RedisURL == "" {
		if s.keys, err = keys.Derive(cfg.Key, log); err != nil {
			return nil, err
		}
		s.mem = memstore.New(now)
		store = s.mem
		log.Info("store: in memory; conversations end with the process")
	} else {
		if s.redis, err = redisconn.Open(ctx, cfg.RedisMode, cfg.RedisURL); err != nil {
			return nil, err
		}
		// The keys come from the data key kept in Redis, wrapped under
		// the master key: README, "Changing the key".
		s.keys, err = keys.Open(ctx, s.redis, keys.Masters{Current: cfg.Key, Previous: cfg.KeyPrevious}, keys.Prefix, log)
		if err != nil {
			s.redis.Close()
			return nil, err
		}
		if s.sealer, err = seal.New(s.keys.Seal); err != nil {
			s.redis.Close()
			return nil, err
		}
		s.events = redisstore.New(s.redis, s.sealer, redisstore.Options{EventLog: "sc:events", LegacyTaken: "sc:case:evpos"})
		store = s.events
		log.Info("store: redis")
	}
	s.engine, err = bot.New(bot.Config{
		Flow: bundle.Flow, Store: store, Directory: bundle.Directory, Hours: bundle.Hours,
		Keyer: bot.NewKeyer(s.keys.ID), Now: now,
		Options: bot.Options{IdleTTL: cfg.Retention.Idle, CaseTTL: cfg.Retention.Conversation, LockScreenWords: cfg.LockScreenWords},
	})
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (s *stack) close() error {
	if s.redis != nil {
		return s.redis.Close()
	}
	return nil
}

// newLogger returns the JSON (or text) logger safecontact writes. Nothing
// personal is ever passed to it: conversations are named by their id.
func newLogger(w io.Writer, format string) *slog.Logger {
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// webChat builds the web chat on the stack's engine. With Redis, its
// sessions, events and rate limits are kept there, so that every process
// serves every chat; without, in this process's memory.
func webChat(cfg Config, s *stack, log *slog.Logger) (*webchat.Server, error) {
	c := webchat.Config{
		Engine: s.engine, Secret: s.keys.WebChat,
		ExitURL: cfg.ChatExitURL, FrameAncestors: cfg.ChatFrameAncestors, BehindProxy: cfg.BehindProxy, Log: log,
	}
	if s.redis != nil {
		c.Store = webchat.NewRedisStore(s.redis, s.sealer, "", log)
	}
	return webchat.New(c)
}
