package release

import (
	"errors"
	"fmt"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestVerifyManifestThreshold(t *testing.T) {
	devs := testSigners(t, 4)
	foreign := testSigners(t, 6)[4:] // e and f: not in the policy
	policy, err := NewPolicy(publicKeys(devs[:3]), 2)
	require.NoError(t, err)

	t.Run("exactly threshold", func(t *testing.T) {
		m, err := policy.VerifyManifest(signedBy(t, devs[0], devs[2]))
		require.NoError(t, err)
		assert.Equal(t, testManifest().Hash(), m.Hash())
	})
	t.Run("all keys", func(t *testing.T) {
		_, err := policy.VerifyManifest(signedBy(t, devs[0], devs[1], devs[2]))
		require.NoError(t, err)
	})
	t.Run("below threshold", func(t *testing.T) {
		_, err := policy.VerifyManifest(signedBy(t, devs[1]))
		var te *ThresholdError
		require.ErrorAs(t, err, &te)
		assert.ErrorIs(t, err, ErrThreshold)
		assert.Equal(t, 1, te.Valid)
		assert.Equal(t, 2, te.Needed)
		assert.EqualError(t, err, "release: manifest: 1 valid developer signatures of 2 needed")
	})
	t.Run("no signatures", func(t *testing.T) {
		_, err := policy.VerifyManifest(signedBy(t))
		assert.ErrorIs(t, err, ErrThreshold)
	})
	t.Run("a key that signed twice counts once", func(t *testing.T) {
		sm := signedBy(t, devs[0])
		sm.Signatures = append(sm.Signatures, sm.Signatures[0])
		_, err := policy.VerifyManifest(sm)
		var te *ThresholdError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 1, te.Valid)
		assert.Empty(t, te.Invalid)
	})
	t.Run("foreign keys do not count", func(t *testing.T) {
		sm := signedBy(t, devs[0], devs[3], foreign[0], foreign[1])
		_, err := policy.VerifyManifest(sm)
		var te *ThresholdError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 1, te.Valid)
		assert.ElementsMatch(t, []DeveloperKey{devs[3].Public(), foreign[0].Public(), foreign[1].Public()}, te.Unknown)
		assert.Contains(t, err.Error(), "keys not in policy: ")
		assert.Contains(t, err.Error(), devs[3].Public().String())
	})
	t.Run("foreign keys beside a threshold are ignored", func(t *testing.T) {
		_, err := policy.VerifyManifest(signedBy(t, devs[0], devs[1], foreign[0]))
		require.NoError(t, err)
	})
	t.Run("signature over another manifest is invalid", func(t *testing.T) {
		sm := signedBy(t, devs[0], devs[1])
		other := testManifest()
		other.Version = "14.0.2"
		sm.Manifest = other.Encode()
		_, err := policy.VerifyManifest(sm)
		var te *ThresholdError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, 0, te.Valid)
		assert.ElementsMatch(t, []DeveloperKey{devs[0].Public(), devs[1].Public()}, te.Invalid)
		assert.Contains(t, err.Error(), "invalid signatures by: ")
	})
	t.Run("verify before parse", func(t *testing.T) {
		// Unsigned garbage is refused for its signatures, before any parsing.
		_, err := policy.VerifyManifest(&SignedManifest{Manifest: []byte("garbage")})
		assert.ErrorIs(t, err, ErrThreshold)
		// Validly signed garbage still does not parse.
		sm := &SignedManifest{Manifest: []byte("garbage")}
		for _, d := range devs[:2] {
			sm.Signatures = append(sm.Signatures, d.sign(sm.Manifest))
		}
		_, err = policy.VerifyManifest(sm)
		require.Error(t, err)
		assert.False(t, errors.Is(err, ErrThreshold))
		assert.Contains(t, err.Error(), "release: manifest: wire: truncated")
	})
}

func TestSignerRefusesInvalidManifest(t *testing.T) {
	s := testSigners(t, 1)[0]
	err := s.SignManifest(&SignedManifest{Manifest: []byte("not a manifest")})
	assert.ErrorContains(t, err, "refusing to sign")
}

func TestSignaturesAccumulateInCanonicalOrder(t *testing.T) {
	devs := testSigners(t, 3)
	a := signedBy(t, devs[0], devs[1], devs[2])
	b := signedBy(t, devs[2], devs[0], devs[1], devs[0])
	assert.Len(t, b.Signatures, 3, "re-signing replaces")
	assert.Equal(t, a.Encode(), b.Encode())
	got, err := ParseSignedManifest(a.Encode())
	require.NoError(t, err)
	assert.Equal(t, a, got)
}

