package cosi_test

import (
	"fmt"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testrand"
)

func Example() {
	rnd := testrand.New("chainiac example: cosi") // nodes use crypto/rand.Reader
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
