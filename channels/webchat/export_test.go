package webchat

import "time"

// SetHeartbeat shortens the streams' heartbeat for a test, and returns
// what puts it back.
func SetHeartbeat(d time.Duration) (restore func()) {
	old := streamHeartbeat
	streamHeartbeat = d
	return func() { streamHeartbeat = old }
}