func TestSignedManifestMalformed(t *testing.T) {
	devs := testSigners(t, 2)
	sm := signedBy(t, devs[0], devs[1])
	enc := sm.Encode()
	// Swap the two signatures: same set, non-canonical order.
	swapped := append([]byte(nil), enc...)
	n := len(enc)
	copy(swapped[n-192:], enc[n-96:])
	copy(swapped[n-96:], enc[n-192:n-96])
	// The same key twice.
	dup := append([]byte(nil), enc...)
	copy(dup[n-96:], enc[n-192:n-96])

	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"signatures out of order", swapped, "ascending"},
		{"duplicate signer", dup, "ascending"},
		{"trailing", append(append([]byte(nil), enc...), 0), "trailing"},
		{"wrong tag", rawEncodeWithTag(TagManifest, enc), "domain tag"},
		{"oversized", make([]byte, 2*MaxManifestSize), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseSignedManifest(c.input)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	for i := 0; i < len(enc); i++ {
		_, err := ParseSignedManifest(enc[:i])
		require.Error(t, err, "prefix of %d bytes", i)
	}
}

// Every single-byte change of a validly signed manifest is refused: by the decoder,
// by the signature check, or by manifest validation.
func TestMangledSignedManifestRejected(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, 2)
	policy, err := NewPolicy(publicKeys(devs), 2)
	require.NoError(t, err)
	enc := signedBy(t, devs...).Encode()
	verify := func(b []byte) error {
		sm, err := ParseSignedManifest(b)
		if err != nil {
			return err
		}
		_, err = policy.VerifyManifest(sm)
		return err
	}
	require.NoError(t, verify(enc))
	mangled := make([]byte, len(enc))
	for i := range enc {
		for _, delta := range golden.Changes() {
			copy(mangled, enc)
			mangled[i] ^= delta
			require.Error(t, verify(mangled), "byte %d ^ %#x accepted", i, delta)
		}
	}
}

// testChain is the chain ID the policy-change tests sign for.
var testChain = ChainID(fill256(0xa0))

func TestPolicyChange(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, 5)
	old, err := NewPolicy(publicKeys(devs[:3]), 2)
	require.NoError(t, err)
	next, err := NewPolicy(publicKeys(devs[2:]), 2)
	require.NoError(t, err)

	change, err := NewPolicyChange(testChain, 1, old, next)
	require.NoError(t, err)
	require.NoError(t, devs[0].SignPolicyChange(change))
	_, err = old.VerifyChange(change, testChain, 1)
	assert.ErrorIs(t, err, ErrThreshold, "one old key is below the threshold")

	// Signatures by the new keys do not count toward the old threshold.
	require.NoError(t, devs[3].SignPolicyChange(change))
	require.NoError(t, devs[4].SignPolicyChange(change))
	_, err = old.VerifyChange(change, testChain, 1)
	var te *ThresholdError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, "policy change", te.What)
	assert.Len(t, te.Unknown, 2)

	require.NoError(t, devs[1].SignPolicyChange(change))
	got, err := old.VerifyChange(change, testChain, 1)
	require.NoError(t, err)
	assert.True(t, got.Equal(next))

	parsed, err := ParsePolicyChange(change.Encode())
	require.NoError(t, err)
	got, err = old.VerifyChange(parsed, testChain, 1)
	require.NoError(t, err)
	assert.True(t, got.Equal(next))

	// The change names the policy it replaces: another policy with the same keys but
	// another threshold cannot apply it.
	sibling, err := NewPolicy(publicKeys(devs[:3]), 1)
	require.NoError(t, err)
	_, err = sibling.VerifyChange(change, testChain, 1)
	assert.ErrorIs(t, err, ErrChangeMismatch)
	assert.ErrorContains(t, err, "not this policy")

	_, err = NewPolicyChange(testChain, 1, old, old)
	assert.ErrorIs(t, err, ErrInvalidPolicy)

	enc := change.Encode()
	for i := 0; i < len(enc); i++ {
		_, err := ParsePolicyChange(enc[:i])
		require.Error(t, err, "prefix of %d bytes", i)
	}
}

// A change to the largest policy (MaxPolicyKeys keys) fits every bound: its statement
// is the largest there is.
func TestPolicyChangeToLargestPolicy(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, MaxPolicyKeys)
	old, err := NewPolicy(publicKeys(devs[:1]), 1)
	require.NoError(t, err)
	next, err := NewPolicy(publicKeys(devs), MaxPolicyKeys)
	require.NoError(t, err)
	change, err := NewPolicyChange(testChain, 1, old, next)
	require.NoError(t, err)
	require.NoError(t, devs[0].SignPolicyChange(change))
	got, err := old.VerifyChange(change, testChain, 1)
	require.NoError(t, err)
	assert.True(t, got.Equal(next))
}

