package webchat

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/seal"
)

// RedisStore keeps the web chat in Redis, so that any serve process
// answers any request of any chat, and a restart or rolling deploy is no
// more than a pause to the page.
//
// Keys (every key of one session shares the hash tag of its token hash,
// so its script stays in one slot on a cluster):
//
//	sc:chat:{<token hash>}:s   hash: conv, client; expires when idle
//	sc:chat:{<token hash>}:e   stream of sealed events, capped (MAXLEN ~);
//	                           its ids are the SSE ids (Last-Event-ID)
//	sc:chat:conv:{<conv id>}   the conversation's session, for Push
//	sc:chat:rate:{<key>}       a rate limit's count this minute
//	sc:chat:open:{<client>}    a client's open chats (sorted set)
//	sc:chat:open:{all}         everyone's open chats (sorted set): written
//	                           once per new chat and on touches, not per event
//
// Event bodies (what the tenant and the bot wrote) are sealed; no token,
// address or text is in a key. Every append is PUBLISHed (the token hash)
// on sc:chat:wake: each process holds one subscription and wakes its own
// open streams, which also re-read every few seconds, so a lost
// notification only delays.
type RedisStore struct {
	rdb    redis.UniversalClient
	sealer *seal.Sealer
	prefix string
	log    *slog.Logger
}

var _ Store = (*RedisStore)(nil)

var (
	//go:embed lua/append.lua
	appendSource string
	appendScript = redis.NewScript(appendSource)
	//go:embed lua/hold.lua
	holdSource string
	holdScript = redis.NewScript(holdSource)
	//go:embed lua/rate.lua
	rateSource string
	rateScript = redis.NewScript(rateSource)
)

// DefaultRedisPrefix starts every web chat key.
const DefaultRedisPrefix = "sc:chat:"

// NewRedisStore returns the web chat's store on rdb; prefix "" is
// DefaultRedisPrefix (tests give each their own).
func NewRedisStore(rdb redis.UniversalClient, sealer *seal.Sealer, prefix string, log *slog.Logger) *RedisStore {
	if prefix == "" {
		prefix = DefaultRedisPrefix
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &RedisStore{rdb: rdb, sealer: sealer, prefix: prefix, log: log}
}

func (s *RedisStore) sessionKey(hash string) string { return s.prefix + "{" + hash + "}:s" }
func (s *RedisStore) eventsKey(hash string) string  { return s.prefix + "{" + hash + "}:e" }
func (s *RedisStore) convKey(c bot.ConversationID) string {
	return s.prefix + "conv:{" + string(c) + "}"
}
func (s *RedisStore) openKey(client string) string { return s.prefix + "open:{" + client + "}" }
func (s *RedisStore) wakeChannel() string          { return s.prefix + "wake" }

func (s *RedisStore) hold(ctx context.Context, key, hash string, until time.Time, max int) (bool, error) {
	n, err := holdScript.Run(ctx, s.rdb, []string{key}, time.Now().UnixMilli(), until.UnixMilli(), hash, max).Int()
	return n == 1, err
}

func (s *RedisStore) Create(ctx context.Context, ss Session, ttl time.Duration, lim OpenLimits) error {
	until := time.Now().Add(ttl)
	if lim.PerClient > 0 {
		ok, err := s.hold(ctx, s.openKey(ss.Client), ss.Hash, until, lim.PerClient)
		if err != nil {
			return fmt.Errorf("webchat: open chats: %w", err)
		}
		if !ok {
			return ErrTooManyChats
		}
	}
	if lim.Total > 0 {
		ok, err := s.hold(ctx, s.openKey("all"), ss.Hash, until, lim.Total)
		if err == nil && !ok {
			err = ErrTooManyChats
		}
		if err != nil {
			s.rdb.ZRem(ctx, s.openKey(ss.Client), ss.Hash)
			if errors.Is(err, ErrTooManyChats) {
				return err
			}
			return fmt.Errorf("webchat: open chats: %w", err)
		}
	}
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, s.sessionKey(ss.Hash), "conv", string(ss.Conv), "client", ss.Client)
		p.PExpire(ctx, s.sessionKey(ss.Hash), ttl)
		p.Set(ctx, s.convKey(ss.Conv), ss.Hash, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webchat: create session: %w", err)
	}
	return nil
}

func (s *RedisStore) get(ctx context.Context, hash string) (Session, error) {
	v, err := s.rdb.HMGet(ctx, s.sessionKey(hash), "conv", "client").Result()
	if err != nil {
		return Session{}, fmt.Errorf("webchat: session: %w", err)
	}
	conv, _ := v[0].(string)
	client, _ := v[1].(string)
	if conv == "" {
		return Session{}, ErrNoSession
	}
	return Session{Hash: hash, Conv: bot.ConversationID(conv), Client: client}, nil
}

// touchEvents extends a session's stream only while the session is open.
var touchEvents = redis.NewScript(`if redis.call('EXISTS', KEYS[1]) == 1 then return redis.call('PEXPIRE', KEYS[2], ARGV[1]) end return 0`)

