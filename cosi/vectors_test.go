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
	// A refusal by member 2 of the same message (docs/wire-format.md).
	RosterID       string `json:"roster_id"`
	Round          string `json:"refusal_round_id"`
	Reason         string `json:"refusal_reason"`
	RefusalMessage string `json:"refusal_message_member_2"`
	Refusal        string `json:"refusal_member_2"`
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
	round, err := NewRoundID(rnd)
	require.NoError(t, err)
	v.RosterID = r.ID().String()
	v.Round = round.String()
	v.Reason = "rebuild differs: platform/linux-x86_64 én-US"
	v.RefusalMessage = hex.EncodeToString(refusalMessage(r.ID(), round, []byte(v.Message), v.Reason))
	ref, err := keys[2].Refuse(r, round, []byte(v.Message), v.Reason)
	require.NoError(t, err)
	v.Refusal = hex.EncodeToString(ref.Encode())
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

	// The stored refusal verifies offline from the stored keys, round ID, message and
	// reason, and signs exactly the stored refusal message.
	require.Equal(t, want.RosterID, r.ID().String())
	var round RoundID
	require.NoError(t, round.UnmarshalText([]byte(want.Round)))
	raw, err := hex.DecodeString(want.Refusal)
	require.NoError(t, err)
	ref, err := ParseSignature(raw)
	require.NoError(t, err)
	member, err := VerifyRefusal(r, round, []byte(want.Message), want.Reason, ref)
	require.NoError(t, err)
	require.Equal(t, 2, member)
	signed, err := hex.DecodeString(want.RefusalMessage)
	require.NoError(t, err)
	require.NoError(t, VerifyPartial(r, signed, ref), "the refusal signs the stored refusal message")
}
