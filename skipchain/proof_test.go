package skipchain_test

import (
	"fmt"
	"math/bits"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestProofFromEveryBlock(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	s := c.MemStore(t, 17)
	for from := range c.Blocks {
		for _, withPayload := range []bool{false, true} {
			p, err := skipchain.BuildProof(s, uint64(from), withPayload)
			require.NoError(t, err)
			parsed, err := skipchain.ParseProof(p.Encode())
			require.NoError(t, err)
			require.Equal(t, p.Encode(), parsed.Encode())

			head, roster, err := parsed.Verify(c.Blocks[from].Header(), c.RosterOf[from].Roster)
			require.NoError(t, err, "from %d", from)
			assert.Equal(t, c.Blocks[17].ID(), head.ID())
			assert.Equal(t, c.Rosters["R3"].Roster.ID(), roster.ID())
			payload, ok := parsed.Payload()
			assert.Equal(t, withPayload, ok)
			if withPayload {
				assert.Equal(t, c.Blocks[17].Payload(), payload)
			}
			assert.Equal(t, shortestPath(c.Params, uint64(from), 17), len(p.Hops()), "from %d", from)
		}
	}
}

// shortestPath is the fewest hops from one block to another over every link the
// parameters allow, by breadth-first search: the yardstick for BuildProof.
func shortestPath(p skipchain.Params, from, to uint64) int {
	return shortestPathWithout(p, nil, from, to)
}

// With every link present, BuildProof takes the highest link at every block: the
// path is as short as any path can be, each hop costs exactly one link read, and it
// never walks one block at a time where a longer link exists.
func TestProofIsShortest(t *testing.T) {
	for _, p := range []skipchain.Params{{Base: 2, MaxHeight: 32}, {Base: 2, MaxHeight: 3}, {Base: 3, MaxHeight: 32}, {Base: 4, MaxHeight: 3}} {
		t.Run(fmt.Sprintf("base=%d,height=%d", p.Base, p.MaxHeight), func(t *testing.T) {
			const last = 150
			lc := chaintest.NewLazyChain(t, p, chaintest.NewSigners(t, "lazy", 1), last, 0)
			for from := uint64(0); from <= last; from += 7 {
				lc.ResetReads()
				proof, err := skipchain.BuildProof(lc, from, false)
				require.NoError(t, err)
				hops := proof.Hops()
				require.Equal(t, shortestPath(p, from, last), len(hops), "from %d", from)
				assert.Equal(t, len(hops), lc.Reads().Link, "one link read per hop")
				cur := from
				for i, h := range hops {
					highest := 0
					for level := 0; level < int(p.Height(cur)); level++ {
						if cur+p.Span(level) <= last {
							highest = level
						}
					}
					require.Equal(t, highest, int(h.Level), "hop %d from block %d", i, cur)
					cur += p.Span(int(h.Level))
				}
			}
		})
	}
}

// On a chain of 10⁵ blocks a proof reads O(log k) records: one link per hop, the
// head, the start and the end.
func TestProofReadsOnLongChain(t *testing.T) {
	if testing.Short() {
		t.Skip("builds 10⁵ headers")
	}
	const last = 100_000
	lc := chaintest.NewLazyChain(t, skipchain.DefaultParams(), chaintest.NewSigners(t, "lazy", 1), last, 0)
	g := lc.Genesis()
	for _, k := range []uint64{1, 10, 100, 1000, 10_000, last} {
		lc.ResetReads()
		p, err := skipchain.BuildProof(lc, last-k, false)
		require.NoError(t, err)
		reads := lc.Reads()
		bound := 2*bits.Len64(k) + 1
		assert.LessOrEqual(t, len(p.Hops()), bound, "k=%d", k)
		assert.Equal(t, len(p.Hops()), reads.Link, "k=%d", k)
		assert.LessOrEqual(t, reads.Total(), len(p.Hops())+3, "k=%d", k)
		if k == last {
			head, _, err := p.Verify(g.Header(), g.Roster())
			require.NoError(t, err)
			assert.Equal(t, uint64(last), head.Index())
		}
	}
}

func TestProofWithMissingLinks(t *testing.T) {
	c := buildChain(t, "roster R1 4; genesis; blocks 1..7; b8 missing-link 0->8 missing-link 4->8; blocks 9..12; roster R2 4; b13")
	s := c.MemStore(t, 13)
	p, err := skipchain.BuildProof(s, 0, false)
	require.NoError(t, err)
	assert.Equal(t, []uint8{2, 1, 1, 2, 0}, levels(p), "0→4→6→8 (the links into 8 from 0 and 4 are missing), 8→12→13")
	head, roster, err := p.Verify(c.Genesis().Header(), c.Genesis().Roster())
	require.NoError(t, err)
	assert.Equal(t, uint64(13), head.Index())
	assert.Equal(t, c.Rosters["R2"].Roster.ID(), roster.ID())
}

func TestProofAtHead(t *testing.T) {
	c := buildChain(t, scriptLinear)
	s := c.MemStore(t, 5)
	p, err := skipchain.BuildProof(s, 5, true)
	require.NoError(t, err)
	assert.Empty(t, p.Hops())
	head, _, err := p.Verify(c.Blocks[5].Header(), c.Blocks[5].Roster())
	require.NoError(t, err)
	assert.Equal(t, c.Blocks[5].ID(), head.ID())
	_, err = skipchain.BuildProof(s, 6, false)
	require.ErrorIs(t, err, skipchain.ErrUnknownBlock)
}

func TestProofVerifyRefuses(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	other := buildChain(t, "roster R9 3; genesis; blocks 1..8")
	s := c.MemStore(t, 17)
	p, err := skipchain.BuildProof(s, 4, false)
	require.NoError(t, err)
	for _, tc := range []struct {
		name    string
		trusted *skipchain.Block
		roster  *skipchain.Roster
		want    string
	}{
		{"roster not the block's", c.Blocks[4], c.Rosters["R2"].Roster, "the roster given"},
		{"other start", c.Blocks[5], c.Blocks[5].Roster(), "starts at block 4"},
		{"other chain", other.Blocks[4], other.Blocks[4].Roster(), "chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := p.Verify(tc.trusted.Header(), tc.roster)
			require.ErrorIs(t, err, skipchain.ErrInvalidProof)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Every single-byte change of an encoded proof is refused by ParseProof or Verify.
// The proof crosses a roster change on its last hop and carries a payload, so that
// every kind of field is changed.
func TestProofMangling(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	s := c.MemStore(t, 12)
	p, err := skipchain.BuildProof(s, 9, true)
	require.NoError(t, err)
	require.Equal(t, []uint8{0, 1}, levels(p), "9→10→12")
	require.NotNil(t, p.Hops()[1].NewRoster)
	trusted, roster := c.Blocks[9].Header(), c.Blocks[9].Roster()
	enc := p.Encode()
	_, _, err = p.Verify(trusted, roster)
	require.NoError(t, err)
	for i := range enc {
		bad := append([]byte(nil), enc...)
		bad[i] ^= 0x01
		parsed, err := skipchain.ParseProof(bad)
		if err == nil {
			_, _, err = parsed.Verify(trusted, roster)
		}
		require.Error(t, err, "byte %d of %d changed, proof accepted", i, len(enc))
	}
}

func TestParseProofMalformed(t *testing.T) {
	c := buildChain(t, scriptLinear)
	s := c.MemStore(t, 6)
	p, err := skipchain.BuildProof(s, 1, false)
	require.NoError(t, err)
	enc := p.Encode()
	flag := append([]byte(nil), enc...)
	flag[len(flag)-1] = 2
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", enc[:len(enc)-1]},
		{"trailing", append(append([]byte(nil), enc...), 0)},
		{"payload flag 2", flag},
		{"too long", make([]byte, skipchain.MaxProofSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseProof(tc.b)
			require.ErrorIs(t, err, skipchain.ErrMalformed)
		})
	}
}

// levelZeroOnly hides every link above level 0, as if no higher link had been signed.
type levelZeroOnly struct{ *chaintest.LazyChain }

func (r levelZeroOnly) Link(from uint64, level int) (*skipchain.ForwardLink, error) {
	if level > 0 {
		return nil, fmt.Errorf("%w: hidden", skipchain.ErrUnknownLink)
	}
	return r.LazyChain.Link(from, level)
}

// A path longer than MaxProofHops is served in parts: the proof ends where the cap
// is reached, at a block the client can ask again from.
func TestProofHopCap(t *testing.T) {
	last := uint64(skipchain.MaxProofHops + 5)
	lc := chaintest.NewLazyChain(t, skipchain.DefaultParams(), chaintest.NewSigners(t, "lazy", 1), last, 0)
	p, err := skipchain.BuildProof(levelZeroOnly{lc}, 0, false)
	require.NoError(t, err)
	require.Len(t, p.Hops(), skipchain.MaxProofHops)
	assert.Equal(t, uint64(skipchain.MaxProofHops), p.Head().Index())
	parsed, err := skipchain.ParseProof(p.Encode())
	require.NoError(t, err)
	assert.Equal(t, p.Encode(), parsed.Encode())

	rest, err := skipchain.BuildProof(levelZeroOnly{lc}, p.Head().Index(), false)
	require.NoError(t, err)
	assert.Len(t, rest.Hops(), 5)
	head, _, err := rest.Verify(p.Head(), lc.Genesis().Roster())
	require.NoError(t, err)
	assert.Equal(t, last, head.Index())
}

// A roster carried in a proof is adopted only if it parses to the roster ID the
// verified signature named, not merely to some valid roster.
func TestProofAdoptsOnlyTheSignedRoster(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	r1, r2 := c.Rosters["R1"].Roster, c.Rosters["R2"].Roster
	got, err := skipchain.ParseSignedRoster(r2.Encode(), r2.ID())
	require.NoError(t, err)
	assert.Equal(t, r2.ID(), got.ID())

	_, err = skipchain.ParseSignedRoster(r2.Encode(), r1.ID())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "parsed roster is "+r2.ID().Short()+", the signature names "+r1.ID().Short())
	_, err = skipchain.ParseSignedRoster(r2.Encode()[1:], r2.ID())
	require.ErrorIs(t, err, skipchain.ErrMalformed)
}