func (s *RedisStore) Touch(ctx context.Context, hash string, ttl time.Duration) (Session, error) {
	ss, err := s.get(ctx, hash)
	if err != nil {
		return ss, err
	}
	until := float64(time.Now().Add(ttl).UnixMilli())
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.PExpire(ctx, s.sessionKey(hash), ttl)
		// The stream lives on only with its session: a Drop (the quick
		// exit) between get and here must not be undone.
		touchEvents.Eval(ctx, p, []string{s.sessionKey(hash), s.eventsKey(hash)}, ttl.Milliseconds())
		p.PExpire(ctx, s.convKey(ss.Conv), ttl)
		for _, k := range []string{s.openKey(ss.Client), s.openKey("all")} {
			p.ZAddXX(ctx, k, redis.Z{Score: until, Member: hash})
			p.Do(ctx, "PEXPIREAT", k, int64(until), "GT")
		}
		return nil
	})
	if err != nil {
		return Session{}, fmt.Errorf("webchat: touch session: %w", err)
	}
	return ss, nil
}

func (s *RedisStore) Drop(ctx context.Context, hash string) error {
	ss, err := s.get(ctx, hash)
	if errors.Is(err, ErrNoSession) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, s.sessionKey(hash))
		p.PExpire(ctx, s.eventsKey(hash), endedKeep)
		p.Del(ctx, s.convKey(ss.Conv))
		p.ZRem(ctx, s.openKey(ss.Client), hash)
		p.ZRem(ctx, s.openKey("all"), hash)
		return nil
	})
	if err != nil {
		return fmt.Errorf("webchat: drop session: %w", err)
	}
	return nil
}

func (s *RedisStore) ByConversation(ctx context.Context, conv bot.ConversationID) (string, error) {
	h, err := s.rdb.Get(ctx, s.convKey(conv)).Result()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoSession
	}
	if err != nil {
		return "", fmt.Errorf("webchat: session of a conversation: %w", err)
	}
	return h, nil
}

func (s *RedisStore) Append(ctx context.Context, hash string, e Event, ttl time.Duration, live bool) (string, error) {
	e.ID = ""
	plain, err := json.Marshal(e)
	if err != nil {
		return "", err
	}
	key := s.eventsKey(hash)
	liveArg := "0"
	if live {
		liveArg = "1"
	}
	keys := []string{s.sessionKey(hash), key}
	if e.Key != "" {
		sum := sha256.Sum256([]byte(e.Key))
		keys = append(keys, s.prefix+"{"+hash+"}:k:"+hex.EncodeToString(sum[:12]))
	}
	id, err := appendScript.Run(ctx, s.rdb, keys,
		s.sealer.Seal(plain, []byte(key)), maxEvents, ttl.Milliseconds(), liveArg, s.wakeChannel(), hash, endedKeep.Milliseconds()).Text()
	if errors.Is(err, redis.Nil) {
		return "", ErrNoSession
	}
	if err != nil {
		return "", fmt.Errorf("webchat: add event: %w", err)
	}
	return id, nil
}

var streamID = regexp.MustCompile(`^[0-9]{1,20}-[0-9]{1,20}$`)

func (s *RedisStore) Since(ctx context.Context, hash, after string) ([]Event, error) {
	start := "-"
	if after != "" {
		// The integer ids of earlier builds are refused: a page of an
		// earlier build never reaches a session kept here.
		if !streamID.MatchString(after) {
			return nil, ErrBadEventID
		}
		start = "(" + after
	}
	key := s.eventsKey(hash)
	msgs, err := s.rdb.XRange(ctx, key, start, "+").Result()
	if err != nil {
		return nil, fmt.Errorf("webchat: read events: %w", err)
	}
	out := make([]Event, 0, len(msgs))
	for _, m := range msgs {
		sealed, _ := m.Values["d"].(string)
		var e Event
		plain, err := s.sealer.Open([]byte(sealed), []byte(key))
		if err == nil {
			err = json.Unmarshal(plain, &e)
		}
		if err != nil {
			s.log.Warn("webchat: an event could not be read", "err", err)
			continue
		}
		e.ID = m.ID
		out = append(out, e)
	}
	return out, nil
}

func (s *RedisStore) Allow(ctx context.Context, key string, n int) (bool, error) {
	count, err := rateScript.Run(ctx, s.rdb, []string{s.prefix + "rate:{" + key + "}"}, time.Minute.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("webchat: rate limit: %w", err)
	}
	return count <= n, nil
}

// Listen holds this process's one subscription to the wake channel.
// go-redis resubscribes by itself after a dropped connection.
func (s *RedisStore) Listen(ctx context.Context, wake func(hash string)) {
	sub := s.rdb.Subscribe(ctx, s.wakeChannel())
	defer sub.Close()
	ch := sub.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			wake(msg.Payload)
		}
	}
}
