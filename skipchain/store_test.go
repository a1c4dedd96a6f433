package skipchain_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// storeKinds makes each Store implementation, so every rule is tested on both.
var storeKinds = []struct {
	name string
	make func(t *testing.T, genesis *skipchain.Block) skipchain.Store
}{
	{"mem", func(t *testing.T, g *skipchain.Block) skipchain.Store {
		s, err := skipchain.NewMemStore(g)
		require.NoError(t, err)
		return s
	}},
	{"bolt", func(t *testing.T, g *skipchain.Block) skipchain.Store {
		s, err := skipchain.CreateBoltStore(filepath.Join(t.TempDir(), "chain.db"), g)
		require.NoError(t, err)
		t.Cleanup(func() { _ = s.Close() })
		return s
	}},
}

func eachStore(t *testing.T, f func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store)) {
	for _, k := range storeKinds {
		t.Run(k.name, func(t *testing.T) {
			f(t, func(g *skipchain.Block) skipchain.Store { return k.make(t, g) })
		})
	}
}

func TestStoreAppendAndRead(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 17)

		head, err := s.Head()
		require.NoError(t, err)
		assert.Equal(t, c.Blocks[17].ID(), head.ID())
		g, err := s.Genesis()
		require.NoError(t, err)
		assert.Equal(t, c.Genesis().ID(), g.ID())
		for i, want := range c.Blocks {
			b, err := s.Block(uint64(i))
			require.NoError(t, err)
			assert.Equal(t, want.Encode(), b.Encode(), "block %d", i)
			links, err := s.Links(uint64(i))
			require.NoError(t, err)
			var wantOut []*skipchain.ForwardLink
			for j := i + 1; j < len(c.Blocks); j++ {
				for _, l := range c.Into[j] {
					if l.FromIndex() == uint64(i) {
						wantOut = append(wantOut, l)
					}
				}
			}
			require.Len(t, links, len(wantOut), "links from %d", i)
			for j := range links {
				assert.True(t, wantOut[j].Equal(links[j]))
			}
		}
		for name, r := range c.Rosters {
			got, err := s.Roster(r.Roster.ID())
			require.NoError(t, err, name)
			assert.Equal(t, r.Roster.Encode(), got.Encode())
		}

		// Appending what is stored again is a no-op; so is the genesis.
		require.NoError(t, s.Append(c.Genesis()))
		require.NoError(t, s.Append(c.Blocks[12], c.Into[12]...))
		require.NoError(t, s.AddLink(c.Into[8][2]))

		_, err = s.Block(18)
		require.ErrorIs(t, err, skipchain.ErrUnknownBlock)
		_, err = s.Link(17, 0)
		require.ErrorIs(t, err, skipchain.ErrUnknownLink)
		_, err = s.Roster(skipchain.ID{1})
		require.ErrorIs(t, err, skipchain.ErrUnknownRoster)

		require.NoError(t, s.Close())
		_, err = s.Head()
		require.ErrorIs(t, err, skipchain.ErrClosed)
	})
}

