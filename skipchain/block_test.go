package skipchain_test

import (
	"crypto/sha256"
	"testing"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headerFields is a header's fields as plain values, to encode variants of a header
// that no constructor would make.
type headerFields struct {
	version                  uint16
	index                    uint64
	height, maxHeight, base  uint32
	backLinks                []skipchain.ID
	genesis, roster, payload skipchain.ID
	rosterSince              uint64
	kind                     string
}

func fieldsOf(h *skipchain.Header) headerFields {
	return headerFields{1, h.Index(), h.Height(), h.Params().MaxHeight, h.Params().Base, h.BackLinks(),
		func() skipchain.ID {
			if h.Index() == 0 {
				return skipchain.ID{}
			}
			return h.Genesis()
		}(), h.RosterID(), h.PayloadHash(), h.RosterSince(), h.PayloadKind()}
}

func (f headerFields) encode() []byte {
	e := wire.NewEncoder("chainiac/v1/block").Uint16(f.version).Uint64(f.index).Uint32(f.height).
		Uint32(f.maxHeight).Uint32(f.base).Count(len(f.backLinks))
	for _, id := range f.backLinks {
		e.Fixed(id[:])
	}
	return e.Fixed(f.genesis[:]).Fixed(f.roster[:]).Uint64(f.rosterSince).String(f.kind).Fixed(f.payload[:]).Out()
}

func TestHeaderRoundTrip(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	for _, b := range c.Blocks {
		h := b.Header()
		require.Equal(t, h.Encode(), fieldsOf(h).encode(), "the test's encoder matches block %d", h.Index())
		parsed, err := skipchain.ParseHeader(h.Encode())
		require.NoError(t, err)
		assert.Equal(t, h.ID(), parsed.ID())
		assert.Equal(t, skipchain.ID(sha256.Sum256(h.Encode())), h.ID())
		assert.Equal(t, c.Genesis().ID(), parsed.Genesis())

		full, err := skipchain.ParseBlock(b.Encode())
		require.NoError(t, err)
		assert.Equal(t, b.Encode(), full.Encode())
		assert.Equal(t, b.Payload(), full.Payload())
	}
	// The roster index records where each roster came in.
	assert.Equal(t, uint64(0), c.Blocks[5].Header().RosterSince())
	assert.Equal(t, uint64(6), c.Blocks[6].Header().RosterSince())
	assert.Equal(t, uint64(6), c.Blocks[11].Header().RosterSince())
	assert.Equal(t, uint64(12), c.Blocks[17].Header().RosterSince())
}

func TestParseHeaderMalformed(t *testing.T) {
	c := buildChain(t, scriptLinear)
	good := fieldsOf(c.Blocks[4].Header())
	gen := fieldsOf(c.Genesis().Header())
	mod := func(base headerFields, f func(*headerFields)) []byte {
		base.backLinks = append([]skipchain.ID(nil), base.backLinks...)
		f(&base)
		return base.encode()
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"empty", nil, "truncated"},
		{"truncated", good.encode()[:30], "truncated"},
		{"trailing", append(good.encode(), 0), "trailing"},
		{"version", mod(good, func(f *headerFields) { f.version = 2 }), "version 2"},
		{"height too high", mod(good, func(f *headerFields) { f.height = 4 }), "height 4"},
		{"height too low", mod(good, func(f *headerFields) { f.height = 2; f.backLinks = f.backLinks[:2] }), "height 2"},
		{"back-link missing", mod(good, func(f *headerFields) { f.backLinks = f.backLinks[:2] }), "back-links"},
		{"zero genesis", mod(good, func(f *headerFields) { f.genesis = skipchain.ID{} }), "zero genesis"},
		{"roster from the future", mod(good, func(f *headerFields) { f.rosterSince = 5 }), "later block"},
		{"empty kind", mod(good, func(f *headerFields) { f.kind = "" }), "payload kind"},
		{"kind with space", mod(good, func(f *headerFields) { f.kind = "a b" }), "printable"},
		{"base 1", mod(good, func(f *headerFields) { f.base = 1 }), "base 1"},
		{"max height 0", mod(good, func(f *headerFields) { f.maxHeight = 0 }), "maximum height 0"},
		{"too many back-links", mod(good, func(f *headerFields) { f.backLinks = make([]skipchain.ID, 65) }), "limit"},
		{"genesis with back-link", mod(gen, func(f *headerFields) { f.backLinks = []skipchain.ID{{1}} }), "genesis with"},
		{"genesis with genesis ID", mod(gen, func(f *headerFields) { f.genesis = skipchain.ID{1} }), "genesis with"},
		{"genesis height", mod(gen, func(f *headerFields) { f.height = 1 }), "height 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseHeader(tc.b)
			require.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

func TestParseBlockMismatch(t *testing.T) {
	c := buildChain(t, scriptLinear)
	b := c.Blocks[3]
	other := chaintest.NewSigners(t, "other", 2).Roster
	enc := func(header, roster, payload []byte) []byte {
		return wire.NewEncoder("chainiac/v1/block-data").Bytes(header).Bytes(roster).Bytes(payload).Out()
	}
	_, err := skipchain.ParseBlock(enc(b.Header().Encode(), b.Roster().Encode(), b.Payload()))
	require.NoError(t, err)
	_, err = skipchain.ParseBlock(enc(b.Header().Encode(), other.Encode(), b.Payload()))
	require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
	_, err = skipchain.ParseBlock(enc(b.Header().Encode(), b.Roster().Encode(), []byte("other payload")))
	require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
	_, err = skipchain.ParseBlock(enc(b.Header().Encode()[1:], b.Roster().Encode(), b.Payload()))
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	_, err = skipchain.AssembleBlock(b.Header(), other, b.Payload())
	require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
}

func TestCheckSuccessor(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	other := buildChain(t, "roster R9 3; genesis; blocks 1..8")
	g := c.Genesis().Header()
	back := func(c *chaintest.Chain, i uint64) []*skipchain.Header {
		var out []*skipchain.Header
		for _, pos := range c.Params.LinksInto(i) {
			out = append(out, c.Blocks[pos.From].Header())
		}
		return out
	}
	for i := 1; i < len(c.Blocks); i++ {
		require.NoError(t, skipchain.CheckSuccessor(g, back(c, uint64(i)), c.Blocks[i].Header()), "block %d", i)
	}
	next := c.Blocks[8].Header() // height 4: links back to 7, 6, 4 and 0
	b8 := back(c, 8)
	swapped := append([]*skipchain.Header(nil), b8...)
	swapped[1], swapped[2] = swapped[2], swapped[1]
	wrongBlock := append([]*skipchain.Header(nil), b8...)
	wrongBlock[2] = c.Forks[4].Block.Header()
	for _, tc := range []struct {
		name    string
		genesis *skipchain.Header
		back    []*skipchain.Header
		next    *skipchain.Header
		want    string
	}{
		{"genesis not at 0", c.Blocks[1].Header(), b8, next, "the genesis given"},
		{"genesis as next", g, b8, g, "cannot follow"},
		{"other chain's genesis", other.Genesis().Header(), b8, next, "genesis"},
		{"too few back headers", g, b8[:3], next, "back-link blocks"},
		{"back headers out of order", g, swapped, next, "back-link 1 given block 4"},
		{"back-link to another block", g, wrongBlock, next, "back-link 2"},
		{"other chain's blocks", other.Genesis().Header(), back(other, 8), next, "genesis"},
		{"unchanged roster, wrong origin", g, back(c, 13), fakeRosterSince(t, c, 13, 6), "roster unchanged"},
		{"new roster, wrong origin", g, back(c, 12), fakeRosterSince(t, c, 12, 11), "new roster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := skipchain.CheckSuccessor(tc.genesis, tc.back, tc.next)
			require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// fakeRosterSince re-encodes block i's header with another roster index.
func fakeRosterSince(t *testing.T, c *chaintest.Chain, i int, since uint64) *skipchain.Header {
	f := fieldsOf(c.Blocks[i].Header())
	f.rosterSince = since
	h, err := skipchain.ParseHeader(f.encode())
	require.NoError(t, err)
	return h
}
