package failover_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// sentinelSet is the Redis primary, replica and Sentinels that
// scripts/with-redis-sentinel started, with what a fault test needs to
// kill the primary and start it again.
type sentinelSet struct {
	dir       string // SAFECONTACT_TEST_SENTINEL_DIR: redis-PORT.conf and .pid per data node
	name      string // the name the Sentinels monitor
	sentinels []*redis.SentinelClient
}

// theSentinelSet returns the set the test runs on. It skips the test
// unless REDIS_MODE is sentinel and scripts/with-redis-sentinel said how
// to kill the primary; under CI a Sentinel set without that is a failure,
// not a silent pass.
func theSentinelSet(t *testing.T) *sentinelSet {
	t.Helper()
	if os.Getenv("REDIS_MODE") != "sentinel" {
		t.Skip("REDIS_MODE is not sentinel: scripts/with-redis-sentinel starts a primary, a replica and three Sentinels")
	}
	s := &sentinelSet{dir: os.Getenv("SAFECONTACT_TEST_SENTINEL_DIR"), name: os.Getenv("SAFECONTACT_TEST_SENTINEL_MASTER")}
	if s.dir == "" || s.name == "" {
		const why = "SAFECONTACT_TEST_SENTINEL_DIR and SAFECONTACT_TEST_SENTINEL_MASTER are not set: run the test with scripts/with-redis-sentinel, which says how to kill the primary"
		if os.Getenv("CI") != "" {
			t.Fatal(why)
		}
		t.Skip(why)
	}
	o, err := redis.ParseFailoverURL(os.Getenv("REDIS_URL"))
	if err != nil {
		t.Fatalf("REDIS_URL: %v", err)
	}
	if o.MasterName != s.name {
		t.Fatalf("REDIS_URL names master %q, SAFECONTACT_TEST_SENTINEL_MASTER %q", o.MasterName, s.name)
	}
	for _, addr := range o.SentinelAddrs {
		c := redis.NewSentinelClient(&redis.Options{Addr: addr, DialTimeout: time.Second, ReadTimeout: time.Second})
		t.Cleanup(func() { c.Close() })
		s.sentinels = append(s.sentinels, c)
	}
	if len(s.sentinels) < 3 {
		t.Fatalf("REDIS_URL names %d Sentinels; a failover needs three to vote", len(s.sentinels))
	}
	return s
}

// primary is the address the Sentinels name as the primary: an error
// unless they all name the same.
func (s *sentinelSet) primary(ctx context.Context) (string, error) {
	var addr string
	for i, c := range s.sentinels {
		hp, err := c.GetMasterAddrByName(ctx, s.name).Result()
		if err != nil {
			return "", fmt.Errorf("sentinel %d: %w", i, err)
		}
		a := net.JoinHostPort(hp[0], hp[1])
		if i > 0 && a != addr {
			return "", fmt.Errorf("the Sentinels disagree on the primary: %s and %s", addr, a)
		}
		addr = a
	}
	return addr, nil
}

// healthy says why the set could not survive the loss of its primary
// now, or nil: every Sentinel names the same primary, sees it up and one
// replica up and linked, and knows the other Sentinels (a failover needs
// their votes); the primary has a replica in sync.
func (s *sentinelSet) healthy(ctx context.Context) error {
	addr, err := s.primary(ctx)
	if err != nil {
		return err
	}
	for i, c := range s.sentinels {
		m, err := c.Master(ctx, s.name).Result()
		if err != nil {
			return fmt.Errorf("sentinel %d: %w", i, err)
		}
		if m["flags"] != "master" {
			return fmt.Errorf("sentinel %d: primary %s flags %q", i, addr, m["flags"])
		}
		if m["num-other-sentinels"] != strconv.Itoa(len(s.sentinels)-1) {
			return fmt.Errorf("sentinel %d knows %s other Sentinels", i, m["num-other-sentinels"])
		}
		replicas, err := c.Replicas(ctx, s.name).Result()
		if err != nil {
			return fmt.Errorf("sentinel %d: %w", i, err)
		}
		up := 0
		for _, r := range replicas {
			if r["flags"] == "slave" && r["master-link-status"] == "ok" {
				up++
			}
		}
		if up == 0 {
			return fmt.Errorf("sentinel %d sees no replica up and linked: %v", i, replicas)
		}
	}
	node := redis.NewClient(&redis.Options{Addr: addr})
	defer node.Close()
	info, err := node.Info(ctx, "replication").Result()
	if err != nil {
		return fmt.Errorf("primary %s: %w", addr, err)
	}
	if !strings.Contains(info, "role:master") || !strings.Contains(info, "state=online") {
		return fmt.Errorf("primary %s has no replica in sync:\n%s", addr, info)
	}
	return nil
}

