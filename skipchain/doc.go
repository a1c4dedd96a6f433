// Package skipchain is chainiac's timeline: a chain of blocks with back-links (hashes)
// for integrity and collectively signed forward links at several heights, so that a
// client that knows only the genesis block catches up on k missed blocks with
// O(log k) signature checks. It is data and rules only: no network, no clock.
//
// Start with BuildProof and Proof.Verify, and with a Store (NewMemStore,
// CreateBoltStore, OpenBoltStore) for keeping a chain:
//
//	proof, _ := skipchain.BuildProof(store, clientIndex, true)  // server side
//	head, roster, err := proof.Verify(trustedHeader, trustedRoster) // client side
//
// # Blocks and heights
//
// A block is a Header, the Roster that signs the links leaving it, and a payload.
// The block ID is the SHA-256 of the header alone, which commits to the roster by its
// ID and to the payload by its SHA-256. With parameters base B and maximum height H
// (Params; defaults 2 and 32), block i has height 1 + (times B divides i), capped at
// H; the genesis has height H. A block of height h has, for each level ℓ < h, a
// back-link to block i − B^ℓ (in its header) and a forward link to block i + B^ℓ
// (signed later, when that block is added). Params.LinksInto lists the links a new
// block needs; all of them are signed when it is added.
//
// # Forward links and roster changes
//
// A ForwardLink is the collective signature, by the roster of its from block, over
// LinkMessage: from ID, to ID, to index and the target's roster ID. A roster change
// is therefore authorised by the old roster, and a client needs no intermediate
// header to learn the next roster.
//
// # Update proofs
//
// A Proof carries the start, one Hop per forward link (level, target ID, signature,
// and the new roster's bytes only where the roster changes), the final header and
// optionally its payload. BuildProof takes the highest stored link at each block,
// which with every link present is the shortest path. Verify checks each hop with the
// roster it trusts at that point and returns the final header and its roster.
//
// # Trust model
//
// A client trusts a header and its roster (at first, the genesis). Everything else
// comes from an untrusted server and is accepted only through signatures of rosters
// it already trusts: a link is valid if a threshold of the from block's roster
// signed it. Two validly signed links that name different blocks at the same position
// are proof that the roster misbehaved: ForkError carries them, encoded for
// publication, and anyone can check them with ParseForkEvidence. That proves only
// that the roster in the evidence signed both; a monitor ties the evidence to the
// chain it watches with ForkError.VerifyAgainst.
//
// A process that parses blocks, proofs or evidence from peers shares one RosterCache,
// so that each roster is parsed and weighted once (about 0.7 ms per member).
//
// # Encodings
//
// Every hashed or signed byte string uses internal/wire: a domain tag
// ("chainiac/v1/roster", "chainiac/v1/block", "chainiac/v1/forward-link", ...) and
// length-prefixed fields in a fixed order. Decoders are strict and bounded. The
// formats are listed in docs/wire-format.md; testdata/vectors.json holds
// known answers.
package skipchain
