package seal_test

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/seal"
)

func newSealer(t testing.TB) *seal.Sealer {
	t.Helper()
	k, err := seal.GenerateKey()
	require.NoError(t, err)
	s, err := seal.New(k)
	require.NoError(t, err)
	return s
}

func TestSealOpen(t *testing.T) {
	s := newSealer(t)
	plain := []byte("he checks my phone")
	sealed := s.Seal(plain, []byte("conv-1"))

	assert.False(t, bytes.Contains(sealed, plain), "plaintext visible in sealed value")
	assert.Len(t, sealed, len(plain)+s.Overhead())

	got, err := s.Open(sealed, []byte("conv-1"))
	require.NoError(t, err)
	assert.Equal(t, plain, got)

	again := s.Seal(plain, []byte("conv-1"))
	assert.NotEqual(t, sealed, again, "two seals of one value must differ (fresh nonce)")
}

func TestOpenRefuses(t *testing.T) {
	s := newSealer(t)
	sealed := s.Seal([]byte("secret"), []byte("conv-1"))

	flipped := bytes.Clone(sealed)
	flipped[len(flipped)-1] ^= 1
	badVersion := bytes.Clone(sealed)
	badVersion[0] = 9

	cases := map[string]struct {
		value, ad []byte
		sealer    *seal.Sealer
	}{
		"other conversation": {sealed, []byte("conv-2"), s},
		"other key":          {sealed, []byte("conv-1"), newSealer(t)},
		"altered":            {flipped, []byte("conv-1"), s},
		"unknown version":    {badVersion, []byte("conv-1"), s},
		"truncated":          {sealed[:10], []byte("conv-1"), s},
		"empty":              {nil, []byte("conv-1"), s},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := c.sealer.Open(c.value, c.ad)
			assert.ErrorIs(t, err, seal.ErrOpen)
		})
	}
}

func TestNewRejectsShortKey(t *testing.T) {
	_, err := seal.New(make([]byte, 16))
	assert.ErrorContains(t, err, "16 bytes, want 32")
}

func TestParseKey(t *testing.T) {
	k, err := seal.GenerateKey()
	require.NoError(t, err)
	for name, text := range map[string]string{
		"base64":     base64.StdEncoding.EncodeToString(k),
		"raw base64": base64.RawStdEncoding.EncodeToString(k),
		"url base64": base64.URLEncoding.EncodeToString(k),
		"hex":        hex.EncodeToString(k),
		"spaces":     "  " + hex.EncodeToString(k) + "\n",
	} {
		t.Run(name, func(t *testing.T) {
			got, err := seal.ParseKey(text)
			require.NoError(t, err)
			assert.Equal(t, k, got)
		})
	}
	for name, text := range map[string]string{
		"empty":     "",
		"short":     base64.StdEncoding.EncodeToString(k[:16]),
		"not a key": "correct horse battery staple",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := seal.ParseKey(text)
			assert.Error(t, err)
		})
	}
}

func FuzzOpen(f *testing.F) {
	k := bytes.Repeat([]byte{7}, seal.KeySize)
	s, err := seal.New(k)
	require.NoError(f, err)
	f.Add(s.Seal([]byte("x"), []byte("a")), []byte("a"))
	f.Add([]byte{1}, []byte(""))
	f.Fuzz(func(t *testing.T, value, ad []byte) {
		plain, err := s.Open(value, ad)
		if err != nil {
			return
		}
		// Anything that opens must round-trip.
		again, err := s.Open(s.Seal(plain, ad), ad)
		if err != nil || !bytes.Equal(again, plain) {
			t.Fatalf("round trip of opened value failed: %v", err)
		}
	})
}

func Example() {
	key := bytes.Repeat([]byte{1}, seal.KeySize) // use seal.GenerateKey in real code
	s, _ := seal.New(key)
	sealed := s.Seal([]byte("answers"), []byte("conversation id"))
	plain, err := s.Open(sealed, []byte("conversation id"))
	fmt.Println(string(plain), err)
	_, err = s.Open(sealed, []byte("another id"))
	fmt.Println(err)
	// Output:
	// answers <nil>
	// seal: value does not open with this key
}

// SealTo writes after what the buffer holds, as Seal would alone, and
// without a new allocation when the buffer has room.
func TestSealTo(t *testing.T) {
	s := newSealer(t)
	plain := []byte("he checks my phone")
	buf := make([]byte, 0, 8+len(plain)+s.Overhead())
	buf = append(buf, "7:"...)
	out := s.SealTo(buf, plain, []byte("conv-1"))
	assert.Equal(t, "7:", string(out[:2]))
	assert.Same(t, &buf[:1][0], &out[0], "reallocated with room to spare")
	got, err := s.Open(out[2:], []byte("conv-1"))
	require.NoError(t, err)
	assert.Equal(t, plain, got)
	ad := []byte("conv-1")
	allocs := testing.AllocsPerRun(100, func() { s.SealTo(buf[:2], plain, ad) })
	assert.Zero(t, allocs)
}

// ID tells sealed values apart, even of one plaintext.
func TestID(t *testing.T) {
	s := newSealer(t)
	a := s.Seal([]byte("same"), []byte("conv-1"))
	b := s.Seal([]byte("same"), []byte("conv-1"))
	assert.Len(t, s.ID(a), 13, "version and nonce")
	assert.Equal(t, a[:13], s.ID(a))
	assert.NotEqual(t, s.ID(a), s.ID(b))
	assert.Nil(t, s.ID(a[:5]))
}
