package sms

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// The outbox's previous key layout, before its keys shared one hash tag:
//
//	<prefix>msg:<id>, <prefix>conv:{<conversation id>}, <prefix>ready,
//	<prefix>sid:<sid>
//
// That version ran on a single Redis only (on a cluster every enqueue
// failed), and during a rolling upgrade its processes go on queueing and
// sending there. Run moves the texts they leave waiting (adoptPrevious),
// and delivery statuses for the texts they sent are still recorded
// (previousStatus). Remove this file, outbox_adopt.lua and their test
// once every deployment has run this version for longer than the
// outbox's TTL (7 days).
type previousKeys struct{ prefix string }

func (k previousKeys) msg(id string) string { return k.prefix + "msg:" + id }
func (k previousKeys) conv(c bot.ConversationID) string {
	return k.prefix + "conv:{" + string(c) + "}"
}
func (k previousKeys) ready() string         { return k.prefix + "ready" }
func (k previousKeys) sid(sid string) string { return k.prefix + "sid:" + sid }

//go:embed outbox_adopt.lua
var adoptSource string

var adoptScript = redis.NewScript(adoptSource)

// adoptEvery is how often Run looks for texts in the previous layout:
// each look is one read of its schedule.
const adoptEvery = 10 * time.Second

// adoptPrevious moves the texts waiting in the previous layout, for
// conversations no worker of the previous version holds, and says how
// many moved.
func (o *Outbox) adoptPrevious(ctx context.Context) (int, error) {
	old := previousKeys{prefix: o.opts.Prefix}
	now := o.opts.Now()
	rdb, k := o.store.rdb, o.store.keys
	convs, err := rdb.ZRangeByScore(ctx, old.ready(), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(ms(now), 10), Count: 100,
	}).Result()
	if err != nil {
		return 0, fmt.Errorf("outbox: previous layout: %w", err)
	}
	total := 0
	for _, c := range convs {
		conv := bot.ConversationID(c)
		ids, err := rdb.LRange(ctx, old.conv(conv), 0, -1).Result()
		if err != nil {
			return total, fmt.Errorf("outbox: previous layout: %w", err)
		}
		keys := []string{old.ready(), old.conv(conv), k.ready(), k.conv(conv)}
		args := []any{c, ms(now), o.opts.TTL.Milliseconds()}
		for _, id := range ids {
			keys = append(keys, old.msg(id), k.msg(id))
			args = append(args, id)
		}
		n, err := adoptScript.Run(ctx, rdb, keys, args...).Int()
		if err != nil {
			return total, fmt.Errorf("outbox: previous layout: %w", err)
		}
		if n > 0 {
			total += n
			o.opts.Log.Info("outbox: texts queued by the previous version moved", "conversation", conv, "texts", n)
		}
	}
	return total, nil
}

// previousStatus records a delivery status for a text the previous
// version sent, as that version did; ok is false when the SID is not one
// of its texts'.
func (o *Outbox) previousStatus(ctx context.Context, sid, status string) (prev string, conv bot.ConversationID, ok bool, err error) {
	old := previousKeys{prefix: o.opts.Prefix}
	rdb := o.store.rdb
	id, err := rdb.Get(ctx, old.sid(sid)).Result()
	if errors.Is(err, redis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, err
	}
	v, err := rdb.HMGet(ctx, old.msg(id), "st", "c").Result()
	if err != nil {
		return "", "", false, err
	}
	if v[1] == nil {
		return "", "", false, nil // expired
	}
	prev, _ = v[0].(string)
	c, _ := v[1].(string)
	if err := rdb.HSet(ctx, old.msg(id), "st", status).Err(); err != nil {
		return "", "", false, err
	}
	return prev, bot.ConversationID(c), true, nil
}
