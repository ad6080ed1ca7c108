package keys_test

import (
	"bytes"
	"encoding/hex"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/safecontact/safecontact/keys"
)

const master = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// The derived keys never change for a master key: data sealed, ids made
// and sessions keyed under them must stay readable across releases.
func TestDeriveIsStable(t *testing.T) {
	k, err := keys.Derive(master, discard())
	require.NoError(t, err)
	assert.Equal(t, "8858ddcdbbe5754ee1132a1ca863bcd77c0055b6477a56a94a8c9d95f7eacc35", hex.EncodeToString(k.Seal))
	assert.Equal(t, "f971cf8b036847ab2eedd60d4c364583a63884e8be30b0ab7a7e33f11cb8a2aa", hex.EncodeToString(k.ID))
	assert.Equal(t, "5e0377a17e96dc255730f149bc2384b73ec50e42971b39e5b1c405a5245020f2", hex.EncodeToString(k.WebChat))
}

func TestDeriveWithoutAMasterKey(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	a, err := keys.Derive("", log)
	require.NoError(t, err)
	b, err := keys.Derive("", log)
	require.NoError(t, err)
	assert.NotEqual(t, a.Seal, b.Seal, "a random key each run")
	assert.Len(t, a.Seal, 32)
	assert.NotEqual(t, a.Seal, a.ID)
	assert.NotEqual(t, a.ID, a.WebChat)
	assert.Contains(t, logs.String(), "SAFECONTACT_KEY is not set: using a random key for this run only")
}

func TestDeriveRefusesABadKey(t *testing.T) {
	_, err := keys.Derive("not a key", discard())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "SAFECONTACT_KEY: ")
	assert.NotContains(t, err.Error(), "not a key", "the key is never repeated")
}
