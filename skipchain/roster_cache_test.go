package skipchain_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"sync"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// spoilKey replaces member i's key in an encoded roster with bytes that are not a
// point: decoding that key fails, whatever else is checked first.
func spoilKey(t *testing.T, r *skipchain.Roster, i int) []byte {
	t.Helper()
	enc := r.Encode()
	at := bytes.Index(enc, r.Member(i).Key.Bytes())
	require.Positive(t, at)
	copy(enc[at:], bytes.Repeat([]byte{0xff}, cosi.PublicKeySize))
	return enc
}

// headerNaming returns h's encoding with its roster ID replaced, parsed: a header is
// not signed, so anyone can make one that names any roster bytes.
func headerNaming(t *testing.T, h *skipchain.Header, roster []byte) *skipchain.Header {
	t.Helper()
	enc := h.Encode()
	id := h.RosterID()
	at := bytes.Index(enc, id[:])
	require.Positive(t, at)
	sum := sha256.Sum256(roster)
	copy(enc[at:], sum[:])
	out, err := skipchain.ParseHeader(enc)
	require.NoError(t, err)
	return out
}

// Fork evidence whose links have too few signers for the roster its header names
// is refused before any key of that roster is decoded: here the roster's first key
// is not even a point, and the error is about the signers, not the key.
func TestForkEvidenceSignerCountBeforeKeys(t *testing.T) {
	s := chaintest.NewSigners(t, "cheap", 4) // threshold 3
	g, err := skipchain.NewGenesis(skipchain.DefaultParams(), s.Roster, "test", nil)
	require.NoError(t, err)
	badRoster := spoilKey(t, s.Roster, 0)
	from := headerNaming(t, g.Header(), badRoster)

	evidence := func(signers int) []byte {
		var links []*skipchain.ForwardLink
		for _, payload := range []string{"one", "two"} {
			next, err := skipchain.NewBlock(from, []*skipchain.Header{from}, s.Roster, "test", []byte(payload))
			require.NoError(t, err)
			links = append(links, s.Link(t, from, next.Header(), signers))
		}
		if bytes.Compare(links[0].Encode(), links[1].Encode()) > 0 {
			links[0], links[1] = links[1], links[0]
		}
		return (&skipchain.ForkError{From: from, A: links[0], B: links[1], Roster: s.Roster}).Encode()
	}
	// The encoding carries the good roster's bytes; put the spoiled ones in (same
	// length, so the length prefix holds).
	withBadRoster := func(enc []byte) []byte {
		at := bytes.Index(enc, s.Roster.Encode())
		require.Positive(t, at)
		copy(enc[at:], badRoster)
		return enc
	}

	for _, cache := range []*skipchain.RosterCache{nil, skipchain.NewRosterCache(4)} {
		_, err = cache.ParseForkEvidence(withBadRoster(evidence(1)))
		require.ErrorIs(t, err, skipchain.ErrInvalidEvidence)
		require.NotErrorIs(t, err, skipchain.ErrMalformed, "the roster's keys were decoded: %v", err)
		assert.Contains(t, err.Error(), "signed by 1 of 4")

		// With enough signers the roster is decoded, and its bad key refused.
		_, err = cache.ParseForkEvidence(withBadRoster(evidence(3)))
		require.ErrorIs(t, err, skipchain.ErrMalformed)
		require.Zero(t, cache.Len(), "a refused roster is not cached")
	}
}

// ParseRoster checks everything that needs no curve arithmetic before it decodes
// the first key: here member 0's key is not a point, and the error must be about
// the other field.
func TestParseRosterCheapChecksFirst(t *testing.T) {
	s := chaintest.NewSigners(t, "cheap", 4)
	members := s.Roster.Members()
	for _, tc := range []struct {
		name      string
		threshold int
		mangle    func([]skipchain.Member)
		want      string
	}{
		{"threshold 0", 0, func([]skipchain.Member) {}, "threshold 0"},
		{"threshold above size", 5, func([]skipchain.Member) {}, "threshold 5"},
		{"address", 3, func(m []skipchain.Member) { m[3].Address = "udp://x:1" }, "member 3"},
		{"duplicate key", 3, func(m []skipchain.Member) { m[3].Key = m[2].Key }, "members 2 and 3"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := append([]skipchain.Member(nil), members...)
			tc.mangle(m)
			enc := rosterEncoding(tc.threshold, m)
			at := bytes.Index(enc, members[0].Key.Bytes())
			copy(enc[at:], bytes.Repeat([]byte{0xff}, cosi.PublicKeySize))
			_, err := skipchain.ParseRoster(enc)
			require.ErrorIs(t, err, skipchain.ErrMalformed)
			assert.Contains(t, err.Error(), tc.want)
			assert.NotContains(t, err.Error(), "member 0 key")
		})
	}
	_, err := skipchain.ParseRoster(spoilKey(t, s.Roster, 0))
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	assert.Contains(t, err.Error(), "member 0 key")
}

