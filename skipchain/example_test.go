package skipchain_test

import (
	"fmt"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/skipchain"
)

// A chain of three members grows to block 6; a client that knows only the genesis
// verifies an update proof to the newest block.
func Example() {
	rnd := testrand.New("chainiac example: skipchain") // nodes use crypto/rand.Reader
	var keys []*cosi.PrivateKey
	var members []skipchain.Member
	for i := 0; i < 3; i++ {
		k, _ := cosi.GenerateKey(rnd)
		keys = append(keys, k)
		members = append(members, skipchain.Member{Key: k.Public(), Address: fmt.Sprintf("tls://node%d.example.org:7770", i)})
	}
	roster, _ := skipchain.NewRoster(members, cosi.DefaultThreshold(3))
	weights, _ := roster.Cosi()

	// sign gathers every member's share of the signature on a link.
	sign := func(from, to *skipchain.Header) *skipchain.ForwardLink {
		msg := skipchain.LinkMessage(from.ID(), to.ID(), to.Index(), to.RosterID())
		var shares []*cosi.Signature
		for _, k := range keys {
			s, _ := k.Sign(weights, msg)
			shares = append(shares, s)
		}
		sig, _ := cosi.Aggregate(shares...)
		l, _ := skipchain.NewForwardLink(from, to, sig)
		return l
	}

	genesis, _ := skipchain.NewGenesis(skipchain.DefaultParams(), roster, "example", []byte("genesis"))
	store, _ := skipchain.NewMemStore(genesis)
	for i := uint64(1); i <= 6; i++ {
		// The new block links back to the blocks LinksInto names, and each of those
		// signs its forward link to it.
		var back []*skipchain.Header
		for _, pos := range genesis.Header().Params().LinksInto(i) {
			h, _ := store.Header(pos.From)
			back = append(back, h)
		}
		b, _ := skipchain.NewBlock(genesis.Header(), back, roster, "example", fmt.Appendf(nil, "release %d", i))
		var links []*skipchain.ForwardLink
		for _, from := range back {
			links = append(links, sign(from, b.Header()))
		}
		if err := store.Append(b, links...); err != nil {
			fmt.Println(err)
		}
	}

	proof, _ := skipchain.BuildProof(store, 0, true)
	wire := proof.Encode()

	// The client side: parse and verify with nothing but the genesis.
	received, _ := skipchain.ParseProof(wire)
	head, _, err := received.Verify(genesis.Header(), genesis.Roster())
	payload, _ := received.Payload()
	fmt.Println("verify:", err)
	fmt.Println("head:", head.Index(), string(payload))
	for _, h := range received.Hops() {
		fmt.Print("level ", h.Level, "; ")
	}
	fmt.Println()
	// Output:
	// verify: <nil>
	// head: 6 release 6
	// level 2; level 1;
}