func TestStoreRefuses(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	bad := buildChain(t, "roster R1 4; genesis; b1; b2 signers 2; roster R2 5; b3; b4 signed-by R1; b5")
	other := buildChain(t, "roster R9 3; genesis; blocks 1..8")
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 5)
		for _, tc := range []struct {
			name  string
			block *skipchain.Block
			links []*skipchain.ForwardLink
			want  error
		}{
			{"gap", c.Blocks[7], c.Into[7], skipchain.ErrGap},
			{"no links", c.Blocks[6], nil, skipchain.ErrInvalidBlock},
			{"no level-0 link", c.Blocks[6], c.Into[6][1:], skipchain.ErrInvalidBlock},
			{"link into another block", c.Blocks[6], []*skipchain.ForwardLink{c.Into[5][0]}, skipchain.ErrInvalidLink},
			{"two links at one level", c.Blocks[6], []*skipchain.ForwardLink{c.Into[6][0], c.Into[6][0]}, skipchain.ErrInvalidLink},
			{"other chain", other.Blocks[6], other.Into[6], skipchain.ErrInvalidBlock},
			{"other genesis", other.Genesis(), nil, skipchain.ErrGenesisMismatch},
		} {
			t.Run(tc.name, func(t *testing.T) {
				require.ErrorIs(t, s.Append(tc.block, tc.links...), tc.want)
			})
		}
		head, err := s.Head()
		require.NoError(t, err)
		assert.Equal(t, uint64(5), head.Index(), "nothing refused was stored")

		// Links signed by too few members, or by a roster that is not the from
		// block's (a stale roster after a change), are refused.
		s2 := newStore(bad.Genesis())
		require.NoError(t, s2.Append(bad.Blocks[1], bad.Into[1]...))
		require.ErrorIs(t, s2.Append(bad.Blocks[2], bad.Into[2]...), skipchain.ErrInvalidLink)
	})
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(bad.Genesis())
		bad.AppendTo(t, s, 1, 1)
		// Block 2 again, this time with the threshold: the script's b2 had 2 of 4.
		good2 := bad.Rosters["R1"].Link(t, bad.Blocks[1].Header(), bad.Blocks[2].Header(), 0)
		good2b := bad.Rosters["R1"].Link(t, bad.Blocks[0].Header(), bad.Blocks[2].Header(), 0)
		require.NoError(t, s.Append(bad.Blocks[2], good2, good2b))
		require.NoError(t, s.Append(bad.Blocks[3], bad.Into[3]...), "R1 signs the roster change to R2")
		err := s.Append(bad.Blocks[4], bad.Into[4]...)
		require.ErrorIs(t, err, skipchain.ErrInvalidLink, "block 3's links are R2's to sign, not R1's")
	})
}

func TestStoreLinkAddedLater(t *testing.T) {
	c := buildChain(t, "roster R1 4; genesis; blocks 1..3; b4 missing-link 2->4 missing-link 0->4; blocks 5..9")
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 9)
		_, err := s.Link(2, 1)
		require.ErrorIs(t, err, skipchain.ErrUnknownLink)

		p, err := skipchain.BuildProof(s, 2, false)
		require.NoError(t, err)
		assert.Equal(t, []uint8{0, 0, 2, 0}, levels(p), "2→3→4→8→9 without the link 2→4")

		r1 := c.Rosters["R1"]
		missing := r1.Link(t, c.Blocks[2].Header(), c.Blocks[4].Header(), 0)
		require.NoError(t, s.AddLink(missing))
		require.NoError(t, s.AddLink(missing), "adding it again is a no-op")
		p, err = skipchain.BuildProof(s, 2, false)
		require.NoError(t, err)
		assert.Equal(t, []uint8{1, 2, 0}, levels(p), "2→4→8→9 once the link exists")

		// A link between unknown blocks, or not valid, is refused.
		byWrongRoster := chaintest.NewSigners(t, "intruder", 4).Link(t, c.Blocks[2].Header(), c.Blocks[4].Header(), 0)
		require.ErrorIs(t, s.AddLink(byWrongRoster), skipchain.ErrInvalidLink)
	})
}

// Re-appending a stored block adds only links into that block: a link elsewhere is
// refused and not stored, even when it is valid and missing from the store.
func TestStoreReappendAddsOnlyLinksIntoTheBlock(t *testing.T) {
	c := buildChain(t, scriptLinear)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		for i := 1; i <= 8; i++ {
			require.NoError(t, s.Append(c.Blocks[i], c.Into[i][0]), "block %d with its level-0 link only", i)
		}
		into8 := c.Into[8][3] // 0 → 8 at level 3, valid and not stored
		require.Equal(t, uint64(0), into8.FromIndex())

		err := s.Append(c.Blocks[4], into8)
		require.ErrorIs(t, err, skipchain.ErrInvalidLink)
		assert.Contains(t, err.Error(), "carried with block 4")
		assert.Contains(t, err.Error(), "does not lead into it")
		_, err = s.Link(0, 3)
		require.ErrorIs(t, err, skipchain.ErrUnknownLink, "the link was not stored")

		// A stored link into another block, or a link into a fork, is refused too.
		require.ErrorIs(t, s.Append(c.Blocks[4], c.Into[3][0]), skipchain.ErrInvalidLink)

		// The links into the block itself are added, as before.
		require.NoError(t, s.Append(c.Blocks[8], c.Into[8]...))
		l, err := s.Link(0, 3)
		require.NoError(t, err)
		assert.True(t, into8.Equal(l))
	})
}