// An envelope with a body of the largest allowed size and MaxSignatures signatures is
// decoded; one byte more is refused before decoding.
func TestEnvelopeAtMaximumSize(t *testing.T) {
	const maxBody = 1000
	body := make([]byte, maxBody)
	sigs := make([]Signature, MaxSignatures)
	for i := range sigs {
		sigs[i].Key[0], sigs[i].Key[1] = byte(i), 1
		sigs[i].Signature[0] = byte(i)
	}
	enc := encodeEnvelope(TagManifest, body, sigs)
	gotBody, gotSigs, err := decodeEnvelope(enc, TagManifest, "test", maxBody)
	require.NoError(t, err)
	assert.Equal(t, body, gotBody)
	assert.Len(t, gotSigs, MaxSignatures)
	_, _, err = decodeEnvelope(append(enc, 0), TagManifest, "test", maxBody)
	assert.ErrorContains(t, err, fmt.Sprintf("%d bytes, at most %d", len(enc)+1, len(enc)))
}

// Every single-byte change of a validly signed policy change is refused: by the
// decoder, the signature check, or the statement checks.
func TestMangledPolicyChangeRejected(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, 5)
	threeOfThree, err := NewPolicy(publicKeys(devs[:3]), 3)
	require.NoError(t, err)
	next, err := NewPolicy(publicKeys(devs[2:]), 2)
	require.NoError(t, err)
	change, err := NewPolicyChange(testChain, 7, threeOfThree, next)
	require.NoError(t, err)
	for _, d := range devs[:3] {
		require.NoError(t, d.SignPolicyChange(change))
	}
	verify := func(b []byte) error {
		c, err := ParsePolicyChange(b)
		if err != nil {
			return err
		}
		_, err = threeOfThree.VerifyChange(c, testChain, 7)
		return err
	}
	enc := change.Encode()
	require.NoError(t, verify(enc))
	mangled := make([]byte, len(enc))
	for i := range enc {
		for _, delta := range golden.Changes() {
			copy(mangled, enc)
			mangled[i] ^= delta
			require.Error(t, verify(mangled), "byte %d ^ %#x accepted", i, delta)
		}
	}
}

// A change is bound to its chain and its place in the chain's sequence of changes:
// after A -> B -> A the first change does not verify again, and a chain with the same
// policy does not accept another chain's change.
func TestPolicyChangeReplay(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, 4)
	a, err := NewPolicy(publicKeys(devs[:3]), 2)
	require.NoError(t, err)
	b, err := NewPolicy(publicKeys(devs[1:]), 2)
	require.NoError(t, err)
	sign := func(c *PolicyChange, signers ...*Signer) *PolicyChange {
		for _, s := range signers {
			require.NoError(t, s.SignPolicyChange(c))
		}
		return c
	}
	aToB, err := NewPolicyChange(testChain, 1, a, b)
	require.NoError(t, err)
	sign(aToB, devs[0], devs[1])
	bToA, err := NewPolicyChange(testChain, 2, b, a)
	require.NoError(t, err)
	sign(bToA, devs[2], devs[3])

	got, err := a.VerifyChange(aToB, testChain, 1)
	require.NoError(t, err)
	require.True(t, got.Equal(b))
	got, err = b.VerifyChange(bToA, testChain, 2)
	require.NoError(t, err)
	require.True(t, got.Equal(a))

	t.Run("cycle", func(t *testing.T) {
		// The chain is back at policy a; its next change is number 3.
		_, err := a.VerifyChange(aToB, testChain, 3)
		assert.ErrorIs(t, err, ErrChangeMismatch)
		assert.EqualError(t, err, "release: policy change does not apply here: change number 1, expected number 3")
	})
	t.Run("other chain", func(t *testing.T) {
		other := ChainID(fill256(0xb0))
		_, err := a.VerifyChange(aToB, other, 1)
		assert.ErrorIs(t, err, ErrChangeMismatch)
		assert.ErrorContains(t, err, "change for chain "+testChain.String()+", not this chain "+other.String())
	})
	t.Run("out of order", func(t *testing.T) {
		_, err := b.VerifyChange(bToA, testChain, 1)
		assert.ErrorIs(t, err, ErrChangeMismatch)
	})
	t.Run("position checked before signatures", func(t *testing.T) {
		_, err := a.VerifyChange(aToB, ChainID{}, 1)
		assert.ErrorContains(t, err, "chain id is all zeros")
		_, err = a.VerifyChange(aToB, testChain, 0)
		assert.ErrorContains(t, err, "sequence 0")
	})
	t.Run("no change at position zero or for no chain", func(t *testing.T) {
		_, err := NewPolicyChange(ChainID{}, 1, a, b)
		assert.ErrorContains(t, err, "chain id is all zeros")
		_, err = NewPolicyChange(testChain, 0, a, b)
		assert.ErrorContains(t, err, "sequence 0")
	})
}

