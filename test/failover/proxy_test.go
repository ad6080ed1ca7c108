package failover_test

import (
	"bytes"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lostAnswer stands between a client and one Redis server. Armed, it lets
// the next EVALSHA through to Redis, drops Redis's answer, and stops
// listening for outage, so that the client's connections are refused:
// a primary that applied a script and died before answering, and whose
// replica, with the script applied, takes over after the outage.
type lostAnswer struct {
	addr, redis string
	outage      time.Duration
	armed       atomic.Bool
	down        chan struct{}
	mu          sync.Mutex
	ln          net.Listener // nil while down
}

// newLostAnswer starts the proxy to the Redis at addr.
func newLostAnswer(t *testing.T, addr string, outage time.Duration) *lostAnswer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &lostAnswer{addr: ln.Addr().String(), redis: addr, outage: outage, down: make(chan struct{}, 1), ln: ln}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		p.serve(ln, stop)
	}()
	t.Cleanup(func() {
		close(stop)
		p.closeListener()
		<-stopped
	})
	return p
}

func (p *lostAnswer) closeListener() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
}

func (p *lostAnswer) serve(ln net.Listener, stop chan struct{}) {
	for {
		c, err := ln.Accept()
		if err != nil {
			select {
			case <-p.down:
			case <-stop:
				return
			}
			select {
			case <-time.After(p.outage):
			case <-stop:
				return
			}
			if ln, err = net.Listen("tcp", p.addr); err != nil {
				return
			}
			p.mu.Lock()
			p.ln = ln
			p.mu.Unlock()
			continue
		}
		s, err := net.Dial("tcp", p.redis)
		if err != nil {
			c.Close()
			continue
		}
		go p.pipe(c, s)
	}
}

// pipe copies one connection both ways, until the armed proxy drops an
// answer.
func (p *lostAnswer) pipe(c, s net.Conn) {
	var drop atomic.Bool
	go func() {
		defer s.Close()
		buf := make([]byte, 64<<10)
		for {
			n, err := c.Read(buf)
			if n > 0 {
				if bytes.Contains(bytes.ToLower(buf[:n]), []byte("evalsha")) && p.armed.CompareAndSwap(true, false) {
					drop.Store(true)
				}
				s.Write(buf[:n])
			}
			if err != nil {
				return
			}
		}
	}()
	defer c.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 && drop.Load() {
			// The answer is lost with the server.
			p.down <- struct{}{}
			p.closeListener()
			s.Close()
			return
		}
		if n > 0 {
			c.Write(buf[:n])
		}
		if err != nil {
			return
		}
	}
}
