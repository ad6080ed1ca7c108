package webchat

import "time"

// SetHeartbeat shortens the streams' heartbeat for a test, and returns
// what puts it back.
func SetHeartbeat(d time.Duration) (restore func()) {
	old := streamHeartbeat
	streamHeartbeat = d
	return func() { streamHeartbeat = old }
}

// Address is the conversation address the server gives a session's token.
func (s *Server) Address(token string) string { return s.address(token) }

// NewMemStore is the in-memory Store a Server has by default.
func NewMemStore(now func() time.Time) Store { return newMemStore(now) }