func levels(p *skipchain.Proof) []uint8 {
	var out []uint8
	for _, h := range p.Hops() {
		out = append(out, h.Level)
	}
	return out
}

func TestStoreFork(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 6)
		fork := c.Forks[4]

		err := s.Append(fork.Block, fork.Into...)
		var fe *skipchain.ForkError
		require.True(t, errors.As(err, &fe), "got %v", err)
		require.NoError(t, fe.Verify())
		assert.Equal(t, uint64(3), fe.From.Index())
		assert.ElementsMatch(t, []skipchain.ID{c.Blocks[4].ID(), fork.Block.ID()}, []skipchain.ID{fe.A.To(), fe.B.To()})

		// Published evidence checks out with nothing else.
		parsed, err := skipchain.ParseForkEvidence(fe.Encode())
		require.NoError(t, err)
		assert.Equal(t, fe.Encode(), parsed.Encode())

		// A higher-level link to the fork is a fork too.
		err = s.AddLink(fork.Into[2]) // 0 → 4 at level 2
		require.True(t, errors.As(err, &fe), "got %v", err)
		assert.Equal(t, uint64(0), fe.From.Index())

		// Without a valid signature a different block is no evidence, only an error.
		err = s.Append(fork.Block)
		require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
		require.False(t, errors.As(err, &fe))
		forged := chaintest.NewSigners(t, "intruder", 4).Link(t, c.Blocks[3].Header(), fork.Block.Header(), 0)
		err = s.Append(fork.Block, forged)
		require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
		require.False(t, errors.As(err, &fe))

		// Nothing of the fork was stored.
		b4, err := s.Block(4)
		require.NoError(t, err)
		assert.Equal(t, c.Blocks[4].ID(), b4.ID())
		l, err := s.Link(0, 2)
		require.NoError(t, err)
		assert.Equal(t, c.Blocks[4].ID(), l.To())
	})
}

// A store keeps the roster of a block it accepted, weights and all: reading it back
// gives the same *Roster.
func TestStoreKeepsAppendedRoster(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 6)
		r, err := s.Roster(c.Blocks[6].Roster().ID())
		require.NoError(t, err)
		assert.Same(t, c.Blocks[6].Roster(), r)
	})
}

// A different block at a stored index without a valid signature is refused with
// the reason its links failed, or with "carries no link".
func TestStoreConflictingBlockReason(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	fork := c.Forks[4].Block
	forged := c.Rosters["R2"].Link(t, c.Blocks[3].Header(), fork.Header(), 0)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 6)
		err := s.Append(fork, forged)
		require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
		require.ErrorIs(t, err, skipchain.ErrInvalidLink, "the link's failure is the reason")
		err = s.Append(fork)
		require.ErrorIs(t, err, skipchain.ErrInvalidBlock)
		require.NotErrorIs(t, err, skipchain.ErrInvalidLink)
		assert.Contains(t, err.Error(), "carries no link")
	})
}

// Links of the block just past the head are unknown, not an empty list.
func TestStoreLinksPastHead(t *testing.T) {
	c := buildChain(t, scriptLinear)
	eachStore(t, func(t *testing.T, newStore func(*skipchain.Block) skipchain.Store) {
		s := newStore(c.Genesis())
		c.AppendTo(t, s, 1, 4)
		_, err := s.Links(5)
		require.ErrorIs(t, err, skipchain.ErrUnknownBlock)
	})
}
