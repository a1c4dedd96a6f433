package cosi

import (
	"encoding/binary"
	"fmt"

	"go.dedis.ch/kyber/v3"
)

// MaxSignatureSize bounds an encoded signature: the point, the member count and the
// largest bitmap.
const MaxSignatureSize = PointSize + 2 + MaxRosterSize/8

// Signature is a collective signature, or a partial one while it is being gathered:
// the sum of the participants' weighted BLS signatures, and the mask of who took part.
//
// Encoding (no domain tag: a signature is never itself signed or hashed):
//
//	point    64 bytes, G1
//	n        u16, the roster size
//	bitmap   ⌈n/8⌉ bytes, see Mask
type Signature struct {
	point kyber.Point
	mask  Mask
}

// Mask returns a copy of the participation mask.
func (s *Signature) Mask() Mask { return s.mask.Clone() }

// Encode returns the canonical encoding.
func (s *Signature) Encode() []byte {
	out := make([]byte, 0, PointSize+2+len(s.mask.bits))
	out = append(out, encodePoint(s.point)...)
	out = binary.BigEndian.AppendUint16(out, uint16(s.mask.n))
	return append(out, s.mask.bits...)
}

// ParseSignature decodes a signature strictly: exact length, a valid non-identity
// point, no padding bits set. It does not verify it; see Verify.
func ParseSignature(b []byte) (*Signature, error) {
	if len(b) < PointSize+2 || len(b) > MaxSignatureSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	p, err := decodeG1(b[:PointSize])
	if err != nil {
		return nil, fmt.Errorf("%w: point: %v", ErrMalformed, err)
	}
	n := int(binary.BigEndian.Uint16(b[PointSize:]))
	m, err := parseMask(n, b[PointSize+2:])
	if err != nil {
		return nil, fmt.Errorf("%w: bitmap: %w", ErrMalformed, err)
	}
	return &Signature{point: p, mask: m}, nil
}

// Sign returns this key's share of a collective signature on msg by roster r: its BLS
// signature already multiplied by its BDN weight, so that aggregating shares is a plain
// point addition.
func (k *PrivateKey) Sign(r *Roster, msg []byte) (*Signature, error) {
	i, ok := r.Index(k.public)
	if !ok {
		return nil, ErrNotMember
	}
	weightedSecret := suite.G2().Scalar().Mul(r.coefs[i], k.secret)
	m := NewMask(r.Len())
	m.Set(i)
	h := hashToG1(msg)
	return &Signature{point: h.Mul(weightedSecret, h), mask: m}, nil
}

// Aggregate adds partial signatures over the same roster into one. Partials must not
// share a signer.
func Aggregate(parts ...*Signature) (*Signature, error) {
	if len(parts) == 0 {
		return nil, fmt.Errorf("%w: nothing to aggregate", ErrMalformed)
	}
	agg := &Signature{point: parts[0].point.Clone(), mask: parts[0].mask.Clone()}
	for _, p := range parts[1:] {
		m, err := agg.mask.union(p.mask)
		if err != nil {
			return nil, err
		}
		agg.mask = m
		agg.point.Add(agg.point, p.point)
	}
	return agg, nil
}
