package release

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func rosterIDs() (chain ChainID, a, b, c RosterID) {
	return ChainID(fill256(1)), RosterID(fill256(2)), RosterID(fill256(3)), RosterID(fill256(4))
}

func signedRosterChange(t *testing.T, signers []*Signer, chain ChainID, seq uint64, prev, next RosterID) *RosterChange {
	t.Helper()
	c, err := NewRosterChange(chain, seq, prev, next)
	require.NoError(t, err)
	for _, s := range signers {
		require.NoError(t, s.SignRosterChange(c))
	}
	return c
}

func TestRosterChange(t *testing.T) {
	signers := testSigners(t, 3)
	p, err := NewPolicy(publicKeys(signers), 2)
	require.NoError(t, err)
	chain, a, b, c := rosterIDs()

	rc := signedRosterChange(t, signers[:2], chain, 1, a, b)
	parsed, err := ParseRosterChange(rc.Encode())
	require.NoError(t, err)
	assert.Equal(t, rc.Encode(), parsed.Encode())
	require.NoError(t, p.VerifyRosterChange(parsed, chain, 1, a, b))

	mismatch := []struct {
		name       string
		chain      ChainID
		seq        uint64
		prev, next RosterID
		want       string
	}{
		{"other chain", ChainID(fill256(9)), 1, a, b, "for chain"},
		{"replayed later", chain, 2, a, b, "number 1, expected number 2"},
		{"other previous roster", chain, 1, c, b, "replaces roster"},
		{"other next roster", chain, 1, a, c, "not to the proposed roster"},
	}
	for _, m := range mismatch {
		t.Run(m.name, func(t *testing.T) {
			err := p.VerifyRosterChange(rc, m.chain, m.seq, m.prev, m.next)
			require.ErrorIs(t, err, ErrChangeMismatch)
			assert.Contains(t, err.Error(), m.want)
		})
	}

	t.Run("below threshold", func(t *testing.T) {
		one := signedRosterChange(t, signers[:1], chain, 1, a, b)
		require.ErrorIs(t, p.VerifyRosterChange(one, chain, 1, a, b), ErrThreshold)
	})
	t.Run("foreign keys do not count", func(t *testing.T) {
		others := testSigners(t, 5)[3:]
		foreign := signedRosterChange(t, append([]*Signer{signers[0]}, others...), chain, 1, a, b)
		require.ErrorIs(t, p.VerifyRosterChange(foreign, chain, 1, a, b), ErrThreshold)
	})
	t.Run("tampered statement", func(t *testing.T) {
		bad := *rc
		bad.Statement = bytes.Clone(rc.Statement)
		bad.Statement[len(bad.Statement)-1] ^= 1
		require.ErrorIs(t, p.VerifyRosterChange(&bad, chain, 1, a, b), ErrThreshold)
	})
	t.Run("signed garbage is refused after the signatures", func(t *testing.T) {
		// A statement of the right size whose sequence number is 0.
		st := bytes.Clone(rc.Statement)
		off := 1 + len(TagRosterChange) + 32
		copy(st[off:off+8], make([]byte, 8))
		bad := &RosterChange{Statement: st}
		for _, s := range signers {
			bad.Signatures = withSignature(bad.Signatures, s.sign(bad.Statement))
		}
		err := p.VerifyRosterChange(bad, chain, 1, a, b)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "sequence 0")
		assert.Error(t, signers[0].SignRosterChange(bad), "a developer refuses to sign a malformed statement")
	})
}

func TestNewRosterChangeRefusesBadPositions(t *testing.T) {
	chain, a, b, _ := rosterIDs()
	cases := []struct {
		name       string
		chain      ChainID
		seq        uint64
		prev, next RosterID
		want       string
	}{
		{"zero chain", ChainID{}, 1, a, b, "chain id is all zeros"},
		{"sequence zero", chain, 0, a, b, "sequence 0"},
		{"zero previous", chain, 1, RosterID{}, b, "all zeros"},
		{"zero next", chain, 1, a, RosterID{}, "all zeros"},
		{"same roster", chain, 1, a, a, "is the previous one"},
	}
	signers := testSigners(t, 1)
	p, err := NewPolicy(publicKeys(signers), 1)
	require.NoError(t, err)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewRosterChange(c.chain, c.seq, c.prev, c.next)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			// The verifier refuses the same position before looking at signatures.
			err = p.VerifyRosterChange(&RosterChange{}, c.chain, c.seq, c.prev, c.next)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestParseRosterChangeMalformed(t *testing.T) {
	chain, a, b, _ := rosterIDs()
	enc := signedRosterChange(t, testSigners(t, 2), chain, 1, a, b).Encode()
	for i := range enc {
		_, err := ParseRosterChange(enc[:i])
		require.Error(t, err, "truncated at %d", i)
	}
	_, err := ParseRosterChange(append(bytes.Clone(enc), 0))
	require.Error(t, err)
	_, err = ParseRosterChange(make([]byte, 1<<16))
	require.ErrorContains(t, err, "at most")
}

func FuzzParseRosterChange(f *testing.F) {
	signers := testSigners(f, 2)
	chain, a, b, _ := rosterIDs()
	c, err := NewRosterChange(chain, 1, a, b)
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range signers {
		if err := s.SignRosterChange(c); err != nil {
			f.Fatal(err)
		}
	}
	p, err := NewPolicy(publicKeys(signers), 2)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		rc, err := ParseRosterChange(in)
		if err != nil {
			return
		}
		if !bytes.Equal(rc.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
		// Whatever parses, verifying it never panics, and only the one statement the
		// test signed can verify at its position.
		if p.VerifyRosterChange(rc, chain, 1, a, b) == nil && !bytes.Equal(rc.Statement, c.Statement) {
			t.Fatalf("a different statement verified")
		}
		// What is displayed to a signer is what would be verified.
		if got, err := rc.Contents(); err == nil {
			if p.VerifyRosterChange(rc, got.Chain, got.Sequence, got.Previous, got.Next) != nil && p.VerifyRosterChange(rc, chain, 1, a, b) == nil {
				t.Fatalf("the contents shown are not the position the change verifies at")
			}
		}
	})
}
