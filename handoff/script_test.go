package handoff

import (
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each script's call, to count its ARGV.
var calls = map[string]call{
	"open":      openCall{},
	"tenant":    tenantCall{},
	"exited":    exitedCall{},
	"erase":     eraseCall{},
	"raise":     raiseCall{},
	"summary":   summaryCall{},
	"skip":      skipCall{},
	"claim":     claimCall{},
	"unclaim":   unclaimCall{},
	"reassign":  reassignCall{},
	"contacted": contactedCall{},
	"close":     closeCall{},
	"duty":      dutyCall{},
	"addduty":   addDutyCall{},
	"shown":     shownCall{},
	"note":      noteCall{},
	"fire":      fireCall{},
	"retry":     retryCall{},
	"done":      doneCall{},
	"unlist":    unlistCall{},
	"prune":     pruneCall{},
	"lease":     leaseCall{},
	"release":   releaseCall{},
	"take":      takeCall{},
	"dead":      deadCall{},
	"prunedead": pruneDeadCall{},
	"retrydead": retryDeadCall{},
	"drop":      dropCall{},
	"rescore":   rescoreCall{},
}

var (
	argvLine = regexp.MustCompile(`(?m)^-- ARGV\[(\d+)\]`)
	bindLine = regexp.MustCompile(`(?m)^bind\((.*)\)$`)
	// command is a Redis command in a script, with its first argument.
	command = regexp.MustCompile(`redis\.call\('(\w+)'(?:,\s*([^,)]+))?`)
)

// buildsKeys returns the commands in src whose key is not a declared
// one: key('name'), or c, the case's key, which the scripts and helpers
// get from key('case').
func buildsKeys(src string) []string {
	var out []string
	for _, m := range command.FindAllStringSubmatch(src, -1) {
		if m[1] == "TIME" {
			continue
		}
		if arg := strings.TrimSpace(m[2]); !strings.HasPrefix(arg, "key('") && arg != "c" {
			out = append(out, m[0])
		}
	}
	return out
}

// Every script declares its keys in its header and binds the same names
// in the same order; the queue knows every name; its call passes the
// ARGV its header lists; and no script builds a key.
func TestScriptsDeclareTheirKeysAndArguments(t *testing.T) {
	files, err := fs.Glob(luaFiles, "lua/*.lua")
	require.NoError(t, err)
	k := newKeys("sc:case:")
	for _, file := range files {
		name := strings.TrimSuffix(strings.TrimPrefix(file, "lua/"), ".lua")
		if name == "helpers" {
			continue
		}
		t.Run(name, func(t *testing.T) {
			c, ok := calls[name]
			require.True(t, ok, "a call for lua/%s.lua", name)
			s, on, argv := c.exec()
			assert.Equal(t, name, s.name, "the call runs its own script")
			body, err := luaFiles.ReadFile(file)
			require.NoError(t, err)
			src := string(body)

			require.NotEmpty(t, s.keys, "KEYS listed in the header")
			m := bindLine.FindStringSubmatch(src)
			require.NotNil(t, m, "a bind(...) line")
			var bound []string
			for _, n := range strings.Split(m[1], ",") {
				bound = append(bound, strings.Trim(strings.TrimSpace(n), "'"))
			}
			assert.Equal(t, s.keys, bound, "bind names the KEYS the header lists, in order")
			for _, n := range s.keys {
				key, ok := k.named(n, on)
				if assert.True(t, ok, "the queue names key %s", n) {
					assert.True(t, strings.HasPrefix(key, "sc:case:{queue}:"), "%s is on the queue's slot: %s", n, key)
				}
			}

			assert.Len(t, argv, len(argvLine.FindAllString(src, -1)), "the call passes the ARGV the header lists")
			for i, a := range argvLine.FindAllStringSubmatch(src, -1) {
				assert.Equal(t, strconv.Itoa(i+1), a[1], "ARGV listed in order")
			}
			assert.Empty(t, buildsKeys(src), "no key is built in the script")
			if strings.Contains(src, "local c = ") {
				assert.Contains(t, src, "local c = key('case')")
			}
		})
	}
	assert.Len(t, calls, len(files)-1, "a script for every call")
	helpers, err := luaFiles.ReadFile("lua/helpers.lua")
	require.NoError(t, err)
	assert.Empty(t, buildsKeys(string(helpers)), "no key is built in the helpers")
}
