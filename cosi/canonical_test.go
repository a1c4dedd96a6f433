package cosi

import (
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// bn256Prime is the base field modulus of kyber's bn256.
var bn256Prime, _ = new(big.Int).SetString("65000549695646603732796438742359905742825358107623003571877145026864184071783", 10)

// plusP re-encodes the 32-byte field element at off as itself plus p, if that still fits
// in 32 bytes: the same point under a second, non-canonical encoding.
func plusP(enc []byte, off int) ([]byte, bool) {
	x := new(big.Int).SetBytes(enc[off : off+32])
	x.Add(x, bn256Prime)
	if x.BitLen() > 256 {
		return nil, false
	}
	out := append([]byte(nil), enc...)
	x.FillBytes(out[off : off+32])
	return out, true
}

// Every field element must be below p: otherwise one key has two encodings, a roster
// that dedups by encoding admits the same signer twice, and the BDN weights no longer
// match kyber's (which hashes the canonical encoding).
func TestNonCanonicalPublicKeyRejected(t *testing.T) {
	tried := 0
	for _, k := range testKeys(t, 16) {
		for off := 0; off < PublicKeySize; off += 32 {
			alt, ok := plusP(k.Public().Bytes(), off)
			if !ok {
				continue
			}
			tried++
			pk, err := ParsePublicKey(alt)
			require.ErrorIs(t, err, errNonCanonical, "key with coordinate %d + p accepted", off/32)
			require.True(t, pk.IsZero())
		}
	}
	require.Positive(t, tried)
}

// The same key under two encodings must not make a roster of two "distinct" members
// that one secret key can fill on its own.
func TestOneKeyCannotSignTwiceUnderTwoEncodings(t *testing.T) {
	for _, k := range testKeys(t, 16) {
		alt, ok := plusP(k.Public().Bytes(), 0)
		if !ok {
			continue
		}
		twin, err := ParsePublicKey(alt)
		if err != nil {
			return // refused at parsing: nothing to admit
		}
		_, err = NewRoster([]PublicKey{k.Public(), twin})
		require.Error(t, err, "roster admitted one key twice")
		return
	}
	t.Fatal("no key with a coordinate below 2^256 - p")
}

func TestNonCanonicalSignatureRejected(t *testing.T) {
	keys := testKeys(t, 4)
	r := testRoster(t, keys)
	tried := 0
	for i := 0; i < 32 && tried < 4; i++ {
		msg := []byte{byte(i)}
		enc := sign(t, keys, r, msg, upTo(4)).Encode()
		for off := 0; off < PointSize; off += 32 {
			alt, ok := plusP(enc, off)
			if !ok {
				continue
			}
			tried++
			_, err := ParseSignature(alt)
			require.ErrorIs(t, err, ErrMalformed, "signature with coordinate %d + p accepted", off/32)
		}
	}
	require.Positive(t, tried)
}
