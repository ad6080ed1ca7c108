package storetest

import (
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/safecontact/safecontact/redisconn"
)

// SlowRedis returns a client on rdb's server through a loopback proxy that
// holds every command for the current delay before passing it on, as a
// slow network or an overloaded Redis would. Unlike CLIENT PAUSE it slows
// only this client, so tests sharing the server are not disturbed. Set the
// delay with the returned function; it starts at zero. The proxy fronts
// one server: on a cluster or sentinel set (REDIS_MODE) the test is
// skipped, as what it checks does not depend on the shape.
func SlowRedis(t testing.TB, urdb redis.UniversalClient, opts func(*redis.Options)) (*redis.Client, func(time.Duration)) {
	t.Helper()
	if m := os.Getenv("REDIS_MODE"); m != "" && m != redisconn.Single {
		t.Skipf("a slow proxy fronts one Redis server, not REDIS_MODE=%s", m)
	}
	rdb := urdb.(*redis.Client)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var delay time.Duration
	setDelay := func(d time.Duration) { mu.Lock(); delay = d; mu.Unlock() }
	getDelay := func() time.Duration { mu.Lock(); defer mu.Unlock(); return delay }

	var wg sync.WaitGroup
	var conns sync.Map
	t.Cleanup(func() {
		ln.Close()
		conns.Range(func(k, _ any) bool { k.(net.Conn).Close(); return true })
		wg.Wait()
	})
	target := rdb.Options().Addr
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", target)
			if err != nil {
				in.Close()
				continue
			}
			conns.Store(in, true)
			conns.Store(out, true)
			wg.Add(2)
			go func() { // client to server, delayed
				defer wg.Done()
				defer out.Close()
				buf := make([]byte, 32<<10)
				for {
					n, err := in.Read(buf)
					if n > 0 {
						time.Sleep(getDelay())
						if _, werr := out.Write(buf[:n]); werr != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
			go func() { // server to client
				defer wg.Done()
				defer in.Close()
				io.Copy(in, out)
			}()
		}
	}()
	o := *rdb.Options()
	o.Addr = ln.Addr().String()
	if opts != nil {
		opts(&o)
	}
	c := redis.NewClient(&o)
	t.Cleanup(func() { c.Close() })
	return c, setDelay
}
