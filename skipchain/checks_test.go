package skipchain_test

import (
	"errors"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each test here makes one check the only thing between an input and its
// acceptance: the input is right in every other respect, so that the test fails if
// that check is ever dropped.

// zeroHopProof encodes a proof with no hops from (index, from) whose head is head.
func zeroHopProof(t *testing.T, genesis skipchain.ID, index uint64, from skipchain.ID, head *skipchain.Header) *skipchain.Proof {
	t.Helper()
	enc := wire.NewEncoder("chainiac/v1/proof").Fixed(genesis[:]).Uint64(index).Fixed(from[:]).Count(0).
		Bytes(head.Encode()).Uint8(0).Out()
	p, err := skipchain.ParseProof(enc)
	require.NoError(t, err)
	return p
}

// Without "the proof starts at the trusted block", a proof of no hops whose head is
// any header at the trusted index (here the fork's block 4) would verify with no
// signature at all.
func TestProofMustStartAtTrustedBlock(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	trusted := c.Blocks[4]
	g := c.Genesis().ID()

	head, roster, err := zeroHopProof(t, g, 4, trusted.ID(), trusted.Header()).Verify(trusted.Header(), trusted.Roster())
	require.NoError(t, err, "a zero-hop proof of the trusted block itself")
	assert.Equal(t, trusted.ID(), head.ID())
	assert.Same(t, trusted.Roster(), roster)

	fork := c.Forks[4].Block.Header()
	require.Equal(t, trusted.Header().RosterID(), fork.RosterID(), "the fork differs only in its payload")
	for _, tc := range []struct {
		name  string
		index uint64
		from  skipchain.ID
	}{
		{"other block at the trusted index", 4, fork.ID()},
		{"trusted ID, other index", 5, trusted.ID()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := zeroHopProof(t, g, tc.index, tc.from, fork).Verify(trusted.Header(), trusted.Roster())
			require.ErrorIs(t, err, skipchain.ErrInvalidProof)
			assert.Contains(t, err.Error(), "the trusted block is 4")
		})
	}
}

// Two honest links from one block at different levels (4→5 and 4→6) name
// different blocks but are no fork: they are at different positions.
func TestForkEvidenceDifferentLevels(t *testing.T) {
	c := buildChain(t, scriptLinear)
	a, b := c.Into[5][0], c.Into[6][1]
	require.Equal(t, uint64(4), a.FromIndex())
	require.Equal(t, uint64(4), b.FromIndex())
	_, err := skipchain.NewForkError(c.Blocks[4], a, b)
	require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
	assert.Contains(t, err.Error(), "not the same position")
}

// ForkError.Verify refuses a roster other than the block's even when that roster
// verifies both signatures: same keys and addresses, another threshold.
func TestForkEvidenceOtherRoster(t *testing.T) {
	fe := forkEvidence(t)
	require.NoError(t, fe.Verify())
	lax, err := skipchain.NewRoster(fe.Roster.Members(), 1)
	require.NoError(t, err)
	require.NotEqual(t, fe.Roster.ID(), lax.ID())
	for _, l := range []*skipchain.ForwardLink{fe.A, fe.B} {
		require.NoError(t, skipchain.VerifyLinkSignature(lax, l), "the other roster verifies the signatures")
	}
	other := *fe
	other.Roster = lax
	err = other.Verify()
	require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
	assert.Contains(t, err.Error(), "names")

	// Published with that roster, the evidence fails on the header's roster ID.
	_, err = skipchain.ParseForkEvidence(other.Encode())
	require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
}

// A successor whose only fault is its previous-block hash: block 5 given the fork's
// block 4, which has the same index, chain and roster.
func TestCheckSuccessorPreviousHash(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	g := c.Genesis().Header()
	next := c.Blocks[5].Header()
	require.NoError(t, skipchain.CheckSuccessor(g, []*skipchain.Header{c.Blocks[4].Header()}, next))
	err := skipchain.CheckSuccessor(g, []*skipchain.Header{c.Forks[4].Block.Header()}, next)
	require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
	assert.Contains(t, err.Error(), "back-link 0 is")
}

// namingRoster returns the link from → to that names roster id instead of to's
// roster, validly signed by signers.
func namingRoster(t *testing.T, from, to *skipchain.Header, id skipchain.ID, sign func([]byte) *cosi.Signature) *skipchain.ForwardLink {
	t.Helper()
	fromID, toID := from.ID(), to.ID()
	sig := sign(skipchain.LinkMessage(fromID, toID, to.Index(), id))
	enc := wire.NewEncoder("chainiac/v1/link").Fixed(fromID[:]).Uint64(from.Index()).Fixed(toID[:]).Uint64(to.Index()).
		Fixed(id[:]).Bytes(sig.Encode()).Out()
	l, err := skipchain.ParseForwardLink(enc)
	require.NoError(t, err)
	return l
}

// A validly signed link that names another roster than its target's is refused by
// CheckLink, and a store holding the honest link returns the fork it reveals.
func TestLinkNamingOtherRoster(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	from, to := c.Blocks[3], c.Blocks[4]
	r1 := c.Rosters["R1"]
	l := namingRoster(t, from.Header(), to.Header(), c.Rosters["R2"].Roster.ID(), func(msg []byte) *cosi.Signature {
		return r1.Sign(t, msg, 0)
	})
	require.NoError(t, skipchain.VerifyLinkSignature(from.Roster(), l), "validly signed")
	err := skipchain.CheckLink(from, to.Header(), l)
	require.ErrorIs(t, err, skipchain.ErrInvalidLink)
	assert.Contains(t, err.Error(), "names roster")

	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 6)
		err := s.AddLink(l)
		var fork *skipchain.ForkError
		require.True(t, errors.As(err, &fork), "want a *ForkError, got %v", err)
		require.NoError(t, fork.Verify())
		assert.Equal(t, to.ID(), fork.A.To())
		assert.Equal(t, to.ID(), fork.B.To())
		got, err := s.Link(3, 0)
		require.NoError(t, err)
		assert.Equal(t, to.Header().RosterID(), got.RosterID(), "the stored link is unchanged")
	})
}
