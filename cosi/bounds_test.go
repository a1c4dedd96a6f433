package cosi

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/internal/golden"
)

// The size bounds are inclusive at both ends: one member and MaxRosterSize members
// are valid, zero and MaxRosterSize+1 are not.
func TestSizeBoundsAreInclusive(t *testing.T) {
	keys := testKeys(t, 1)
	r, err := NewRoster([]PublicKey{keys[0].Public()})
	require.NoError(t, err, "a roster of one key")
	msg := []byte("one signer")
	sig := sign(t, keys, r, msg, []int{0})
	parsed, err := ParseSignature(sig.Encode())
	require.NoError(t, err, "a signature over one member")
	require.NoError(t, Verify(r, msg, parsed, Policy{Threshold: 1}))

	// A signature over the largest roster is exactly MaxSignatureSize bytes.
	big := append(encodePoint(sig.point), binary.BigEndian.AppendUint16(nil, MaxRosterSize)...)
	big = append(big, make([]byte, MaxRosterSize/8)...)
	require.Len(t, big, MaxSignatureSize)
	s, err := ParseSignature(big)
	require.NoError(t, err, "a signature over MaxRosterSize members")
	require.Equal(t, MaxRosterSize, s.Mask().Len())
	over := append(append(encodePoint(sig.point), binary.BigEndian.AppendUint16(nil, MaxRosterSize+1)...), make([]byte, MaxRosterSize/8+1)...)
	_, err = ParseSignature(over)
	require.Error(t, err)

	if golden.Exhaustive() {
		many := testKeys(t, MaxRosterSize)
		pubs := make([]PublicKey, len(many))
		for i, k := range many {
			pubs[i] = k.Public()
		}
		_, err := NewRoster(pubs)
		require.NoError(t, err, "a roster of MaxRosterSize keys")
	}
	_, err = NewRoster(nil)
	require.Error(t, err)
}

// Has answers false, and never panics, for an index just past the roster, also when
// the roster fills its last byte.
func TestMaskHasPastTheEnd(t *testing.T) {
	for _, n := range []int{7, 8, 16} {
		m := NewMask(n)
		for i := 0; i < n; i++ {
			m.Set(i)
		}
		require.False(t, m.Has(n), "n=%d", n)
		require.False(t, m.Has(-1))
		require.Len(t, m.Members(), n)
	}
}
