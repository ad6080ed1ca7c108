package export_test

import (
	"fmt"
	"net/http"
	"time"

	"github.com/safecontact/safecontact/export"
)

// The signature of the short example in docs/export.md.
func ExampleSignature() {
	secret := []byte("0123456789abcdef0123456789abcdef")
	body := []byte(`{"id":"c0ffee12d4a5b6e7","event":"erased","version":4,"sent_at":"2026-03-03T16:05:00Z","erased":true}`)
	var ts int64 = 1772553900 // 2026-03-03T16:05:00Z
	fmt.Println(export.Signature(secret, ts, body))

	h := http.Header{}
	h.Set(export.HeaderTimestamp, "1772553900")
	h.Set(export.HeaderSignature, export.Signature(secret, ts, body))
	fmt.Println(export.Verify(secret, h, body, time.Unix(ts, 0).Add(time.Minute)))
	// Output:
	// v1=2c4f5206d6edafd4ca5a6f54ffa325cbb59322e99106f0617a5afc3d0dc390b7
	// <nil>
}
