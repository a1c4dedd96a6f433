package cosi

import (
	"bytes"
	"errors"

	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing/bn256"
)

// Everything that depends on the curve lives in this file. The rest of the package
// speaks of public keys, signature points and weights only, so a curve with
// constant-time arithmetic (BLS12-381) replaces this file and nothing else.
//
// Keys live in G2 (128 bytes), signatures in G1 (64 bytes), as in kyber's sign/bdn.

// suite is stateless and safe for concurrent use; a package-level value avoids
// re-allocating group descriptors on every call and is never mutated.
var suite = bn256.NewSuite()

const (
	// PublicKeySize is the encoded size of a public key (a G2 point).
	PublicKeySize = 128
	// PointSize is the encoded size of a signature point (a G1 point).
	PointSize = 64
	// PrivateKeySize is the encoded size of a private key (a scalar).
	PrivateKeySize = 32
)

var (
	errIdentity     = errors.New("point is the identity")
	errNotSubgroup  = errors.New("point is not in the prime-order subgroup")
	errNonCanonical = errors.New("point encoding is not canonical (a coordinate is not below p)")
)

// decodeG2 parses a public-key point and checks that it can safely be used: on the
// curve (kyber checks this), not the identity, and in the prime-order subgroup (kyber
// does not check this for G2, whose cofactor is not 1).
func decodeG2(b []byte) (kyber.Point, error) {
	if len(b) != PublicKeySize {
		return nil, errors.New("wrong length")
	}
	p := suite.G2().Point()
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if p.Equal(suite.G2().Point().Null()) {
		return nil, errIdentity
	}
	if err := requireCanonical(p, b); err != nil {
		return nil, err
	}
	// q·P = O for the group order q iff P is in the prime-order subgroup. Scalars are
	// reduced mod q, so compute (q−1)·P + P instead of q·P.
	minusOne := suite.G2().Scalar().Neg(suite.G2().Scalar().One())
	qp := suite.G2().Point().Mul(minusOne, p)
	if !qp.Add(qp, p).Equal(suite.G2().Point().Null()) {
		return nil, errNotSubgroup
	}
	return p, nil
}

// decodeG1 parses a signature point. G1 has cofactor 1, so being on the curve (checked
// by kyber) means being in the subgroup; the identity is rejected because no honest
// signer or aggregate of signers produces it.
func decodeG1(b []byte) (kyber.Point, error) {
	if len(b) != PointSize {
		return nil, errors.New("wrong length")
	}
	p := suite.G1().Point()
	if err := p.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	if p.Equal(suite.G1().Point().Null()) {
		return nil, errIdentity
	}
	if err := requireCanonical(p, b); err != nil {
		return nil, err
	}
	return p, nil
}

// requireCanonical refuses an encoding that is not the one kyber writes for p. kyber
// reads each 32-byte coordinate without checking that it is below the field prime, so
// x and x+p (when it fits in 32 bytes) decode to the same point: without this check a
// key would have two encodings, and a roster that tells keys apart by their bytes
// would admit one signer twice.
func requireCanonical(p kyber.Point, b []byte) error {
	if !bytes.Equal(encodePoint(p), b) {
		return errNonCanonical
	}
	return nil
}

func encodePoint(p kyber.Point) []byte {
	b, err := p.MarshalBinary()
	if err != nil {
		panic("cosi: marshal of a valid point failed: " + err.Error()) // cannot happen for bn256
	}
	return b
}

// isIdentityG1 reports whether p is the point at infinity: no honest aggregate is.
func isIdentityG1(p kyber.Point) bool { return p.Equal(suite.G1().Point().Null()) }

// hashToG1 maps a message to the point every signer multiplies by its key.
func hashToG1(msg []byte) kyber.Point {
	return suite.G1().Point().(hashablePoint).Hash(msg)
}

// hashablePoint is kyber's hash-to-curve method on bn256 G1 points.
type hashablePoint interface {
	Hash(msg []byte) kyber.Point
}

// millerGT exposes the two steps of bn256's pairing that kyber exports on its GT
// points, so that a check of e(a,b)·e(c,d) = 1 costs two Miller loops and a single
// final exponentiation instead of two full pairings.
type millerGT interface {
	kyber.Point
	Miller(p1, p2 kyber.Point) kyber.Point
	Finalize() kyber.Point
}

// pairingCheck reports whether e(sig, g2) = e(h, key), computed as
// e(−sig, g2)·e(h, key) = 1.
func pairingCheck(sig, h, key kyber.Point) bool {
	negSig := suite.G1().Point().Neg(sig)
	left := suite.GT().Point().(millerGT)
	left.Miller(negSig, suite.G2().Point().Base())
	right := suite.GT().Point().(millerGT)
	right.Miller(h, key)
	prod := suite.GT().Point().Add(left, right).(millerGT)
	prod.Finalize()
	return prod.Equal(suite.GT().Point().Null())
}
