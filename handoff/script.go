package handoff

import (
	"context"
	"embed"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/bot"
)

// The queue's state changes are Lua scripts, one an operation, in lua/:
// each lists its KEYS and ARGV at its top and binds its keys by name
// (bind), and lua/helpers.lua is put before each when it is loaded, after
// the queue's limits (preamble).

//go:embed lua/*.lua
var luaFiles embed.FS

// script is one operation's Lua script.
type script struct {
	name string
	// keys are the names of its KEYS, in order, as its header lists them.
	keys []string
	lua  *redis.Script
}

// keysLine is a line of a script's header naming one of its KEYS.
var keysLine = regexp.MustCompile(`^-- KEYS\[(\d+)\]\s+(\w+)`)

// loadScript reads lua/<name>.lua with the helpers before it. The
// scripts are embedded: one that cannot be read is a broken build, and
// the package's tests load every one.
func loadScript(name string) *script {
	helpers, err := luaFiles.ReadFile("lua/helpers.lua")
	if err != nil {
		panic(err)
	}
	body, err := luaFiles.ReadFile("lua/" + name + ".lua")
	if err != nil {
		panic(err)
	}
	s := &script{name: name}
	for line := range strings.Lines(string(body)) {
		m := keysLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if n, _ := strconv.Atoi(m[1]); n != len(s.keys)+1 {
			panic(fmt.Sprintf("handoff: lua/%s.lua lists KEYS[%s] after KEYS[%d]", name, m[1], len(s.keys)))
		}
		s.keys = append(s.keys, m[2])
	}
	s.lua = redis.NewScript(preamble + string(helpers) + "\n" + string(body))
	return s
}

// preamble gives the scripts the queue's limits, so that they are set in
// one place: the span of a job class's scores, the urgent priority, and
// the limits of a case's waiting thread lines (MergeAfter, MaxLinePosts,
// MaxPostText).
var preamble = fmt.Sprintf("local classSpan, urgent, mergeAfter, maxLinePosts, maxPostText = %d, '%d', %d, %d, %d\n",
	int64(classSpan), int(bot.Urgent), MergeAfter, MaxLinePosts, MaxPostText)

// The scripts, one an operation.
var (
	scriptOpen      = loadScript("open")
	scriptTenant    = loadScript("tenant")
	scriptExited    = loadScript("exited")
	scriptErase     = loadScript("erase")
	scriptRaise     = loadScript("raise")
	scriptSummary   = loadScript("summary")
	scriptSkip      = loadScript("skip")
	scriptClaim     = loadScript("claim")
	scriptUnclaim   = loadScript("unclaim")
	scriptReassign  = loadScript("reassign")
	scriptContacted = loadScript("contacted")
	scriptClose     = loadScript("close")
	scriptDuty      = loadScript("duty")
	scriptAddDuty   = loadScript("addduty")
	scriptShown     = loadScript("shown")
	scriptNote      = loadScript("note")
	scriptFire      = loadScript("fire")
	scriptRetry     = loadScript("retry")
	scriptDone      = loadScript("done")
	scriptUnlist    = loadScript("unlist")
	scriptPrune     = loadScript("prune")
	scriptLease     = loadScript("lease")
	scriptRelease   = loadScript("release")
	scriptTake      = loadScript("take")
	scriptDead      = loadScript("dead")
	scriptPruneDead = loadScript("prunedead")
	scriptRetryDead = loadScript("retrydead")
	scriptDrop      = loadScript("drop")
	scriptRescore   = loadScript("rescore")
)

// call is one call of a script: the script, the case its keys are for,
// and its ARGV in the order its header lists them.
type call interface {
	exec() (s *script, on target, argv []any)
}

// run calls the script with its keys named for the target.
func (q *Queue) run(ctx context.Context, c call) *redis.Cmd {
	s, on, argv := c.exec()
	keys := make([]string, len(s.keys))
	for i, name := range s.keys {
		k, ok := q.keys.named(name, on)
		if !ok {
			cmd := redis.NewCmd(ctx)
			cmd.SetErr(fmt.Errorf("queue: lua/%s.lua names a key the queue does not know: %s", s.name, name))
			return cmd
		}
		keys[i] = k
	}
	return s.lua.Run(ctx, q.rdb, keys, argv...)
}
