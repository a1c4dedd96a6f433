package cosi_test

import (
	"crypto/sha256"
	"fmt"

	"github.com/chainiac/chainiac/cosi"
)

// seeded is a deterministic randomness source for the example; nodes use crypto/rand.
type seeded struct{ n byte }

func (s *seeded) Read(p []byte) (int, error) {
	for i := range p {
		h := sha256.Sum256([]byte{s.n})
		p[i] = h[0]
		s.n++
	}
	return len(p), nil
}

func Example() {
	rnd := &seeded{}
	var keys []*cosi.PrivateKey
	var pubs []cosi.PublicKey
	for i := 0; i < 4; i++ {
		k, _ := cosi.GenerateKey(rnd)
		keys = append(keys, k)
		pubs = append(pubs, k.Public())
	}
	roster, _ := cosi.NewRoster(pubs)
	msg := []byte("release 13.0.1")

	// Three of four members sign; their shares aggregate into one signature.
	var shares []*cosi.Signature
	for _, k := range keys[:3] {
		s, _ := k.Sign(roster, msg)
		shares = append(shares, s)
	}
	sig, _ := cosi.Aggregate(shares...)

	policy := cosi.DefaultPolicy(roster.Len())
	fmt.Println("threshold:", policy.Threshold)
	fmt.Println("signers:", sig.Mask().Members())
	fmt.Println("verify:", cosi.Verify(roster, msg, sig, policy))
	fmt.Println("other message:", cosi.Verify(roster, []byte("release 13.0.2"), sig, policy))
	// Output:
	// threshold: 3
	// signers: [0 1 2]
	// verify: <nil>
	// other message: cosi: signature does not verify
}
