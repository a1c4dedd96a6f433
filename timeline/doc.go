// Package timeline gives the blocks of a chainiac skipchain their meaning: what each
// kind of block carries (the genesis, a release, a roster change, a developer policy
// change), the rules a block must obey to follow the chain as it stands, and the
// cosigned timestamp that names the newest block. The node applies these rules before
// it signs, the updater and the monitor apply the same rules to what they fetch.
//
// Start with NewGenesis and NewState, then State.Apply for every block in order:
//
//	st, _ := timeline.NewState(genesis)
//	for _, b := range blocks {
//		change, err := st.Apply(b) // the block's payload obeys the rules in force
//	}
//
// # Payloads
//
// The genesis payload fixes the product and the first developer policy. Every other
// block's payload is an envelope that points back at the block whose payload set the
// developer policy in force (so a client that skipped blocks finds that policy by
// back-links, without trusting a mirror) and at the newest earlier release (so a head
// that is a roster or policy change still leads to the newest release), then carries
// the body its kind names: a signed manifest, a roster change or a policy change, all
// defined in package release. The encodings are in docs/wire-format.md.
//
// # Trust model
//
// State.Check checks only what the payload says against the state: developer
// signatures under the policy in force, versions that only move forward, pointers
// that match the chain, roster changes the developers agreed to and that keep the
// cothority's threshold at n − ⌊(n−1)/3⌋ or above. The chain structure (back-links,
// heights) and the roster's collective signatures are skipchain's job; the rebuild
// check is release/build's. A State only moves forward: Check decides on a block
// without changing anything, Apply moves the state to it.
package timeline