func TestRosterCache(t *testing.T) {
	rosters := make([]*skipchain.Roster, 3)
	for i := range rosters {
		rosters[i] = chaintest.NewSigners(t, fmt.Sprintf("cache%d", i), 4).Roster
	}
	c := skipchain.NewRosterCache(2)
	r0, err := c.ParseRoster(rosters[0].Encode())
	require.NoError(t, err)
	assert.NotSame(t, rosters[0], r0, "parsed from bytes")
	again, err := c.ParseRoster(rosters[0].Encode())
	require.NoError(t, err)
	assert.Same(t, r0, again, "a roster seen once is not parsed again")
	assert.Same(t, r0, c.Add(rosters[0]), "Add keeps the roster cached first")
	got, ok := c.Get(rosters[0].ID())
	require.True(t, ok)
	assert.Same(t, r0, got)

	// Bounded, least recently used out first: 0 was used after 1, so 1 goes.
	assert.Same(t, rosters[1], c.Add(rosters[1]))
	_, _ = c.Get(rosters[0].ID())
	c.Add(rosters[2])
	assert.Equal(t, 2, c.Len())
	_, ok = c.Get(rosters[1].ID())
	assert.False(t, ok, "least recently used roster evicted")
	_, ok = c.Get(rosters[0].ID())
	assert.True(t, ok)
	_, ok = c.Get(rosters[2].ID())
	assert.True(t, ok)

	_, err = c.ParseRoster(rosters[1].Encode()[1:])
	require.ErrorIs(t, err, skipchain.ErrMalformed)
	_, err = c.ParseRoster(make([]byte, skipchain.MaxRosterEncodedSize+1))
	require.ErrorIs(t, err, skipchain.ErrMalformed)

	// A nil cache parses every time.
	var none *skipchain.RosterCache
	a, err := none.ParseRoster(rosters[0].Encode())
	require.NoError(t, err)
	b, err := none.ParseRoster(rosters[0].Encode())
	require.NoError(t, err)
	assert.NotSame(t, a, b)
	assert.Same(t, rosters[0], none.Add(rosters[0]))
	assert.Zero(t, none.Len())
	assert.Equal(t, skipchain.DefaultRosterCacheSize, rosterCacheCapacity(t, skipchain.NewRosterCache(0)))
}

// rosterCacheCapacity counts how many distinct rosters c keeps.
func rosterCacheCapacity(t *testing.T, c *skipchain.RosterCache) int {
	t.Helper()
	r := chaintest.NewSigners(t, "capacity", 1).Roster
	for i := 0; i < 2*skipchain.DefaultRosterCacheSize; i++ {
		m := r.Members()
		m[0].Address = fmt.Sprintf("tcp://capacity-%d:1", i)
		ri, err := skipchain.NewRoster(m, 1)
		require.NoError(t, err)
		c.Add(ri)
	}
	return c.Len()
}

// Goroutines parsing the same roster through one cache all end up with one roster,
// whose weights are computed once.
func TestRosterCacheConcurrent(t *testing.T) {
	enc := chaintest.NewSigners(t, "concurrent", 4).Roster.Encode()
	c := skipchain.NewRosterCache(2)
	got := make([]*skipchain.Roster, 8)
	var wg sync.WaitGroup
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.ParseRoster(enc)
			if err == nil {
				_, err = r.Cosi()
			}
			assert.NoError(t, err)
			got[i] = r
		}()
	}
	wg.Wait()
	for _, r := range got[1:] {
		assert.Same(t, got[0], r)
	}
}

