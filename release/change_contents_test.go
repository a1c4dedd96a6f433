package release

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Contents gives back every field a change was made with, signed or not, and refuses
// what the verifier refuses to parse.
func TestRosterChangeContents(t *testing.T) {
	chain, a, b, _ := rosterIDs()
	for _, signers := range [][]*Signer{nil, testSigners(t, 2)} {
		rc := signedRosterChange(t, signers, chain, 3, a, b)
		parsed, err := ParseRosterChange(rc.Encode())
		require.NoError(t, err)
		got, err := parsed.Contents()
		require.NoError(t, err)
		assert.Equal(t, RosterChangeContents{Chain: chain, Sequence: 3, Previous: a, Next: b}, got)
		assert.Len(t, parsed.Signatures, len(signers))
	}

	rc := signedRosterChange(t, nil, chain, 1, a, b)
	bad := &RosterChange{Statement: bytes.Clone(rc.Statement)}
	off := 1 + len(TagRosterChange) + 32
	copy(bad.Statement[off:off+8], make([]byte, 8))
	_, err := bad.Contents()
	assert.ErrorContains(t, err, "sequence 0")
	_, err = (&RosterChange{Statement: rc.Statement[:len(rc.Statement)-1]}).Contents()
	assert.Error(t, err, "truncated")
	_, err = (&RosterChange{Statement: append(bytes.Clone(rc.Statement), 0)}).Contents()
	assert.ErrorContains(t, err, "at most")
	other := bytes.Clone(rc.Statement)
	other[1] ^= 1 // the domain tag: a statement of another kind
	_, err = (&RosterChange{Statement: other}).Contents()
	assert.Error(t, err)
}

func TestPolicyChangeContents(t *testing.T) {
	devs := testSigners(t, 4)
	old, err := NewPolicy(publicKeys(devs[:3]), 2)
	require.NoError(t, err)
	next, err := NewPolicy(publicKeys(devs[1:]), 3)
	require.NoError(t, err)
	change, err := NewPolicyChange(testChain, 2, old, next)
	require.NoError(t, err)
	require.NoError(t, devs[0].SignPolicyChange(change))

	parsed, err := ParsePolicyChange(change.Encode())
	require.NoError(t, err)
	got, err := parsed.Contents()
	require.NoError(t, err)
	assert.Equal(t, testChain, got.Chain)
	assert.EqualValues(t, 2, got.Sequence)
	assert.Equal(t, old.Hash(), got.Previous)
	assert.True(t, got.Next.Equal(next))
	assert.Equal(t, sortedKeys(publicKeys(devs[1:])), got.Next.Keys())
	assert.Equal(t, 3, got.Next.Threshold())

	for i := 0; i < len(change.Statement); i++ {
		_, err := (&PolicyChange{Statement: change.Statement[:i]}).Contents()
		require.Error(t, err, "statement cut at %d", i)
	}
	_, err = (&PolicyChange{Statement: make([]byte, maxStatementSize+1)}).Contents()
	assert.ErrorContains(t, err, "at most")
}

func sortedKeys(keys []DeveloperKey) []DeveloperKey {
	p, err := NewPolicy(keys, 1)
	if err != nil {
		panic(err)
	}
	return p.Keys()
}
