// Package release defines what a chainiac release block binds and who may propose it:
// the Manifest (source, build recipe, and the unsigned and signed MAR files of every
// target) and the developer Policy (Ed25519 keys and a threshold).
//
// Start from these:
//
//   - NewSignedManifest and Signer.SignManifest: the release team builds a manifest and
//     each developer adds a signature.
//   - Policy.VerifyManifest: a node or client checks that a threshold of distinct
//     policy keys signed, and only then parses the manifest.
//   - Policy.VerifyChange: a new policy is accepted only when a threshold of the old
//     keys signed it for this chain and this position in its sequence of changes.
//
// # Format
//
// Every encoding is built with internal/wire: a domain tag, then length-prefixed
// fields in a fixed order, one encoding per value; decoders are strict and bounded.
//
//	chainiac/v1/manifest            product, version, channel, source date epoch,
//	                                recipe, git commit (20 bytes, SHA-1 object ID),
//	                                source SHA-256, targets sorted by (platform, locale)
//	chainiac/v1/developer-policy    threshold, keys ascending
//	chainiac/v1/signed-manifest     manifest encoding, signatures ascending by key
//	chainiac/v1/policy-change       chain ID, sequence number, previous policy hash,
//	                                next policy encoding
//	chainiac/v1/signed-policy-change statement, signatures ascending by key
//	chainiac/v1/roster-change       chain ID, sequence number, previous and next
//	                                roster IDs
//	chainiac/v1/signed-roster-change statement, signatures ascending by key
//
// A developer signs, with Ed25519, exactly the manifest encoding (or the policy-change
// statement). Those bytes begin with their own domain tag, so a signature over one can
// never verify as the other, nor as any other chainiac message. The exact layouts are
// on Manifest.Encode, Policy.Encode, SignedManifest.Encode and PolicyChange.
//
// # Trust model
//
// The policy is pinned (in the genesis block). A manifest counts as proposed by the
// release team only if at least the threshold of distinct policy keys signed its exact
// bytes: a key counts once however often it signed, and keys outside the policy never
// count. Keys enter a policy only as canonical points of prime order, so no key can be
// one that verifies forged signatures. Developer signatures say what the team
// proposes; whether the MAR files really come from the named source is what the
// cothority's rebuilds check (release/build). JSON and String are display forms, never
// signed and never parsed back. RosterChange.Contents and PolicyChange.Contents read a
// statement's fields without checking signatures, so that a developer sees what they
// sign; only the Verify functions say what a change may do.
//
// This package does no I/O beyond what it is handed: no network, no files, no clock.
package release
