package skipchain_test

import (
	"math"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The parameter bounds are inclusive at both ends.
func TestParamsBounds(t *testing.T) {
	for _, tc := range []struct {
		p  skipchain.Params
		ok bool
	}{
		{skipchain.Params{Base: 2, MaxHeight: 1}, true},
		{skipchain.Params{Base: 2, MaxHeight: skipchain.MaxMaxHeight}, true}, // 2⁶³ fits
		{skipchain.Params{Base: skipchain.MaxBase, MaxHeight: 4}, true},      // 2⁴⁸
		{skipchain.Params{Base: skipchain.MaxBase, MaxHeight: 5}, false},     // 2⁶⁴ overflows
		{skipchain.Params{Base: 1, MaxHeight: 4}, false},
		{skipchain.Params{Base: skipchain.MaxBase + 1, MaxHeight: 2}, false},
		{skipchain.Params{Base: 2, MaxHeight: 0}, false},
		{skipchain.Params{Base: 2, MaxHeight: skipchain.MaxMaxHeight + 1}, false},
		{skipchain.Params{Base: 3, MaxHeight: skipchain.MaxMaxHeight}, false}, // 3⁶³ overflows
	} {
		err := tc.p.Validate()
		if tc.ok {
			assert.NoError(t, err, "%+v", tc.p)
		} else {
			assert.ErrorIs(t, err, skipchain.ErrMalformed, "%+v", tc.p)
		}
	}
}

// NewRoster checks the member count before anything else, and 4096 members is
// within it: the error for 4096 key-less members is about their threshold.
func TestNewRosterSizeBound(t *testing.T) {
	_, err := skipchain.NewRoster(make([]skipchain.Member, cosi.MaxRosterSize), 0)
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	assert.Contains(t, err.Error(), "threshold 0")
	_, err = skipchain.NewRoster(make([]skipchain.Member, cosi.MaxRosterSize+1), 1)
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	assert.Contains(t, err.Error(), "roster of 4097 members")

	ms := members(t, 3)
	for threshold := 1; threshold <= 3; threshold++ {
		r, err := skipchain.NewRoster(ms, threshold)
		require.NoError(t, err)
		assert.Equal(t, threshold, r.Threshold())
	}
}

// A link goes forward by at least one block, and a link from a block high in the
// index space cannot wrap around.
func TestLinkDirection(t *testing.T) {
	c := buildChain(t, scriptLinear)
	sig := c.Into[1][0].Signature()
	_, err := skipchain.NewForwardLink(c.Blocks[1].Header(), c.Blocks[1].Header(), sig)
	require.ErrorIs(t, err, skipchain.ErrInvalidLink)
	l, err := skipchain.NewForwardLink(c.Blocks[1].Header(), c.Blocks[2].Header(), sig)
	require.NoError(t, err)
	assert.Equal(t, uint64(2), l.ToIndex())

	p := skipchain.DefaultParams()
	for _, tc := range []struct {
		from, to uint64
		ok       bool
	}{
		{math.MaxUint64 - 1, math.MaxUint64, true},
		{0, 1 << 31, true},
		{0, 1 << 32, false}, // level 32 is past the genesis's height
		{1 << 31, 1<<31 + 1<<30, true},
	} {
		_, err := linkBetween(t, tc.from, tc.to).Level(p)
		assert.Equal(t, tc.ok, err == nil, "%d→%d: %v", tc.from, tc.to, err)
	}
}

// linkBetween is a link between two indices, with any IDs and signature.
func linkBetween(t *testing.T, from, to uint64) *skipchain.ForwardLink {
	t.Helper()
	var id skipchain.ID
	sig := buildChain(t, scriptLinear).Into[1][0].Signature()
	enc := wire.NewEncoder("chainiac/v1/link").Fixed(id[:]).Uint64(from).Fixed(id[:]).Uint64(to).Fixed(id[:]).
		Bytes(sig.Encode()).Out()
	l, err := skipchain.ParseForwardLink(enc)
	require.NoError(t, err)
	return l
}

// A proof's hop may end at the last index there is: the path from block 2⁶⁴ − 2
// reaches 2⁶⁴ − 1, and the proof is refused only for its head.
func TestProofHopToLastIndex(t *testing.T) {
	c := buildChain(t, scriptLinear)
	g := c.Genesis().Header()
	trusted, err := skipchain.ParseHeader(largeHeader(t, g, math.MaxUint64-1))
	require.NoError(t, err)
	var to skipchain.ID
	gid, tid := g.ID(), trusted.ID()
	enc := wire.NewEncoder("chainiac/v1/proof").Fixed(gid[:]).Uint64(trusted.Index()).Fixed(tid[:]).Count(1).
		Uint8(0).Fixed(to[:]).Bytes(c.Into[1][0].Signature().Encode()).Bytes(nil).
		Bytes(g.Encode()).Uint8(0).Out()
	p, err := skipchain.ParseProof(enc)
	require.NoError(t, err)
	_, _, err = p.Verify(trusted, c.Genesis().Roster())
	require.ErrorIs(t, err, skipchain.ErrInvalidProof)
	assert.Contains(t, err.Error(), "the path reaches block 18446744073709551615")
}

// Heights are capped at the maximum height, however often the base divides the index.
func TestHeightCap(t *testing.T) {
	p := skipchain.Params{Base: 2, MaxHeight: 3}
	for index, want := range map[uint64]uint32{1: 1, 2: 2, 4: 3, 8: 3, 16: 3, 24: 3, 12: 3, 6: 2} {
		assert.Equal(t, want, p.Height(index), "index %d", index)
	}
	assert.Equal(t, uint32(1), skipchain.Params{Base: 2, MaxHeight: 1}.Height(2))
	assert.Len(t, p.LinksInto(16), 3)
}

// Levels stop below the height: Span panics at the maximum height, a link or a hop
// at the level equal to its block's height is refused even where B^ℓ would fit.
func TestLevelBelowHeight(t *testing.T) {
	p := skipchain.Params{Base: 2, MaxHeight: 3}
	assert.Equal(t, uint64(4), p.Span(2))
	assert.Panics(t, func() { p.Span(3) })
	assert.Panics(t, func() { p.Span(-1) })
	_, err := linkBetween(t, 8, 16).Level(p) // block 8 has height 3: levels 0..2
	require.ErrorIs(t, err, skipchain.ErrInvalidLink)

	// A hop at level 1 from block 1, whose height is 1.
	c := buildChain(t, scriptLinear)
	trusted := c.Blocks[1].Header()
	var to skipchain.ID
	gid, tid := c.Genesis().ID(), trusted.ID()
	enc := wire.NewEncoder("chainiac/v1/proof").Fixed(gid[:]).Uint64(1).Fixed(tid[:]).Count(1).
		Uint8(1).Fixed(to[:]).Bytes(c.Into[1][0].Signature().Encode()).Bytes(nil).
		Bytes(c.Blocks[3].Header().Encode()).Uint8(0).Out()
	pr, err := skipchain.ParseProof(enc)
	require.NoError(t, err)
	_, _, err = pr.Verify(trusted, c.Blocks[1].Roster())
	require.ErrorIs(t, err, skipchain.ErrInvalidProof)
	assert.Contains(t, err.Error(), "has no link at level 1")
}

// A link must go forward: ParseForwardLink refuses one that stays at its block.
func TestParseLinkForward(t *testing.T) {
	var id skipchain.ID
	sig := buildChain(t, scriptLinear).Into[1][0].Signature()
	for _, to := range []uint64{4, 5} {
		enc := wire.NewEncoder("chainiac/v1/link").Fixed(id[:]).Uint64(5).Fixed(id[:]).Uint64(to).Fixed(id[:]).
			Bytes(sig.Encode()).Out()
		_, err := skipchain.ParseForwardLink(enc)
		require.ErrorIs(t, err, skipchain.ErrMalformed, "5→%d", to)
	}
}
