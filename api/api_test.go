package api

import (
	"bytes"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPaths(t *testing.T) {
	var g skipchain.ID
	for i := range g {
		g[i] = byte(0xa0 + i)
	}
	root := "/v1/chains/" + g.String() + "/"
	cases := []struct {
		path  string
		res   Resource
		index uint64
	}{
		{Latest(g), ResLatest, 0},
		{Timestamp(g), ResTimestamp, 0},
		{Proposals(g), ResProposals, 0},
		{Block(g, 0), ResBlock, 0},
		{Block(g, 7), ResBlock, 7},
		{Block(g, 1<<63), ResBlock, 1 << 63},
		{Header(g, 5), ResHeader, 5},
		{Payload(g, 9), ResPayload, 9},
		{Link(g, 4, 0), ResLink, 4},
		{Link(g, 8, 3), ResLink, 8},
	}
	for _, c := range cases {
		assert.True(t, len(c.path) > len(root) && c.path[:len(root)] == root)
		got, err := ParsePath(c.path)
		require.NoError(t, err, c.path)
		assert.Equal(t, g, got.Genesis)
		assert.Equal(t, c.res, got.Resource, c.path)
		assert.Equal(t, c.index, got.Index, c.path)
		assert.Equal(t, c.path, got.String())
	}
	bad := []string{
		"", "/", "/v1/chains/", root, root + "blocks/", root + "blocks/01", root + "blocks/-1",
		root + "blocks/+1", root + "blocks/18446744073709551616", root + "blocks/1/", root + "latest/",
		root + "Latest", root + "blocks/1x", "/v1/chains/" + g.String()[:62] + "/latest",
		"/v1/chains/" + bytesUpper(g.String()) + "/latest", "/v2/chains/" + g.String() + "/latest",
		root + "blocks/../latest", root + "proof", root + "links/4", root + "links/4/", root + "links/4/01",
		root + "links/4/64", root + "links/04/1", root + "headers/", root + "payloads/x", root + "headers/1/2",
		root + "links//1",
	}
	for _, p := range bad {
		_, err := ParsePath(p)
		require.ErrorIs(t, err, ErrNotFound, p)
	}
}

func bytesUpper(s string) string { return string(bytes.ToUpper([]byte(s))) }

func TestLatestRecord(t *testing.T) {
	l := &LatestRecord{Index: 12, ID: skipchain.ID{1, 2, 3}}
	got, err := ParseLatest(l.Encode())
	require.NoError(t, err)
	assert.Equal(t, l, got)
	enc := l.Encode()
	for i := range enc {
		_, err := ParseLatest(enc[:i])
		require.Error(t, err)
	}
	_, err = ParseLatest(append(enc, 0))
	require.Error(t, err)
}

func TestServedBlock(t *testing.T) {
	c := chaintest.Build(t, "roster R1 4; genesis; blocks 1..4")
	store := c.MemStore(t, 4)
	for i := uint64(0); i <= 4; i++ {
		b, err := store.Block(i)
		require.NoError(t, err)
		links, err := store.Links(i)
		require.NoError(t, err)
		s := &ServedBlock{Block: b, Links: links}
		got, err := ParseServedBlock(s.Encode())
		require.NoError(t, err)
		assert.Equal(t, s.Encode(), got.Encode())
		assert.Len(t, got.Links, len(links))
	}
	b2, _ := store.Block(2)
	l2, _ := store.Links(2)
	l0, _ := store.Links(0)
	require.Len(t, l0, 3, "genesis of a 4-block chain has links at levels 0, 1, 2")

	t.Run("link of another block", func(t *testing.T) {
		s := &ServedBlock{Block: b2, Links: l0[:1]}
		_, err := ParseServedBlock(s.Encode())
		require.ErrorContains(t, err, "does not leave this block")
	})
	t.Run("links out of order", func(t *testing.T) {
		g, _ := store.Block(0)
		s := &ServedBlock{Block: g, Links: []*skipchain.ForwardLink{l0[1], l0[0]}}
		_, err := ParseServedBlock(s.Encode())
		require.ErrorContains(t, err, "ascending level")
		s = &ServedBlock{Block: g, Links: []*skipchain.ForwardLink{l0[0], l0[0]}}
		_, err = ParseServedBlock(s.Encode())
		require.ErrorContains(t, err, "ascending level")
	})
	t.Run("truncated and oversized", func(t *testing.T) {
		enc := (&ServedBlock{Block: b2, Links: l2}).Encode()
		for i := 0; i < len(enc); i += 7 {
			_, err := ParseServedBlock(enc[:i])
			require.Error(t, err)
		}
		_, err := ParseServedBlock(append(bytes.Clone(enc), 0))
		require.Error(t, err)
		_, err = ParseServedBlock(make([]byte, MaxServedBlockSize+1))
		require.ErrorContains(t, err, "at most")
	})
}

func FuzzParseServedBlock(f *testing.F) {
	c := chaintest.Build(f, "roster R1 4; genesis; blocks 1..2")
	store := c.MemStore(f, 2)
	for i := uint64(0); i <= 2; i++ {
		b, _ := store.Block(i)
		links, _ := store.Links(i)
		f.Add((&ServedBlock{Block: b, Links: links}).Encode())
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		s, err := ParseServedBlock(in)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzParseLatest(f *testing.F) {
	f.Add((&LatestRecord{Index: 3}).Encode())
	f.Fuzz(func(t *testing.T, in []byte) {
		l, err := ParseLatest(in)
		if err == nil && !bytes.Equal(l.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzParsePath(f *testing.F) {
	g := skipchain.ID{9}
	f.Add(Block(g, 12))
	f.Add(Latest(g))
	f.Add(Link(g, 8, 2))
	f.Fuzz(func(t *testing.T, p string) {
		got, err := ParsePath(p)
		if err != nil {
			return
		}
		if again := got.String(); again != p {
			t.Fatalf("%q parses but is written %q", p, again)
		}
	})
}

func FuzzParseProposal(f *testing.F) {
	f.Add((&Proposal{Kind: "chainiac/v1/release", Body: []byte("x"), Source: "http://a/b"}).Encode())
	f.Add((&Proposal{Kind: "chainiac/v1/roster-change", Body: []byte("x"), Roster: []byte("r")}).Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		p, _, err := ParseProposal(in)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func FuzzParseGenesisRequest(f *testing.F) {
	c := chaintest.Build(f, "roster R1 4; genesis")
	store := c.MemStore(f, 0)
	g, _ := store.Block(0)
	f.Add((&GenesisRequest{Genesis: g}).Encode())
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseGenesisRequest(in)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}

func TestParseProposalRefuses(t *testing.T) {
	cases := []struct {
		p    Proposal
		want string
	}{
		{Proposal{Kind: "chainiac/v1/other"}, "kind"},
		{Proposal{Kind: "chainiac/v1/release", Body: []byte("x"), Source: "http://a"}, "signed manifest"},
		{Proposal{Kind: "chainiac/v1/policy-change", Body: []byte("x")}, "policy change"},
		{Proposal{Kind: "chainiac/v1/roster-change", Body: []byte("x"), Roster: []byte("r")}, "roster change"},
	}
	for _, c := range cases {
		_, _, err := ParseProposal(c.p.Encode())
		require.ErrorContains(t, err, c.want)
	}
	_, _, err := ParseProposal(make([]byte, MaxProposalSize+1))
	require.ErrorContains(t, err, "at most")
	enc := (&Proposal{Kind: "chainiac/v1/release", Body: []byte("x"), Source: "http://a"}).Encode()
	for i := range enc {
		_, _, err := ParseProposal(enc[:i])
		require.Error(t, err)
	}
}

// A caller that knows which block it asked for refuses another one on its header,
// before the roster's keys are decoded.
func TestParseServedBlockOfChecksIDFirst(t *testing.T) {
	c := chaintest.Build(t, "roster R1 4; genesis; blocks 1..2")
	b := c.Blocks[2]
	sb := (&ServedBlock{Block: b}).Encode()
	got, err := ParseServedBlockOf(nil, sb, b.ID())
	require.NoError(t, err)
	assert.Equal(t, b.ID(), got.Block.ID())
	_, err = ParseServedBlockOf(nil, sb, c.Blocks[1].ID())
	require.ErrorContains(t, err, "not "+c.Blocks[1].ID().Short())

}