func TestPolicyChangeStatementMalformed(t *testing.T) {
	devs := testSigners(t, 3)
	a, err := NewPolicy(publicKeys(devs[:2]), 2)
	require.NoError(t, err)
	b, err := NewPolicy(publicKeys(devs[1:]), 2)
	require.NoError(t, err)
	h := a.Hash()
	statement := func(chain ChainID, seq uint64) []byte {
		return wire.NewEncoder(TagPolicyChange).Fixed(chain[:]).Uint64(seq).Fixed(h[:]).Bytes(b.Encode()).Out()
	}
	good := statement(testChain, 1)
	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"zero chain", statement(ChainID{}, 1), "chain id is all zeros"},
		{"sequence zero", statement(testChain, 0), "sequence 0"},
		{"trailing", append(append([]byte(nil), good...), 0), "trailing"},
		{"truncated", good[:len(good)-1], "truncated"},
		{"old layout without chain and sequence", wire.NewEncoder(TagPolicyChange).Fixed(h[:]).Bytes(b.Encode()).Out(), "next policy"},
		{"wrong tag", rawEncodeWithTag(TagPolicy, good), "domain tag"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// Validly signed, so the statement checks themselves must refuse it.
			change := &PolicyChange{Statement: c.input}
			for _, d := range devs[:2] {
				change.Signatures = append(change.Signatures, d.sign(c.input))
			}
			_, err := a.VerifyChange(change, testChain, 1)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			assert.ErrorContains(t, devs[0].SignPolicyChange(change), "refusing to sign")
		})
	}
	_, err = parseChangeStatement(good)
	require.NoError(t, err)
}

func TestSignPolicyChangeRefusesGarbage(t *testing.T) {
	s := testSigners(t, 1)[0]
	assert.ErrorContains(t, s.SignPolicyChange(&PolicyChange{Statement: []byte("x")}), "refusing to sign")
}

// A change to the same policy (the same keys and threshold, whatever order the keys
// were given in) is refused by NewPolicyChange and, when a threshold signed one
// anyway, by VerifyChange: it changes nothing but would use up the chain's next
// sequence number, so applying it could make a pending real change inapplicable.
// A change of the threshold alone is a change.
func TestPolicyChangeToSamePolicy(t *testing.T) {
	t.Parallel()
	devs := testSigners(t, 3)
	old, err := NewPolicy(publicKeys(devs), 2)
	require.NoError(t, err)
	reversed, err := NewPolicy([]DeveloperKey{devs[2].Public(), devs[1].Public(), devs[0].Public()}, 2)
	require.NoError(t, err)

	_, err = NewPolicyChange(testChain, 1, old, reversed)
	require.ErrorIs(t, err, ErrInvalidPolicy)
	require.ErrorContains(t, err, "policy change to the same policy")

	// The statement NewPolicyChange refuses to build, built by hand and signed by all.
	prev := old.Hash()
	st := wire.NewEncoder(TagPolicyChange).Fixed(testChain[:]).Uint64(1).Fixed(prev[:]).Bytes(reversed.Encode()).Out()
	same := &PolicyChange{Statement: st}
	for _, d := range devs {
		require.NoError(t, d.SignPolicyChange(same))
	}
	_, err = old.VerifyChange(same, testChain, 1)
	require.ErrorIs(t, err, ErrInvalidPolicy)
	require.NotErrorIs(t, err, ErrChangeMismatch)
	require.ErrorContains(t, err, "policy change to the same policy")

	stricter, err := NewPolicy(publicKeys(devs), 3)
	require.NoError(t, err)
	change, err := NewPolicyChange(testChain, 1, old, stricter)
	require.NoError(t, err)
	for _, d := range devs[:2] {
		require.NoError(t, d.SignPolicyChange(change))
	}
	got, err := old.VerifyChange(change, testChain, 1)
	require.NoError(t, err)
	require.True(t, got.Equal(stricter))
}
