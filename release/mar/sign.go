package mar

import (
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"
)

// MinSigningKeyBits is the smallest RSA key Sign accepts. Mozilla uses
// 4096-bit keys for algorithm 2.
const MinSigningKeyBits = 2048

// Sign writes the unsigned archive a with one algorithm-2 signature (RSA
// PKCS#1 v1.5 over SHA-384) per key, in the order given. Because every
// signature covers the whole signature block's shape, all signatures of a
// file are made together. a is read twice: once to hash, once to copy.
func Sign(dst io.Writer, a *Archive, keys ...*rsa.PrivateKey) error {
	if len(a.sigs) != 0 {
		return fmt.Errorf("%w; strip it before signing", ErrSigned)
	}
	if len(keys) == 0 || len(keys) > MaxSignatures {
		return fmt.Errorf("mar: sign: %d keys, need 1 to %d", len(keys), MaxSignatures)
	}
	sigs := make([]Signature, len(keys))
	for i, k := range keys {
		if k == nil || k.N == nil {
			return fmt.Errorf("mar: sign: key %d is nil", i)
		}
		if bits := k.N.BitLen(); bits < MinSigningKeyBits || k.Size() > MaxSignatureSize {
			return fmt.Errorf("mar: sign: key %d has %d bits, need %d to %d", i, bits, MinSigningKeyBits, 8*MaxSignatureSize)
		}
		// The signed bytes depend only on the signature lengths, so
		// placeholders of the right length give the final digest.
		sigs[i] = Signature{Algorithm: RSASHA384, Data: make([]byte, k.Size())}
	}
	h := sha512.New384()
	if err := a.writeWithSignatures(h, sigs, false); err != nil {
		return err
	}
	digest := h.Sum(nil)
	for i, k := range keys {
		// PKCS#1 v1.5 signing is deterministic; crypto/rsa ignores the
		// random source.
		data, err := rsa.SignPKCS1v15(nil, k, crypto.SHA384, digest)
		if err != nil {
			return fmt.Errorf("mar: sign with key %d: %w", i, err)
		}
		sigs[i].Data = data
	}
	return a.writeWithSignatures(dst, sigs, true)
}

// Verify checks that a carries at least one signature and that every
// signature verifies with at least one of keys. It reads the signed bytes
// once, in bounded memory, whatever the archive's size.
func Verify(a *Archive, keys ...*rsa.PublicKey) error {
	if len(a.sigs) == 0 {
		return ErrUnsigned
	}
	if len(keys) == 0 {
		return errors.New("mar: verify: no public keys given")
	}
	for i, k := range keys {
		if k == nil || k.N == nil {
			return fmt.Errorf("mar: verify: key %d is nil", i)
		}
	}
	hashes := map[Algorithm]hash.Hash{}
	for i, s := range a.sigs {
		switch s.Algorithm {
		case RSASHA1:
			hashes[RSASHA1] = sha1.New()
		case RSASHA384:
			hashes[RSASHA384] = sha512.New384()
		default:
			return &SignatureError{Index: i, Algorithm: s.Algorithm, Err: ErrUnknownAlgorithm}
		}
	}
	writers := make([]io.Writer, 0, len(hashes))
	for _, h := range hashes {
		writers = append(writers, h)
	}
	sink := io.MultiWriter(writers...)
	buf := make([]byte, copyBufferSize)
	for _, r := range a.signedRanges() {
		n, err := io.CopyBuffer(sink, r, buf)
		if err == nil && n != r.Size() {
			// The file ended before the size it was opened with: not a bad signature.
			err = fmt.Errorf("read %d of %d bytes: %w", n, r.Size(), io.ErrUnexpectedEOF)
		}
		if err != nil {
			return fmt.Errorf("mar: verify: read signed bytes: %w", err)
		}
	}
	for i, s := range a.sigs {
		h := crypto.SHA1
		if s.Algorithm == RSASHA384 {
			h = crypto.SHA384
		}
		digest := hashes[s.Algorithm].Sum(nil)
		if !verifiesWithAny(keys, h, digest, s.Data) {
			return &SignatureError{Index: i, Algorithm: s.Algorithm, Err: ErrBadSignature}
		}
	}
	return nil
}

func verifiesWithAny(keys []*rsa.PublicKey, h crypto.Hash, digest, sig []byte) bool {
	for _, k := range keys {
		if rsa.VerifyPKCS1v15(k, h, digest, sig) == nil {
			return true
		}
	}
	return false
}
