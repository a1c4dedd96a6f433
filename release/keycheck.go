package release

import (
	"bytes"
	"fmt"

	"filippo.io/edwards25519"
)

// crypto/ed25519 accepts any 32 bytes as a public key and verifies without a cofactor.
// A small-order key (the identity above all) lets anyone forge "signatures" by it, so a
// policy admits only keys that are canonical encodings of points of prime order L,
// which every key made by ed25519.GenerateKey is. The check runs on admission only
// (NewPolicy), with filippo.io/edwards25519, the arithmetic crypto/ed25519 itself
// uses.

// checkPublicKey rejects encodings that are not canonical, not on the curve, the
// identity, or not in the prime-order subgroup.
func checkPublicKey(k DeveloperKey) error {
	p, err := new(edwards25519.Point).SetBytes(k[:])
	if err != nil {
		return fmt.Errorf("key %s: not a point on the curve", k)
	}
	// SetBytes accepts non-canonical encodings (y ≥ p, a sign bit on x = 0); only the
	// one encoding of each point is admitted.
	if !bytes.Equal(p.Bytes(), k[:]) {
		return fmt.Errorf("key %s: non-canonical encoding", k)
	}
	identity := edwards25519.NewIdentityPoint()
	if p.Equal(identity) == 1 {
		return fmt.Errorf("key %s: identity point", k)
	}
	// [L]P = [L−1]P + P is the identity exactly when P is in the subgroup of order L.
	minusOne := edwards25519.NewScalar().Subtract(edwards25519.NewScalar(), scalarOne())
	q := new(edwards25519.Point).ScalarMult(minusOne, p)
	if q.Add(q, p).Equal(identity) != 1 {
		return fmt.Errorf("key %s: not in the prime-order subgroup", k)
	}
	return nil
}

func scalarOne() *edwards25519.Scalar {
	one := [32]byte{1}
	s, err := edwards25519.NewScalar().SetCanonicalBytes(one[:])
	if err != nil {
		panic(err) // 1 is canonical
	}
	return s
}
