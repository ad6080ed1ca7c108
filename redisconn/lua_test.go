package redisconn_test

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// keyCommands are the Redis commands safecontact's scripts call, with how
// many of their leading arguments are keys (-1: all of them). A command
// missing here fails the test, so that a new one is looked at.
var keyCommands = map[string]int{
	"GET": 1, "GETRANGE": 1, "STRLEN": 1, "SET": 1, "INCR": 1, "INCRBY": 1, "DEL": -1, "UNLINK": -1, "EXISTS": -1,
	"EXPIRE": 1, "PEXPIRE": 1, "PEXPIREAT": 1, "EXPIREAT": 1, "PTTL": 1, "TTL": 1, "PERSIST": 1, "TYPE": 1,
	"HGET": 1, "HSET": 1, "HSETNX": 1, "HMGET": 1, "HMSET": 1, "HDEL": 1, "HGETALL": 1, "HINCRBY": 1,
	"HEXISTS": 1, "HLEN": 1, "HKEYS": 1, "HVALS": 1,
	"ZADD": 1, "ZREM": 1, "ZSCORE": 1, "ZCARD": 1, "ZRANGE": 1, "ZRANGEBYSCORE": 1, "ZREVRANGE": 1,
	"ZREVRANGEBYSCORE": 1, "ZREMRANGEBYSCORE": 1, "ZREMRANGEBYRANK": 1, "ZCOUNT": 1, "ZRANK": 1, "ZINCRBY": 1,
	"ZPOPMIN": 1, "ZMSCORE": 1,
	"LPUSH": 1, "RPUSH": 1, "LPOP": 1, "RPOP": 1, "LRANGE": 1, "LTRIM": 1, "LLEN": 1, "LINDEX": 1, "LREM": 1, "LSET": 1,
	"SADD": 1, "SREM": 1, "SISMEMBER": 1, "SMEMBERS": 1, "SCARD": 1,
	"XADD": 1, "XRANGE": 1, "XREVRANGE": 1, "XTRIM": 1, "XLEN": 1, "XDEL": 1,
	"PUBLISH": 0, "TIME": 0,
}

var (
	// callRE takes a call's command and its first argument: a key
	// accessor call whole, or anything up to the next comma or bracket.
	callRE = regexp.MustCompile(`redis\.p?call\(\s*'([A-Za-z]+)'\s*(?:,\s*(key\('[A-Za-z_]+'\)|[^,)]+))?`)
	// keyExpr is a key taken from KEYS: KEYS[…], or the officer queue's
	// key('name'), which returns only a key its script bound from KEYS
	// (handoff/lua/helpers.lua) and fails otherwise.
	keyExpr = `(?:KEYS\[[^\]]+\]|key\('[A-Za-z_]+'\))`
	keyRE   = regexp.MustCompile(`^` + keyExpr + `$`)
	// localRE finds locals set from keys, one or several at once.
	localRE = regexp.MustCompile(`local\s+([A-Za-z_][A-Za-z0-9_]*(?:\s*,\s*[A-Za-z_][A-Za-z0-9_]*)*)\s*=\s*(` + keyExpr + `(?:\s*,\s*` + keyExpr + `)*)`)
	// paramsRE finds functions' parameters: a helper is handed its keys
	// by the scripts that call it, whose calls are checked here too.
	paramsRE = regexp.MustCompile(`function\s*[A-Za-z_.:]*\s*\(([^)]*)\)`)
)

// Every Lua script names each key it touches in KEYS: go-redis routes a
// script on a cluster by its keys, and Redis itself only refuses a key on
// another node, not one that happens to share the slot. This reads every
// script in the repository and checks each call's key arguments are
// KEYS[…] (or a local set from it, or a function's parameter: the
// function's callers are checked in turn).
func TestScriptsTouchOnlyDeclaredKeys(t *testing.T) {
	root := filepath.Join("..")
	var scripts []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") && path != root) {
			return filepath.SkipDir
		}
		if d.IsDir() && d.Name() == "testdata" {
			return filepath.SkipDir // earlier versions' scripts, run only by tests
		}
		if strings.HasSuffix(path, ".lua") {
			scripts = append(scripts, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(scripts) < 5 {
		t.Fatalf("found %d Lua scripts (%v): the walk is not reading the repository", len(scripts), scripts)
	}
	for _, path := range scripts {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for _, problem := range checkScript(string(b)) {
			t.Errorf("%s:%s", path, problem)
		}
	}
	t.Logf("%d scripts checked", len(scripts))
}

// checkScript returns "line: problem" for each call on a key not taken
// from KEYS.
func checkScript(src string) []string {
	var problems []string
	keyLocals := map[string]bool{}
	for _, m := range localRE.FindAllStringSubmatch(src, -1) {
		for _, name := range strings.Split(m[1], ",") {
			keyLocals[strings.TrimSpace(name)] = true
		}
	}
	for _, m := range paramsRE.FindAllStringSubmatch(src, -1) {
		for _, name := range strings.Split(m[1], ",") {
			keyLocals[strings.TrimSpace(name)] = true
		}
	}
	for n, line := range strings.Split(src, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		for _, m := range callRE.FindAllStringSubmatch(line, -1) {
			cmd, arg := strings.ToUpper(m[1]), strings.TrimSpace(m[2])
			nkeys, known := keyCommands[cmd]
			switch {
			case !known:
				problems = append(problems, fmt.Sprintf("%d: %s is not in keyCommands: add it with its number of keys", n+1, cmd))
			case nkeys != 0 && !keyRE.MatchString(arg) && !keyLocals[arg]:
				problems = append(problems, fmt.Sprintf("%d: %s on %q, not a key from KEYS", n+1, cmd, arg))
			}
		}
	}
	return problems
}

func TestCheckScriptFindsBuiltKeys(t *testing.T) {
	good := `local list = KEYS[2]
local a, b = KEYS[3], KEYS[4]
local function touch(k) redis.call('PEXPIRE', k, 10) end
redis.call('HSET', KEYS[1], 'f', ARGV[1])
redis.call('RPUSH', list, ARGV[2])
redis.call('DEL', a, b)
redis.call('ZREM', key('open'), ARGV[1])
touch(list)
redis.call('TIME')`
	if p := checkScript(good); len(p) != 0 {
		t.Errorf("keys from KEYS reported: %v", p)
	}
	bad := `local k = ARGV[3] .. 'msg:' .. ARGV[1]
redis.call('HGET', k, 'c')
redis.call('HSET', ARGV[3] .. 'x', 'f', 1)
redis.call('SETEX', KEYS[1], 10, 'v')`
	want := []string{
		`2: HGET on "k", not a key from KEYS`,
		`3: HSET on "ARGV[3] .. 'x'", not a key from KEYS`,
		"4: SETEX is not in keyCommands: add it with its number of keys",
	}
	if got := checkScript(bad); !slices.Equal(got, want) {
		t.Errorf("checkScript(bad) = %q, want %q", got, want)
	}
}
