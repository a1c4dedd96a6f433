package skipchain_test

import (
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckLink(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	// Block 12 brings in R3; its links come from 11 (level 0), 10 (1) and 8 (2), all R2's.
	for i := 1; i < len(c.Blocks); i++ {
		for _, l := range c.Into[i] {
			require.NoError(t, skipchain.CheckLink(c.Blocks[l.FromIndex()], c.Blocks[i].Header(), l), "link %d→%d", l.FromIndex(), i)
		}
	}
	l := c.Into[12][2] // 8 → 12, level 2, names R3
	require.Equal(t, uint64(8), l.FromIndex())
	lvl, err := l.Level(c.Params)
	require.NoError(t, err)
	assert.Equal(t, 2, lvl)
	assert.Equal(t, c.Rosters["R3"].Roster.ID(), l.RosterID())
	from, to := c.Blocks[8], c.Blocks[12].Header()

	r2, r3 := c.Rosters["R2"], c.Rosters["R3"]
	msg := l.SignedMessage()
	link := func(sig *cosi.Signature) *skipchain.ForwardLink {
		nl, err := skipchain.NewForwardLink(from.Header(), to, sig)
		require.NoError(t, err)
		return nl
	}
	tooFew := link(r2.Sign(t, msg, r2.Roster.Threshold()-1))
	byNewRoster := link(r3.Sign(t, msg, 0))
	// The roster cannot be swapped without the signature: a link naming R2 for
	// block 12 is a different message.
	otherRosterMsg := skipchain.LinkMessage(from.ID(), to.ID(), to.Index(), r2.Roster.ID())
	forOtherRoster := link(r2.Sign(t, otherRosterMsg, 0))

	for _, tc := range []struct {
		name string
		from *skipchain.Block
		to   *skipchain.Header
		link *skipchain.ForwardLink
		want error
		msg  string
	}{
		{"wrong from", c.Blocks[9], to, l, skipchain.ErrInvalidLink, "leaves block 8"},
		{"wrong to", from, c.Blocks[16].Header(), l, skipchain.ErrInvalidLink, "reaches block 12"},
		{"fork target", c.Blocks[3], c.Forks[4].Block.Header(), c.Into[4][0], skipchain.ErrInvalidLink, "reaches block 4"},
		{"below threshold", from, to, tooFew, cosi.ErrThreshold, "signature by roster"},
		{"signed by the new roster", from, to, byNewRoster, cosi.ErrBitmapLength, "signature by roster"},
		{"roster swapped", from, to, forOtherRoster, cosi.ErrInvalidSignature, "signature"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := skipchain.CheckLink(tc.from, tc.to, tc.link)
			require.ErrorIs(t, err, skipchain.ErrInvalidLink)
			require.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestLinkLevel(t *testing.T) {
	p := skipchain.Params{Base: 2, MaxHeight: 4}
	c := buildChain(t, "params 2 4; roster R1 3; genesis; blocks 1..3")
	// Every link of a real chain spans B^level.
	for i := 1; i < len(c.Blocks); i++ {
		for _, l := range c.Into[i] {
			lvl, err := l.Level(p)
			require.NoError(t, err)
			assert.Equal(t, l.ToIndex()-l.FromIndex(), p.Span(lvl))
		}
	}
	_, err := skipchain.NewForwardLink(c.Blocks[2].Header(), c.Blocks[1].Header(), c.Into[1][0].Signature())
	require.ErrorIs(t, err, skipchain.ErrInvalidLink)
	// 1 → 3 is not a link: block 1 has height 1.
	l := c.Rosters["R1"].Link(t, c.Blocks[1].Header(), c.Blocks[3].Header(), 0)
	_, err = l.Level(p)
	require.ErrorIs(t, err, skipchain.ErrInvalidLink)
	require.ErrorIs(t, skipchain.CheckLink(c.Blocks[1], c.Blocks[3].Header(), l), skipchain.ErrInvalidLink)
}

func TestLinkRoundTrip(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	for i := 1; i < len(c.Blocks); i++ {
		for _, l := range c.Into[i] {
			parsed, err := skipchain.ParseForwardLink(l.Encode())
			require.NoError(t, err)
			assert.True(t, l.Equal(parsed))
			assert.Equal(t, l.SignedMessage(), parsed.SignedMessage())
		}
	}
}

// Every single-byte change of an encoded link is refused, by the decoder or by
// CheckLink against the blocks it claims to join.
func TestLinkMangling(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	l := c.Into[12][1] // 10 → 12, signed by R2, names R3
	from, to := c.Blocks[10], c.Blocks[12].Header()
	enc := l.Encode()
	require.NoError(t, skipchain.CheckLink(from, to, l))
	for i := range enc {
		for _, delta := range []byte{1, 0x80} {
			bad := append([]byte(nil), enc...)
			bad[i] ^= delta
			parsed, err := skipchain.ParseForwardLink(bad)
			if err == nil {
				err = skipchain.CheckLink(from, to, parsed)
			}
			require.Error(t, err, "byte %d ^ %#x accepted", i, delta)
		}
	}
}

func TestParseForwardLinkMalformed(t *testing.T) {
	c := buildChain(t, scriptLinear)
	enc := c.Into[2][1].Encode()
	for _, tc := range []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"truncated", enc[:len(enc)-1]},
		{"trailing", append(append([]byte(nil), enc...), 0)},
		{"too long", make([]byte, skipchain.MaxLinkSize+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := skipchain.ParseForwardLink(tc.b)
			require.ErrorIs(t, err, skipchain.ErrMalformed)
		})
	}
}
