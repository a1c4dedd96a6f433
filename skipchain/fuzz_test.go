package skipchain_test

import (
	"bytes"
	"testing"

	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
)

// fuzzSeeds returns the valid encodings of the known-answer chain, as seed corpus.
type fuzzSeeds struct {
	chain                                   *chaintest.Chain
	headers, blocks, links, rosters, proofs [][]byte
	fork                                    []byte
}

func seeds(f *testing.F) fuzzSeeds {
	c := chaintest.Build(f, vectorScript)
	s := c.MemStore(f, 3)
	out := fuzzSeeds{chain: c}
	for i, b := range c.Blocks {
		out.headers = append(out.headers, b.Header().Encode())
		out.blocks = append(out.blocks, b.Encode())
		for _, l := range c.Into[i] {
			out.links = append(out.links, l.Encode())
		}
	}
	for _, r := range c.Rosters {
		out.rosters = append(out.rosters, r.Roster.Encode())
	}
	for from := uint64(0); from <= 3; from++ {
		for _, withPayload := range []bool{false, true} {
			p, err := skipchain.BuildProof(s, from, withPayload)
			if err != nil {
				f.Fatal(err)
			}
			out.proofs = append(out.proofs, p.Encode())
		}
	}
	fe, err := skipchain.NewForkError(c.Blocks[2], c.Into[3][0], c.Forks[3].Into[0])
	if err != nil {
		f.Fatal(err)
	}
	out.fork = fe.Encode()
	return out
}

func addAll(f *testing.F, corpus [][]byte) {
	for _, b := range corpus {
		f.Add(b)
	}
	f.Add([]byte{})
}

func FuzzParseHeader(f *testing.F) {
	addAll(f, seeds(f).headers)
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := skipchain.ParseHeader(b)
		if err != nil {
			return
		}
		if !bytes.Equal(h.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}

func FuzzParseBlock(f *testing.F) {
	addAll(f, seeds(f).blocks)
	f.Fuzz(func(t *testing.T, b []byte) {
		blk, err := skipchain.ParseBlock(b)
		if err != nil {
			return
		}
		if !bytes.Equal(blk.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}

func FuzzParseForwardLink(f *testing.F) {
	s := seeds(f)
	addAll(f, s.links)
	g := s.chain.Genesis()
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := skipchain.ParseForwardLink(b)
		if err != nil {
			return
		}
		if !bytes.Equal(l.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
		// Checking whatever decodes returns rather than panics.
		_ = skipchain.VerifyLinkSignature(g.Roster(), l)
	})
}

func FuzzParseRoster(f *testing.F) {
	addAll(f, seeds(f).rosters)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := skipchain.ParseRoster(b)
		if err != nil {
			return
		}
		if !bytes.Equal(r.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}

func FuzzParseRosterTOML(f *testing.F) {
	for _, raw := range seeds(f).rosters {
		r, err := skipchain.ParseRoster(raw)
		if err != nil {
			f.Fatal(err)
		}
		text, err := r.MarshalTOML(nil)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(text)
	}
	f.Add([]byte("[[servers]]\nAddress = 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := skipchain.ParseRosterTOML(b)
		if err != nil {
			return
		}
		text, err := r.MarshalTOML(nil)
		if err != nil {
			t.Fatal(err)
		}
		again, err := skipchain.ParseRosterTOML(text)
		if err != nil || again.ID() != r.ID() {
			t.Fatalf("marshal then parse changed the roster: %v", err)
		}
	})
}

func FuzzParseProof(f *testing.F) {
	s := seeds(f)
	addAll(f, s.proofs)
	g := s.chain.Genesis()
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := skipchain.ParseProof(b)
		if err != nil {
			return
		}
		if !bytes.Equal(p.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
		_, _, _ = p.Verify(g.Header(), g.Roster())
	})
}

func FuzzParseForkEvidence(f *testing.F) {
	f.Add(seeds(f).fork)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := skipchain.ParseForkEvidence(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}

func FuzzParseLinkMessage(f *testing.F) {
	f.Add(skipchain.LinkMessage(skipchain.ID{1}, skipchain.ID{2}, 3, skipchain.ID{4}))
	f.Fuzz(func(t *testing.T, in []byte) {
		from, to, idx, roster, err := skipchain.ParseLinkMessage(in)
		if err != nil {
			return
		}
		if !bytes.Equal(skipchain.LinkMessage(from, to, idx, roster), in) {
			t.Fatalf("re-encoding differs")
		}
	})
}

// FuzzParseBlockHeader: the header alone of any block that parses is that block's
// header, and no input makes it panic.
func FuzzParseBlockHeader(f *testing.F) {
	c := chaintest.Build(f, "roster R1 4; genesis; blocks 1..3")
	for _, b := range c.Blocks {
		f.Add(b.Encode())
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := skipchain.ParseBlockHeader(b)
		blk, berr := skipchain.ParseBlock(b)
		if berr != nil {
			return
		}
		if err != nil || h.ID() != blk.ID() {
			t.Fatalf("block %s parses but its header alone gives %v", blk.ID().Short(), err)
		}
	})
}
