package skipchain_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every size limit is inclusive: an input of exactly the limit passes the size check
// (and is then refused, here, for what it contains), one byte more is refused on
// its size alone.
func TestSizeLimitsInclusive(t *testing.T) {
	c := buildChain(t, scriptLinear)
	for _, tc := range []struct {
		name  string
		max   int
		parse func([]byte) error
	}{
		{"header", skipchain.MaxHeaderSize, func(b []byte) error { _, err := skipchain.ParseHeader(b); return err }},
		{"block", skipchain.MaxBlockSize, func(b []byte) error { _, err := skipchain.ParseBlock(b); return err }},
		{"roster", skipchain.MaxRosterEncodedSize, func(b []byte) error { _, err := skipchain.ParseRoster(b); return err }},
		{"cached roster", skipchain.MaxRosterEncodedSize, func(b []byte) error {
			_, err := skipchain.NewRosterCache(1).ParseRoster(b)
			return err
		}},
		{"link", skipchain.MaxLinkSize, func(b []byte) error { _, err := skipchain.ParseForwardLink(b); return err }},
		{"proof", skipchain.MaxProofSize, func(b []byte) error { _, err := skipchain.ParseProof(b); return err }},
		{"fork evidence", skipchain.MaxForkEvidenceSize, func(b []byte) error { _, err := skipchain.ParseForkEvidence(b); return err }},
		{"roster file", skipchain.MaxRosterTOMLSize, func(b []byte) error { _, err := skipchain.ParseRosterTOML(b); return err }},
		{"payload", skipchain.MaxPayloadSize, func(b []byte) error {
			_, err := skipchain.NewGenesis(skipchain.DefaultParams(), c.Genesis().Roster(), "test", b)
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tooBig := fmt.Sprintf("of %d bytes exceeds %d", tc.max+1, tc.max)
			err := tc.parse(make([]byte, tc.max+1))
			require.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tooBig)
			err = tc.parse(make([]byte, tc.max))
			if err != nil {
				assert.NotContains(t, err.Error(), "exceeds", "an input of exactly the limit")
			}
		})
	}
}

// The payload kind: 1 to 64 printable ASCII bytes, '!' to '~'.
func TestPayloadKindLimits(t *testing.T) {
	r := buildChain(t, scriptLinear).Genesis().Roster()
	for _, tc := range []struct {
		kind string
		ok   bool
	}{
		{"a", true},
		{strings.Repeat("k", skipchain.MaxPayloadKindLen), true},
		{"!~", true},
		{"", false},
		{strings.Repeat("k", skipchain.MaxPayloadKindLen+1), false},
		{"a b", false},
		{"a\x7f", false},
		{"a\x00", false},
	} {
		g, err := skipchain.NewGenesis(skipchain.DefaultParams(), r, tc.kind, nil)
		if !tc.ok {
			require.ErrorIs(t, err, skipchain.ErrMalformed, "%q", tc.kind)
			continue
		}
		require.NoError(t, err, "%q", tc.kind)
		h, err := skipchain.ParseHeader(g.Header().Encode())
		require.NoError(t, err)
		assert.Equal(t, tc.kind, h.PayloadKind())
	}
}

// The largest header there can be (maximum height 64, a block of height 64, the
// longest payload kind) is exactly MaxHeaderSize bytes, and parses.
func TestLargestHeader(t *testing.T) {
	s := chaintest.NewSigners(t, "largest", 1)
	p := skipchain.Params{Base: 2, MaxHeight: skipchain.MaxMaxHeight}
	g, err := skipchain.NewGenesis(p, s.Roster, strings.Repeat("k", skipchain.MaxPayloadKindLen), nil)
	require.NoError(t, err)
	// Block 2⁶³ has height 64: 64 back-links. Its header is built field by field:
	// only the sizes matter here.
	h := largeHeader(t, g.Header(), uint64(1)<<63)
	require.Len(t, h, skipchain.MaxHeaderSize)
	parsed, err := skipchain.ParseHeader(h)
	require.NoError(t, err)
	assert.Equal(t, uint32(skipchain.MaxMaxHeight), parsed.Height())
}

// largeHeader encodes the header of block index of g's chain, with every back-link
// set to g's ID, g's roster and kind, and no payload.
func largeHeader(t *testing.T, g *skipchain.Header, index uint64) []byte {
	t.Helper()
	p := g.Params()
	height := p.Height(index)
	e := wire.NewEncoder("chainiac/v1/block").Uint16(skipchain.HeaderVersion).Uint64(index).Uint32(height).
		Uint32(p.MaxHeight).Uint32(p.Base).Count(int(height))
	gid, rid, ph := g.ID(), g.RosterID(), g.PayloadHash()
	for i := uint32(0); i < height; i++ {
		e.Fixed(gid[:])
	}
	return e.Fixed(gid[:]).Fixed(rid[:]).Uint64(0).String(g.PayloadKind()).Fixed(ph[:]).Out()
}

// A roster file may list up to 4096 servers: with 4096, the error is about the first
// server's key, with 4097 about their number.
func TestRosterTOMLServerCount(t *testing.T) {
	file := func(n int) []byte {
		return []byte(strings.Repeat("[[servers]]\nAddress = \"tcp://a:1\"\nSuite = \"none\"\n", n))
	}
	_, err := skipchain.ParseRosterTOML(file(cosi.MaxRosterSize))
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	assert.Contains(t, err.Error(), "server 0")
	_, err = skipchain.ParseRosterTOML(file(cosi.MaxRosterSize + 1))
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	assert.Contains(t, err.Error(), "4097 servers")
}

// A cache of one roster keeps one.
func TestRosterCacheOfOne(t *testing.T) {
	c := skipchain.NewRosterCache(1)
	for i := 0; i < 3; i++ {
		c.Add(chaintest.NewSigners(t, fmt.Sprintf("one%d", i), 1).Roster)
	}
	assert.Equal(t, 1, c.Len())
}
