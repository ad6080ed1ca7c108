// Package seal encrypts conversations at rest with AES-256-GCM.
//
// A sealed value is a version byte, a random 96-bit nonce and the GCM
// ciphertext with its tag. The caller passes associated data (the
// conversation id) so that a value copied under another key does not open.
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// version is the first byte of every sealed value, so that the format can
// change later without guessing.
const version = 1

// ErrOpen is returned for a value that was not sealed with this key and
// associated data, or that was altered. It says nothing more on purpose.
var ErrOpen = errors.New("seal: value does not open with this key")

// Sealer seals and opens values with one key. It is safe for concurrent use.
type Sealer struct {
	aead cipher.AEAD
}

// New returns a Sealer for a KeySize-byte key.
func New(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("seal: key is %d bytes, want %d", len(key), KeySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// Overhead is how many bytes Seal adds to the plaintext.
func (s *Sealer) Overhead() int { return 1 + s.aead.NonceSize() + s.aead.Overhead() }

// Seal encrypts plaintext bound to ad.
func (s *Sealer) Seal(plaintext, ad []byte) []byte {
	return s.SealTo(make([]byte, 0, s.Overhead()+len(plaintext)), plaintext, ad)
}

// SealTo appends the sealed plaintext to dst and returns the result, as
// Seal would return it after dst; a dst with room for it (Overhead more
// than the plaintext) is not reallocated. dst and plaintext must not
// overlap.
func (s *Sealer) SealTo(dst, plaintext, ad []byte) []byte {
	ns := s.aead.NonceSize()
	start := len(dst)
	dst = append(dst, version)
	dst = append(dst, make([]byte, ns)...)
	nonce := dst[start+1 : start+1+ns]
	// crypto/rand.Read never returns an error since Go 1.24; it panics if
	// the system's source fails, which is the right thing for a nonce.
	rand.Read(nonce)
	return s.aead.Seal(dst, nonce, plaintext, ad)
}

// ID returns the part of a sealed value that tells it from any other: its
// version byte and nonce, random for each Seal, so that two values sealed
// apart never share it (short of a 96-bit collision), even with the same
// plaintext. It is nil for a value too short to be sealed.
func (s *Sealer) ID(sealed []byte) []byte {
	n := 1 + s.aead.NonceSize()
	if len(sealed) < n {
		return nil
	}
	return sealed[:n:n]
}

// Open decrypts a value sealed with ad. Any failure is ErrOpen.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	ns := s.aead.NonceSize()
	if len(sealed) < 1+ns+s.aead.Overhead() || sealed[0] != version {
		return nil, ErrOpen
	}
	plain, err := s.aead.Open(nil, sealed[1:1+ns], sealed[1+ns:], ad)
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}

// GenerateKey returns a new random key.
func GenerateKey() ([]byte, error) {
	k := make([]byte, KeySize)
	if _, err := rand.Read(k); err != nil {
		return nil, err
	}
	return k, nil
}

// ParseKey reads a key written as base64 (standard or URL alphabet, with or
// without padding) or as hex, as `safecontact key` prints it.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("key is empty")
	}
	decoders := []func(string) ([]byte, error){
		hex.DecodeString,
		base64.StdEncoding.DecodeString,
		base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString,
		base64.RawURLEncoding.DecodeString,
	}
	for _, decode := range decoders {
		if k, err := decode(s); err == nil && len(k) == KeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("key must be %d bytes written as base64 or hex (make one with `safecontact key`)", KeySize)
}
