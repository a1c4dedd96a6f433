package release

import (
	"fmt"
	"slices"

	"github.com/chainiac/chainiac/internal/wire"
)

// MaxSignatures bounds the signatures on one message: every policy key once.
const MaxSignatures = MaxPolicyKeys

// Signature is one developer's Ed25519 signature.
type Signature struct {
	Key       DeveloperKey       `json:"key"`
	Signature DeveloperSignature `json:"signature"`
}

const signatureEncodingSize = 32 + 64

// sortSignatures puts signatures in the canonical order, ascending by key.
func sortSignatures(sigs []Signature) []Signature {
	out := slices.Clone(sigs)
	slices.SortStableFunc(out, func(a, b Signature) int { return compareKeys(a.Key, b.Key) })
	return out
}

// withSignature returns sigs with s added, replacing an earlier signature by the same
// key, in canonical order.
func withSignature(sigs []Signature, s Signature) []Signature {
	out := slices.DeleteFunc(slices.Clone(sigs), func(o Signature) bool { return o.Key == s.Key })
	return sortSignatures(append(out, s))
}

// encodeEnvelope is the shared form of a signed manifest and a signed policy change:
// tag, the signed bytes, then the signatures ascending by key.
func encodeEnvelope(tag string, body []byte, sigs []Signature) []byte {
	e := wire.NewEncoder(tag).Bytes(body)
	sorted := sortSignatures(sigs)
	e.Count(len(sorted))
	for _, s := range sorted {
		e.Fixed(s.Key[:]).Fixed(s.Signature[:])
	}
	return e.Out()
}

// decodeEnvelope reads what encodeEnvelope writes, refusing input over the largest
// valid envelope before decoding anything.
func decodeEnvelope(b []byte, tag, what string, maxBody int) ([]byte, []Signature, error) {
	max := 1 + len(tag) + 4 + maxBody + 4 + MaxSignatures*signatureEncodingSize
	if len(b) > max {
		return nil, nil, fmt.Errorf("release: %s: %d bytes, at most %d", what, len(b), max)
	}
	d := wire.NewDecoder(b, tag)
	body := d.Field("body").Bytes(maxBody)
	sigs := decodeSignatures(d)
	if err := d.Finish(); err != nil {
		return nil, nil, fmt.Errorf("release: %s: %w", what, err)
	}
	return body, sigs, nil
}

// decodeSignatures reads a signature list whose keys are strictly ascending: one
// signature per key and one encoding per set.
func decodeSignatures(d *wire.Decoder) []Signature {
	n := d.Field("signatures").Count(MaxSignatures, signatureEncodingSize)
	if n == 0 {
		return nil
	}
	sigs := make([]Signature, n)
	for i := range sigs {
		d.Field(fmt.Sprintf("signature %d", i))
		d.Fixed(sigs[i].Key[:])
		d.Fixed(sigs[i].Signature[:])
		if d.Err() == nil && i > 0 && compareKeys(sigs[i-1].Key, sigs[i].Key) >= 0 {
			d.Fail(fmt.Errorf("signature keys not in ascending order"))
		}
	}
	return sigs
}

// SignatureCheck is what each signature on a statement is worth under a policy: the
// distinct policy keys that signed validly, and the keys whose signatures do not
// count, outside the policy or invalid.
type SignatureCheck struct {
	Valid   []DeveloperKey `json:"valid"`
	Unknown []DeveloperKey `json:"unknown"` // not in the policy
	Invalid []DeveloperKey `json:"invalid"` // in the policy, signature does not verify
}

// CheckSignatures classifies every signature on msg. A key that signed twice is
// counted once; keys outside the policy never count.
func (p *Policy) CheckSignatures(msg []byte, sigs []Signature) SignatureCheck {
	var c SignatureCheck
	seen := make(map[DeveloperKey]bool, len(sigs))
	for _, s := range sigs {
		if seen[s.Key] {
			continue
		}
		seen[s.Key] = true
		switch {
		case !p.Contains(s.Key):
			c.Unknown = append(c.Unknown, s.Key)
		case verifyStrict(s.Key, msg, s.Signature) == nil:
			c.Valid = append(c.Valid, s.Key)
		default:
			c.Invalid = append(c.Invalid, s.Key)
		}
	}
	return c
}

// verifySignatures fails with a *ThresholdError when fewer than the threshold of
// distinct policy keys signed msg validly.
func (p *Policy) verifySignatures(what string, msg []byte, sigs []Signature) error {
	c := p.CheckSignatures(msg, sigs)
	if len(c.Valid) < p.threshold {
		return &ThresholdError{What: what, Needed: p.threshold, Valid: len(c.Valid), Unknown: c.Unknown, Invalid: c.Invalid}
	}
	return nil
}
