package bot

import (
	"strings"
	"testing"
)

func TestKeyer(t *testing.T) {
	a := NewKeyer([]byte("0123456789abcdef0123456789abcdef"))
	b := NewKeyer([]byte("fedcba9876543210fedcba9876543210"))
	id := a.ID(ChannelSMS, "+447700900123")
	if id != a.ID(ChannelSMS, "+447700900123") {
		t.Fatal("the same address gave two ids")
	}
	if id == a.ID(ChannelWebChat, "+447700900123") {
		t.Error("two channels gave one id")
	}
	if id == b.ID(ChannelSMS, "+447700900123") {
		t.Error("two keys gave one id")
	}
	if strings.Contains(string(id), "7700900123") {
		t.Errorf("id %q holds the number", id)
	}
	if len(id) != 32 {
		t.Errorf("id %q: want 32 characters", id)
	}
}
