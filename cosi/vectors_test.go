package cosi

import (
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
)

// vectors is the known-answer file: keys derived from a fixed seed, a message and the
// collective signatures cosi produces for it. Any change to key derivation, weights,
// hashing to the curve or the encoding shows up as a diff here.
type vectors struct {
	Seed        string   `json:"seed"`
	PrivateKeys []string `json:"private_keys"`
	PublicKeys  []string `json:"public_keys"`
	Message     string   `json:"message"`
	Full        string   `json:"signature_all"`
	Threshold   string   `json:"signature_members_0_1_3"`
}

func makeVectors(t *testing.T) vectors {
	v := vectors{Seed: "chainiac/cosi/known-answer", Message: "chainiac known-answer message"}
	rnd := testrand.New(v.Seed)
	keys := make([]*PrivateKey, 4)
	for i := range keys {
		k, err := GenerateKey(rnd)
		require.NoError(t, err)
		keys[i] = k
		v.PrivateKeys = append(v.PrivateKeys, hex.EncodeToString(k.Bytes()))
		v.PublicKeys = append(v.PublicKeys, k.Public().String())
	}
	r := testRoster(t, keys)
	v.Full = hex.EncodeToString(sign(t, keys, r, []byte(v.Message), upTo(4)).Encode())
	v.Threshold = hex.EncodeToString(sign(t, keys, r, []byte(v.Message), []int{0, 1, 3}).Encode())
	return v
}

func TestKnownAnswers(t *testing.T) {
	path := filepath.Join("testdata", "vectors.json")
	got := makeVectors(t)
	enc, err := json.MarshalIndent(got, "", "  ")
	require.NoError(t, err)
	b := golden.File(t, path, append(enc, '\n'))
	var want vectors
	require.NoError(t, json.Unmarshal(b, &want))

	// The stored signatures verify from the stored public keys alone.
	var pubs []PublicKey
	for _, h := range want.PublicKeys {
		var pk PublicKey
		require.NoError(t, pk.UnmarshalText([]byte(h)))
		pubs = append(pubs, pk)
	}
	r, err := NewRoster(pubs)
	require.NoError(t, err)
	for _, h := range []string{want.Full, want.Threshold} {
		raw, err := hex.DecodeString(h)
		require.NoError(t, err)
		sig, err := ParseSignature(raw)
		require.NoError(t, err)
		require.NoError(t, Verify(r, []byte(want.Message), sig, DefaultPolicy(4)))
	}
}