// waitHealthy waits until the set could survive the loss of its primary,
// up to 60 s.
func (s *sentinelSet) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := s.healthy(ctx)
		cancel()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the Sentinel set is not ready to lose its primary: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// node is a data node scripts/with-redis-sentinel started: its port and
// the files it was started from.
type node struct {
	port          string
	conf, pidfile string
}

func (s *sentinelSet) node(addr string) (node, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return node{}, err
	}
	n := node{port: port, conf: filepath.Join(s.dir, "redis-"+port+".conf"), pidfile: filepath.Join(s.dir, "redis-"+port+".pid")}
	if _, err := os.Stat(n.conf); err != nil {
		return node{}, fmt.Errorf("%s is not a node scripts/with-redis-sentinel started: %w", addr, err)
	}
	return n, nil
}

// kill kills the process serving addr with SIGKILL, as a crash or a lost
// machine would end it: no shutdown, nothing flushed. It checks the pid
// in the node's pid file is the process answering on addr before it
// kills anything.
func (s *sentinelSet) kill(ctx context.Context, addr string) (node, error) {
	n, err := s.node(addr)
	if err != nil {
		return n, err
	}
	b, err := os.ReadFile(n.pidfile)
	if err != nil {
		return n, err
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		return n, fmt.Errorf("%s: %w", n.pidfile, err)
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return n, err
	}
	if !strings.Contains(info, "process_id:"+strconv.Itoa(pid)+"\r\n") {
		return n, fmt.Errorf("%s is not served by pid %d, from %s", addr, pid, n.pidfile)
	}
	return n, syscall.Kill(pid, syscall.SIGKILL)
}

// restart starts a killed node again as a replica of primary, so that the
// set can lose its primary again, and waits until it can.
func (s *sentinelSet) restart(t *testing.T, n node, primary string) {
	t.Helper()
	host, port, err := net.SplitHostPort(primary)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("redis-server", n.conf, "--replicaof", host, port).CombinedOutput(); err != nil {
		t.Fatalf("restarting the node on %s: %v\n%s", n.port, err, out)
	}
	s.waitHealthy(t)
}

// failoverTimeout is the Sentinels' failover-timeout: they do not fail
// the same primary over again within twice it.
func (s *sentinelSet) failoverTimeout(ctx context.Context) (time.Duration, error) {
	m, err := s.sentinels[0].Master(ctx, s.name).Result()
	if err != nil {
		return 0, err
	}
	ms, err := strconv.Atoi(m["failover-timeout"])
	if err != nil {
		return 0, errors.New("sentinel: no failover-timeout")
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// replicaBehind is how many bytes of the replication stream the primary
// at addr had written when asked that its replica had not yet received
// when asked just after: about what a failover then would lose. -1 when
// it cannot be read.
func (s *sentinelSet) replicaBehind(ctx context.Context, addr string) int64 {
	primary := redis.NewClient(&redis.Options{Addr: addr})
	defer primary.Close()
	info, err := primary.Info(ctx, "replication").Result()
	if err != nil {
		return -1
	}
	written := infoField(info, "master_repl_offset")
	var behind int64 = -1
	for _, line := range strings.Split(info, "\r\n") {
		if !strings.HasPrefix(line, "slave") || !strings.Contains(line, "ip=") {
			continue
		}
		var ip, port string
		for _, kv := range strings.Split(strings.SplitN(line, ":", 2)[1], ",") {
			k, v, _ := strings.Cut(kv, "=")
			switch k {
			case "ip":
				ip = v
			case "port":
				port = v
			}
		}
		replica := redis.NewClient(&redis.Options{Addr: net.JoinHostPort(ip, port)})
		rinfo, err := replica.Info(ctx, "replication").Result()
		replica.Close()
		if err != nil {
			return -1
		}
		// Read after the primary, the replica may be ahead.
		behind = max(behind, written-infoField(rinfo, "slave_repl_offset"), 0)
	}
	return behind
}

// infoField is a number from INFO's answer, or 0.
func infoField(info, name string) int64 {
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, name+":"); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
