package skipchain_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// forkEvidence returns the evidence of the fork at block 4 of scriptRosterChanges.
func forkEvidence(t *testing.T) *skipchain.ForkError {
	t.Helper()
	c := buildChain(t, scriptRosterChanges)
	fe, err := skipchain.NewForkError(c.Blocks[3], c.Into[4][0], c.Forks[4].Into[0])
	require.NoError(t, err)
	return fe
}

func TestForkEvidence(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	a, b := c.Into[4][0], c.Forks[4].Into[0]
	fe, err := skipchain.NewForkError(c.Blocks[3], a, b)
	require.NoError(t, err)
	swapped, err := skipchain.NewForkError(c.Blocks[3], b, a)
	require.NoError(t, err)
	assert.Equal(t, fe.Encode(), swapped.Encode(), "one encoding whatever the order given")
	assert.Contains(t, fe.Error(), "skipchain: fork: roster")

	var target *skipchain.ForkError
	require.True(t, errors.As(error(fe), &target))

	for _, tc := range []struct {
		name string
		from *skipchain.Block
		a, b *skipchain.ForwardLink
	}{
		{"same link twice", c.Blocks[3], a, a},
		{"same statement, other signers", c.Blocks[3], a, c.Rosters["R1"].Link(t, c.Blocks[3].Header(), c.Blocks[4].Header(), 4)},
		{"different positions", c.Blocks[3], a, c.Into[5][0]},
		{"links from another block", c.Blocks[2], a, b},
		{"a forged link", c.Blocks[3], a, c.Rosters["R2"].Link(t, c.Blocks[3].Header(), c.Forks[4].Block.Header(), 0)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.NewForkError(tc.from, tc.a, tc.b)
			require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
		})
	}
}

// Every single-byte change of published evidence is refused.
func TestForkEvidenceMangling(t *testing.T) {
	enc := forkEvidence(t).Encode()
	_, err := skipchain.ParseForkEvidence(enc)
	require.NoError(t, err)
	for i := range enc {
		bad := append([]byte(nil), enc...)
		bad[i] ^= 0x01
		_, err := skipchain.ParseForkEvidence(bad)
		require.Error(t, err, "byte %d of %d changed, evidence accepted", i, len(enc))
	}
}

func TestParseForkEvidenceMalformed(t *testing.T) {
	fe := forkEvidence(t)
	c := buildChain(t, scriptRosterChanges)
	enc := func(h, r, a, b []byte) []byte {
		return wire.NewEncoder("chainiac/v1/fork-evidence").Bytes(h).Bytes(r).Bytes(a).Bytes(b).Out()
	}
	h, r, a, b := fe.From.Encode(), fe.Roster.Encode(), fe.A.Encode(), fe.B.Encode()
	for _, tc := range []struct {
		name string
		b    []byte
		want error
	}{
		{"empty", nil, skipchain.ErrMalformed},
		{"links in the wrong order", enc(h, r, b, a), skipchain.ErrInvalidEvidence},
		{"other roster", enc(h, c.Rosters["R2"].Roster.Encode(), a, b), skipchain.ErrInvalidEvidence},
		{"bad header", enc(h[1:], r, a, b), skipchain.ErrMalformed},
		{"bad link", enc(h, r, a[1:], b), skipchain.ErrMalformed},
		{"too long", make([]byte, skipchain.MaxForkEvidenceSize+1), skipchain.ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseForkEvidence(tc.b)
			require.ErrorIs(t, err, tc.want)
		})
	}
}

// forkFrom signs two conflicting links out of from (two different blocks at the next
// index), by the given roster: valid evidence on its own terms about from.
func forkFrom(t *testing.T, c *chaintest.Chain, from *skipchain.Block, s *chaintest.Signers) *skipchain.ForkError {
	t.Helper()
	var links []*skipchain.ForwardLink
	for _, payload := range []string{"one", "two"} {
		next, err := skipchain.NewBlock(c.Genesis().Header(), []*skipchain.Header{from.Header()}, from.Roster(), chaintest.PayloadKind, []byte(payload))
		require.NoError(t, err)
		links = append(links, s.Link(t, from.Header(), next.Header(), s.Roster.Threshold()))
	}
	fe, err := skipchain.NewForkError(from, links[0], links[1])
	require.NoError(t, err)
	return fe
}

// Evidence verifies on its own terms whatever chain its header comes from; only
// VerifyAgainst says whether it concerns the chain a monitor watches.
func TestForkEvidenceVerifyAgainst(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	store := c.MemStore(t, 17)

	t.Run("this chain", func(t *testing.T) {
		fe := forkEvidence(t)
		require.NoError(t, fe.VerifyAgainst(store))
		parsed, err := skipchain.ParseForkEvidence(fe.Encode())
		require.NoError(t, err)
		require.NoError(t, parsed.VerifyAgainst(store))
	})
	t.Run("block not stored yet", func(t *testing.T) {
		err := forkEvidence(t).VerifyAgainst(c.MemStore(t, 2))
		require.ErrorIs(t, err, skipchain.ErrUnknownBlock)
		require.NotErrorIs(t, err, skipchain.ErrInvalidEvidence)
	})
	t.Run("a block this chain never accepted", func(t *testing.T) {
		// The fork block at index 4 is signed into the chain's history by a valid
		// link, but the chain holds the other block 4.
		fork := c.Forks[4].Block
		fe := forkFrom(t, c, fork, c.RosterOf[4])
		require.NoError(t, fe.Verify())
		err := fe.VerifyAgainst(store)
		require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
		assert.Contains(t, err.Error(), "the chain's block 4 is "+c.Blocks[4].ID().Short())
	})
	t.Run("another chain with the same roster", func(t *testing.T) {
		other := buildChain(t, "params 3 8; roster R1 4; genesis; blocks 1..5; fork b4")
		require.Equal(t, c.Rosters["R1"].Roster.ID(), other.Rosters["R1"].Roster.ID())
		fe, err := skipchain.NewForkError(other.Blocks[3], other.Into[4][0], other.Forks[4].Into[0])
		require.NoError(t, err)
		parsed, err := skipchain.ParseForkEvidence(fe.Encode())
		require.NoError(t, err, "the evidence is valid on its own terms")
		require.ErrorIs(t, parsed.VerifyAgainst(store), skipchain.ErrInvalidEvidence)
	})
	t.Run("the signatures are still checked", func(t *testing.T) {
		fe := forkEvidence(t)
		forged := *fe
		forged.B = c.Rosters["R2"].Link(t, c.Blocks[3].Header(), c.Forks[4].Block.Header(), 0)
		if bytes.Compare(forged.A.Encode(), forged.B.Encode()) > 0 {
			forged.A, forged.B = forged.B, forged.A
		}
		require.ErrorIs(t, forged.VerifyAgainst(store), skipchain.ErrInvalidEvidence)
	})
}
