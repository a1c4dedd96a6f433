package chaintest

import (
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/skipchain"
)

// detReader is a deterministic byte stream: SHA-256 in counter mode over a seed.
type detReader struct {
	seed    [32]byte
	counter uint64
	buf     []byte
}

// NewReader returns a deterministic randomness source for seed.
func NewReader(seed string) io.Reader { return &detReader{seed: sha256.Sum256([]byte(seed))} }

func (r *detReader) Read(p []byte) (int, error) {
	for i := range p {
		if len(r.buf) == 0 {
			block := sha256.Sum256(append(r.seed[:], byte(r.counter>>56), byte(r.counter>>48), byte(r.counter>>40),
				byte(r.counter>>32), byte(r.counter>>24), byte(r.counter>>16), byte(r.counter>>8), byte(r.counter)))
			r.counter++
			r.buf = block[:]
		}
		p[i] = r.buf[0]
		r.buf = r.buf[1:]
	}
	return len(p), nil
}

// Signers is a roster with its members' private keys.
type Signers struct {
	Name   string
	Roster *skipchain.Roster
	Keys   []*cosi.PrivateKey
}

// NewSigners makes a roster of n members with the default threshold, with keys
// derived from name: the same name and size always give the same roster.
func NewSigners(t testing.TB, name string, n int) *Signers {
	t.Helper()
	rnd := NewReader(fmt.Sprintf("chaintest roster %s %d", name, n))
	s := &Signers{Name: name, Keys: make([]*cosi.PrivateKey, n)}
	members := make([]skipchain.Member, n)
	for i := range s.Keys {
		k, err := cosi.GenerateKey(rnd)
		if err != nil {
			t.Fatalf("chaintest: key: %v", err)
		}
		s.Keys[i] = k
		members[i] = skipchain.Member{Key: k.Public(), Address: fmt.Sprintf("tcp://%s-%d.chaintest:7770", strings.ToLower(name), i)}
	}
	r, err := skipchain.NewRoster(members, cosi.DefaultThreshold(n))
	if err != nil {
		t.Fatalf("chaintest: roster: %v", err)
	}
	s.Roster = r
	return s
}

// Sign returns the collective signature on msg by the first count members (all of
// them if count is 0 or more than the roster).
func (s *Signers) Sign(t testing.TB, msg []byte, count int) *cosi.Signature {
	t.Helper()
	if count <= 0 || count > len(s.Keys) {
		count = len(s.Keys)
	}
	weights, err := s.Roster.Cosi()
	if err != nil {
		t.Fatalf("chaintest: %v", err)
	}
	shares := make([]*cosi.Signature, count)
	for i := range shares {
		if shares[i], err = s.Keys[i].Sign(weights, msg); err != nil {
			t.Fatalf("chaintest: sign: %v", err)
		}
	}
	sig, err := cosi.Aggregate(shares...)
	if err != nil {
		t.Fatalf("chaintest: aggregate: %v", err)
	}
	return sig
}

// Link signs the forward link from one header to another with these signers,
// whoever the from block's roster is; count as in Sign.
func (s *Signers) Link(t testing.TB, from, to *skipchain.Header, count int) *skipchain.ForwardLink {
	t.Helper()
	sig := s.Sign(t, skipchain.LinkMessage(from.ID(), to.ID(), to.Index(), to.RosterID()), count)
	l, err := skipchain.NewForwardLink(from, to, sig)
	if err != nil {
		t.Fatalf("chaintest: %v", err)
	}
	return l
}
