package release

import (
	"crypto/ed25519"
	"fmt"
	"io"
)

// Signer holds one developer's Ed25519 private key.
type Signer struct {
	priv ed25519.PrivateKey
	pub  DeveloperKey
}

// GenerateDeveloperKey makes a new key from rand (crypto/rand.Reader in production).
func GenerateDeveloperKey(rand io.Reader) (*Signer, error) {
	_, priv, err := ed25519.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("release: generate developer key: %w", err)
	}
	return NewSigner(priv.Seed())
}

// NewSigner restores a signer from its 32-byte Ed25519 seed.
func NewSigner(seed []byte) (*Signer, error) {
	if len(seed) != ed25519.SeedSize {
		return nil, fmt.Errorf("release: developer key seed: %d bytes, want %d", len(seed), ed25519.SeedSize)
	}
	s := &Signer{priv: ed25519.NewKeyFromSeed(seed)}
	copy(s.pub[:], s.priv.Public().(ed25519.PublicKey))
	return s, nil
}

// Public returns the developer's public key, as listed in a policy.
func (s *Signer) Public() DeveloperKey { return s.pub }

// Seed returns the private seed, for writing a key file.
func (s *Signer) Seed() []byte { return s.priv.Seed() }

// SignManifest checks that sm carries a valid manifest and adds this developer's
// signature over its exact bytes, replacing an earlier one by the same key. Refusing
// to sign bytes that do not parse keeps a developer from approving what a node would
// refuse anyway.
func (s *Signer) SignManifest(sm *SignedManifest) error {
	if _, err := ParseManifest(sm.Manifest); err != nil {
		return fmt.Errorf("release: refusing to sign: %w", err)
	}
	sm.Signatures = withSignature(sm.Signatures, s.sign(sm.Manifest))
	return nil
}

// SignPolicyChange checks that the statement parses (chain, sequence, previous and
// next policy) and adds this developer's signature.
func (s *Signer) SignPolicyChange(c *PolicyChange) error {
	if _, err := parseChangeStatement(c.Statement); err != nil {
		return fmt.Errorf("release: refusing to sign: %w", err)
	}
	c.Signatures = withSignature(c.Signatures, s.sign(c.Statement))
	return nil
}

func (s *Signer) sign(msg []byte) Signature {
	sig := Signature{Key: s.pub}
	copy(sig.Signature[:], ed25519.Sign(s.priv, msg))
	return sig
}
