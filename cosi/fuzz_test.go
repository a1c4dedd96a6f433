package cosi

import (
	"bytes"
	"testing"
)

func FuzzParseSignature(f *testing.F) {
	keys := testKeys(f, 9)
	r := testRoster(f, keys)
	f.Add(sign(f, keys, r, []byte("m"), upTo(9)).Encode())
	f.Add(sign(f, keys, r, []byte("m"), []int{3}).Encode())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		sig, err := ParseSignature(b)
		if err != nil {
			return
		}
		if !bytes.Equal(sig.Encode(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
		if sig.mask.n == r.Len() {
			// Whatever the fuzzer builds, verification returns rather than panics.
			_ = VerifyPartial(r, []byte("m"), sig)
		}
	})
}

func FuzzParsePublicKey(f *testing.F) {
	f.Add(testKeys(f, 1)[0].Public().Bytes())
	f.Add(make([]byte, PublicKeySize))
	f.Fuzz(func(t *testing.T, b []byte) {
		pk, err := ParsePublicKey(b)
		if err != nil {
			return
		}
		// Re-encode the point itself: pk.Bytes() only echoes the input.
		if !bytes.Equal(encodePoint(pk.point), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}

func FuzzParsePrivateKey(f *testing.F) {
	f.Add(testKeys(f, 1)[0].Bytes())
	f.Add(make([]byte, PrivateKeySize))
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKey(b)
		if err != nil {
			return
		}
		if !bytes.Equal(k.Bytes(), b) {
			t.Fatalf("decode∘encode is not the identity for %x", b)
		}
	})
}
