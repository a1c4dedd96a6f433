package release_test

import (
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"strings"

	"github.com/chainiac/chainiac/release"
)

// Two of three developers sign a manifest; a node holding the policy verifies it.
func Example() {
	// Fixed randomness only to make the output reproducible: use crypto/rand.Reader.
	var devs []*release.Signer
	for _, name := range []string{"alice", "bob", "carol"} {
		dev, err := release.GenerateDeveloperKey(strings.NewReader(strings.Repeat(name, 32)))
		if err != nil {
			panic(err)
		}
		devs = append(devs, dev)
	}
	policy, err := release.NewPolicy([]release.DeveloperKey{devs[0].Public(), devs[1].Public(), devs[2].Public()}, 2)
	if err != nil {
		panic(err)
	}

	unsigned := []byte("unsigned MAR bytes")
	signed := []byte("signed MAR bytes")
	m := &release.Manifest{
		Product: "tor-browser", Version: "14.0.1", Channel: "release",
		SourceDateEpoch: 1730419200, Recipe: "reference/v1",
		GitCommit:    release.GitCommit{0x5e, 0xed},
		SourceSHA256: sha256.Sum256([]byte("source archive bytes")),
		Targets: []release.Target{{
			Platform: "linux-x86_64", Locale: "ALL",
			UnsignedSHA256: sha256.Sum256(unsigned), UnsignedSize: uint64(len(unsigned)),
			SignedSHA512: sha512.Sum512(signed), SignedSize: uint64(len(signed)),
			URL: "https://dist.example.org/tor-browser/14.0.1/linux-x86_64.mar",
		}},
	}
	sm, err := release.NewSignedManifest(m)
	if err != nil {
		panic(err)
	}

	_ = devs[0].SignManifest(sm)
	_, err = policy.VerifyManifest(sm)
	fmt.Println("one signature:", errors.Is(err, release.ErrThreshold))

	_ = devs[2].SignManifest(sm)
	got, err := policy.VerifyManifest(sm)
	fmt.Println("two signatures:", err)
	fmt.Println(got.Product, got.Version, got.Targets[0].Key())
	// Output:
	// one signature: true
	// two signatures: <nil>
	// tor-browser 14.0.1 linux-x86_64/ALL
}

// A new policy takes effect only with a threshold of the old keys, on the chain and at
// the place in its sequence of policy changes that the developers signed for.
func ExamplePolicy_VerifyChange() {
	// The chain's genesis block ID (skipchain.ID converts to ChainID).
	chain := release.ChainID(sha256.Sum256([]byte("genesis block header")))
	var keys []release.DeveloperKey
	var devs []*release.Signer
	for _, name := range []string{"alice", "bob", "dave"} {
		dev, _ := release.GenerateDeveloperKey(strings.NewReader(strings.Repeat(name, 32)))
		devs = append(devs, dev)
		keys = append(keys, dev.Public())
	}
	old, _ := release.NewPolicy(keys[:2], 2)
	next, _ := release.NewPolicy(keys, 2)
	change, _ := release.NewPolicyChange(chain, 1, old, next) // the chain's first change
	_ = devs[0].SignPolicyChange(change)
	_ = devs[2].SignPolicyChange(change) // dave is not in the old policy
	_, err := old.VerifyChange(change, chain, 1)
	fmt.Println(errors.Is(err, release.ErrThreshold))
	_ = devs[1].SignPolicyChange(change)
	p, err := old.VerifyChange(change, chain, 1)
	fmt.Println(err, len(p.Keys()), p.Threshold())
	// Replayed later, as if it were the chain's third change, it is refused.
	_, err = old.VerifyChange(change, chain, 3)
	fmt.Println(err)
	// Output:
	// true
	// <nil> 3 2
	// release: policy change does not apply here: change number 1, expected number 3
}
