package release

import "fmt"

// TagSignedManifest is the domain tag of a signed-manifest encoding.
const TagSignedManifest = "chainiac/v1/signed-manifest"

// SignedManifest is a manifest encoding with developer signatures. Each signature is
// an Ed25519 signature over Manifest, the exact manifest encoding, which begins with
// its own tag "chainiac/v1/manifest": that tag is the domain separation.
type SignedManifest struct {
	Manifest   []byte
	Signatures []Signature
}

// NewSignedManifest validates m and starts a signed manifest with no signatures.
func NewSignedManifest(m *Manifest) (*SignedManifest, error) {
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &SignedManifest{Manifest: m.Encode()}, nil
}

// Encode returns the canonical encoding, signatures ascending by key:
//
//	tag "chainiac/v1/signed-manifest"
//	bytes manifest (the manifest encoding, at most MaxManifestSize)
//	u32 count, then per signature: fixed[32] key, fixed[64] signature
func (s *SignedManifest) Encode() []byte {
	return encodeEnvelope(TagSignedManifest, s.Manifest, s.Signatures)
}

// ParseSignedManifest decodes the envelope only. It does not parse or trust the
// manifest: pass the result to Policy.VerifyManifest.
func ParseSignedManifest(b []byte) (*SignedManifest, error) {
	body, sigs, err := decodeEnvelope(b, TagSignedManifest, "signed manifest", MaxManifestSize)
	if err != nil {
		return nil, err
	}
	return &SignedManifest{Manifest: body, Signatures: sigs}, nil
}

// VerifyManifest verifies, then parses: it checks that at least the threshold of
// distinct policy keys signed the exact manifest bytes, and only then decodes and
// validates the manifest. Below the threshold the error is a *ThresholdError
// (errors.Is ErrThreshold) naming unknown keys and invalid signatures.
func (p *Policy) VerifyManifest(s *SignedManifest) (*Manifest, error) {
	if len(s.Manifest) > MaxManifestSize {
		return nil, fmt.Errorf("release: manifest: %d bytes, at most %d", len(s.Manifest), MaxManifestSize)
	}
	if err := p.verifySignatures("manifest", s.Manifest, s.Signatures); err != nil {
		return nil, err
	}
	return ParseManifest(s.Manifest)
}