// The cache's ParseBlock, ParseForkEvidence and VerifyProof share rosters: what
// one parsed, the others reuse.
func TestRosterCacheShared(t *testing.T) {
	c := buildChain(t, scriptRosterChanges)
	cache := skipchain.NewRosterCache(0)

	b6, err := cache.ParseBlock(c.Blocks[6].Encode())
	require.NoError(t, err)
	b7, err := cache.ParseBlock(c.Blocks[7].Encode())
	require.NoError(t, err)
	assert.Same(t, b6.Roster(), b7.Roster())
	assert.Equal(t, 1, cache.Len())

	fe, err := cache.ParseForkEvidence(forkEvidence(t).Encode())
	require.NoError(t, err)
	r1, ok := cache.Get(c.Blocks[3].Roster().ID())
	require.True(t, ok)
	assert.Same(t, r1, fe.Roster)

	// A proof from the genesis crosses both roster changes: the rosters it adopts
	// are the cached ones, and the one it had not seen is cached once verified.
	p, err := skipchain.BuildProof(c.MemStore(t, 17), 0, false)
	require.NoError(t, err)
	_, last, err := cache.VerifyProof(p, c.Genesis().Header(), c.Genesis().Roster())
	require.NoError(t, err)
	assert.Equal(t, c.Blocks[17].Roster().ID(), last.ID())
	r3, ok := cache.Get(last.ID())
	require.True(t, ok)
	assert.Same(t, r3, last)
	_, again, err := cache.VerifyProof(p, c.Genesis().Header(), c.Genesis().Roster())
	require.NoError(t, err)
	assert.Same(t, last, again)

	// A roster whose signature fails is not adopted, nor cached: give the hop that
	// carries the first new roster another signature by the same roster.
	hop := p.Hops()[0]
	require.NotNil(t, hop.NewRoster)
	enc := p.Encode()
	other := c.Into[1][0].Signature().Encode()
	at := bytes.Index(enc, hop.Signature.Encode())
	require.Positive(t, at)
	require.Len(t, other, len(hop.Signature.Encode()))
	copy(enc[at:], other)
	bad, err := skipchain.ParseProof(enc)
	require.NoError(t, err)
	fresh := skipchain.NewRosterCache(0)
	_, _, err = fresh.VerifyProof(bad, c.Genesis().Header(), c.Genesis().Roster())
	require.ErrorIs(t, err, skipchain.ErrInvalidProof)
	assert.Zero(t, fresh.Len())
}

// rosterEncoding encodes a roster as ParseRoster reads it, valid or not.
func rosterEncoding(threshold int, members []skipchain.Member) []byte {
	e := wire.NewEncoder("chainiac/v1/roster").Uint16(uint16(threshold)).Count(len(members))
	for _, m := range members {
		e.Fixed(m.Key.Bytes()).String(m.Address)
	}
	return e.Out()
}

// Evidence from a roster whose threshold is 1, or all its members, passes the
// signer-count check with exactly that many signers.
func TestForkEvidenceThresholdBounds(t *testing.T) {
	s := chaintest.NewSigners(t, "bounds", 4)
	for _, threshold := range []int{1, 4} {
		r, err := skipchain.NewRoster(s.Roster.Members(), threshold)
		require.NoError(t, err)
		signers := &chaintest.Signers{Name: s.Name, Roster: r, Keys: s.Keys}
		g, err := skipchain.NewGenesis(skipchain.DefaultParams(), r, "test", nil)
		require.NoError(t, err)
		var links []*skipchain.ForwardLink
		for _, payload := range []string{"one", "two"} {
			next, err := skipchain.NewBlock(g.Header(), []*skipchain.Header{g.Header()}, r, "test", []byte(payload))
			require.NoError(t, err)
			links = append(links, signers.Link(t, g.Header(), next.Header(), threshold))
		}
		fe, err := skipchain.NewForkError(g, links[0], links[1])
		require.NoError(t, err)
		_, err = skipchain.ParseForkEvidence(fe.Encode())
		require.NoError(t, err, "threshold %d", threshold)
	}
}
