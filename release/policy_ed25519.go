package release

import (
	"bytes"
	"crypto/ed25519"
	"errors"

	"filippo.io/edwards25519"
)

// Ed25519 implementations differ on edge cases (Chalkias, Garillot, Nikolaenko,
// "Taming the many EdDSAs", 2020): cofactored or cofactorless equation, whether S
// must be below L, whether R and A may be non-canonical or of small order. Two nodes
// that judge one signature differently would disagree on whether a release met its
// threshold, so chainiac accepts only signatures on which all of those rules agree:
//
//   - A, the public key, is a policy key, so checkPublicKey admitted it: the canonical
//     encoding of a point of prime order L, not the identity;
//   - S, bytes 32–63 read little-endian, is below L;
//   - R, bytes 0–31, is the canonical encoding of a point of order exactly L: not
//     the identity, no small-order component;
//   - [S]B = R + [k]A with k = SHA-512(R ‖ A ‖ message) mod L (RFC 8032, pure
//     Ed25519, R and A hashed as the bytes given).
//
// With A and R in the prime-order subgroup, the cofactored equation
// [8][S]B = [8]R + [8][k]A holds exactly when the cofactorless one does, so every
// rule above that accepts canonical inputs gives the same answer.
//
// Go's crypto/ed25519.Verify checks S < L, computes [S]B − [k]A and compares its
// canonical encoding with R's bytes (cofactorless). When the equation holds, R is
// therefore canonical and equals [S]B − [k]A, a point of the prime-order subgroup;
// the one case left is R = the identity, which ed25519.Verify accepts when S = k·a
// and which a signer produces honestly only with probability 1/L. verifyStrict
// checks S, R's encoding and R ≠ identity itself, so the rule does not rest on
// crypto/ed25519's internals, and then calls ed25519.Verify for the equation.

var (
	errSignatureS        = errors.New("S is not below the group order L")
	errSignatureRSmall   = errors.New("R is a point of small order")
	errSignatureREncoded = errors.New("R is not a canonical point encoding")
	errSignatureEquation = errors.New("the verification equation does not hold")
)

// verifyStrict reports why sig is not a valid signature of msg by key under the rule
// above, or nil. key must be a policy key (checkPublicKey has admitted it).
func verifyStrict(key DeveloperKey, msg []byte, sig DeveloperSignature) error {
	if _, err := edwards25519.NewScalar().SetCanonicalBytes(sig[32:]); err != nil {
		return errSignatureS
	}
	r, err := new(edwards25519.Point).SetBytes(sig[:32])
	if err != nil || !bytes.Equal(r.Bytes(), sig[:32]) {
		return errSignatureREncoded
	}
	if r.Equal(edwards25519.NewIdentityPoint()) == 1 {
		return errSignatureRSmall
	}
	if !ed25519.Verify(key[:], msg, sig[:]) {
		// Including an R with a small-order component: [S]B − [k]A lies in the
		// prime-order subgroup and cannot equal it.
		return errSignatureEquation
	}
	return nil
}
