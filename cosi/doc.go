// Package cosi is chainiac's collective signature: one aggregate BLS signature by the
// members of a roster, with the mask of who signed, checked against a threshold policy.
// It is pure computation: no network, no clock, no global state.
//
// Start with GenerateKey, NewRoster and Verify:
//
//	roster, _ := cosi.NewRoster(publicKeys)      // validates keys, caches BDN weights
//	share, _ := key.Sign(roster, msg)            // each member, once per message
//	sig, _ := cosi.Aggregate(shares...)          // any tree of partial aggregates
//	err := cosi.Verify(roster, msg, sig, cosi.DefaultPolicy(roster.Len()))
//
// # Scheme
//
// BLS on kyber's bn256 pairing: public keys in G2 (128 bytes), signatures in G1
// (64 bytes). Plain BLS aggregation is open to rogue-key attacks, so aggregation uses
// BDN (Boneh, Drijvers, Neven 2018) coefficients c_i, derived from the whole roster
// exactly as kyber's sign/bdn derives them; the tests check that sign/bdn verifies our
// signatures. A member signs with its weighted secret (c_i+1)·x_i, so partial
// signatures add up with plain point additions, and the Roster caches the weighted keys
// (c_i+1)·pk_i, so the key for any mask is a few additions. Verification is one pairing
// check computed as two Miller loops and one final exponentiation.
//
// # Trust model
//
// A PublicKey is validated when parsed: canonically encoded (kyber accepts coordinates
// above the field prime), on the curve, in the prime-order subgroup (which kyber does
// not check for G2) and not the identity. A roster refuses duplicate
// keys: a signer counts once, by key. A signature is valid only if its mask covers the
// roster, at least the policy's threshold signed, and the aggregate verifies. The
// default threshold n − ⌊(n−1)/3⌋ tolerates ⌊(n−1)/3⌋ faulty members.
//
// bn256 gives about 100-bit security and kyber's arithmetic on it is not constant
// time; all curve-specific code is in bn256.go so that another curve can replace it.
//
// # Encoding
//
// A Signature encodes as the 64-byte G1 point, the roster size as a big-endian u16 and
// the bitmap of ⌈n/8⌉ bytes, bit i of the roster in byte i/8 at bit i%8; padding bits
// are zero. Public keys are kyber's 128-byte G2 encoding, private keys a 32-byte
// big-endian scalar below the group order.
package cosi
