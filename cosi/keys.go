package cosi

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"

	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/xof/blake2xb"
)

// PublicKey is a validated BLS public key. The only ways to obtain one are
// ParsePublicKey, UnmarshalText and PrivateKey.Public, so a non-zero PublicKey is
// always on the curve, in the prime-order subgroup and not the identity.
type PublicKey struct {
	raw   [PublicKeySize]byte
	point kyber.Point
}

// ParsePublicKey decodes and validates a public key.
func ParsePublicKey(b []byte) (PublicKey, error) {
	p, err := decodeG2(b)
	if err != nil {
		return PublicKey{}, fmt.Errorf("cosi: public key: %w", err)
	}
	var pk PublicKey
	copy(pk.raw[:], b)
	pk.point = p
	return pk, nil
}

// Bytes returns the canonical encoding.
func (pk PublicKey) Bytes() []byte { return append([]byte(nil), pk.raw[:]...) }

// Array returns the encoding as an array, usable as a map key: a signer is identified
// by its key, never by an index or a name.
func (pk PublicKey) Array() [PublicKeySize]byte { return pk.raw }

// IsZero reports whether pk is the zero value (no key).
func (pk PublicKey) IsZero() bool { return pk.point == nil }

// Equal reports whether two keys are the same key.
func (pk PublicKey) Equal(other PublicKey) bool { return pk.raw == other.raw }

// String returns the key in hex.
func (pk PublicKey) String() string { return hex.EncodeToString(pk.raw[:]) }

// MarshalText encodes the key in hex.
func (pk PublicKey) MarshalText() ([]byte, error) {
	if pk.IsZero() {
		return nil, errors.New("cosi: marshal of a zero public key")
	}
	return []byte(pk.String()), nil
}

// UnmarshalText decodes and validates a hex key.
func (pk *PublicKey) UnmarshalText(text []byte) error {
	if len(text) != 2*PublicKeySize {
		return fmt.Errorf("cosi: public key: %d hex digits, want %d", len(text), 2*PublicKeySize)
	}
	b := make([]byte, PublicKeySize)
	if _, err := hex.Decode(b, text); err != nil {
		return fmt.Errorf("cosi: public key: %w", err)
	}
	parsed, err := ParsePublicKey(b)
	if err != nil {
		return err
	}
	*pk = parsed
	return nil
}

// PrivateKey is a BLS signing key.
type PrivateKey struct {
	secret kyber.Scalar
	public PublicKey
}

// GenerateKey makes a key pair from rand. Tests pass a deterministic reader; nodes pass
// crypto/rand.Reader.
func GenerateKey(rand io.Reader) (*PrivateKey, error) {
	if rand == nil {
		return nil, errors.New("cosi: nil random source")
	}
	var seed [32]byte
	if _, err := io.ReadFull(rand, seed[:]); err != nil {
		return nil, fmt.Errorf("cosi: reading randomness: %w", err)
	}
	// A seeded XOF, so GenerateKey consumes exactly 32 bytes of the caller's source
	// however many times kyber's rejection sampling draws from the stream.
	x := suite.G2().Scalar().Pick(blake2xb.New(seed[:]))
	return newPrivateKey(x)
}

// ParsePrivateKey decodes a private key and derives its public key.
func ParsePrivateKey(b []byte) (*PrivateKey, error) {
	if len(b) != PrivateKeySize {
		return nil, fmt.Errorf("cosi: private key: %d bytes, want %d", len(b), PrivateKeySize)
	}
	x := suite.G2().Scalar()
	if err := x.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("cosi: private key: %w", err)
	}
	return newPrivateKey(x)
}

func newPrivateKey(x kyber.Scalar) (*PrivateKey, error) {
	if x.Equal(suite.G2().Scalar().Zero()) {
		return nil, errors.New("cosi: private key is zero")
	}
	p := suite.G2().Point().Mul(x, nil)
	k := &PrivateKey{secret: x, public: PublicKey{point: p}}
	copy(k.public.raw[:], encodePoint(p))
	return k, nil
}

// Public returns the public key.
func (k *PrivateKey) Public() PublicKey { return k.public }

// Bytes returns the canonical encoding of the secret scalar.
func (k *PrivateKey) Bytes() []byte {
	b, err := k.secret.MarshalBinary()
	if err != nil {
		panic("cosi: marshal of a scalar failed: " + err.Error())
	}
	return b
}
