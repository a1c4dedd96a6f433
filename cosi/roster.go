package cosi

import (
	"bytes"
	"fmt"

	"go.dedis.ch/kyber/v3"
	"golang.org/x/crypto/blake2s"
)

// MaxRosterSize bounds rosters, and with them every mask a decoder accepts.
const MaxRosterSize = 4096

// Roster is an ordered set of distinct public keys with their BDN weights.
//
// BDN makes aggregation safe against rogue keys by weighting each key with a
// coefficient c_i derived from the whole roster. Computing those coefficients is the
// expensive part of aggregation, so a Roster computes the weighted keys (c_i+1)·pk_i
// once; the aggregate key of any subset is then point additions only. A Roster is
// immutable and safe for concurrent use; callers keep one per roster, not one per
// signature.
type Roster struct {
	keys     []PublicKey
	index    map[[PublicKeySize]byte]int
	coefs    []kyber.Scalar // c_i + 1
	weighted []kyber.Point  // (c_i + 1)·pk_i
	total    kyber.Point    // Σ weighted
	id       RosterID
}

// NewRoster builds a roster. Keys must be valid (non-zero) and distinct: a signer
// counts once, by key.
func NewRoster(keys []PublicKey) (*Roster, error) {
	if len(keys) < 1 || len(keys) > MaxRosterSize {
		return nil, fmt.Errorf("cosi: roster of %d keys, want 1 to %d", len(keys), MaxRosterSize)
	}
	r := &Roster{
		keys:     append([]PublicKey(nil), keys...),
		index:    make(map[[PublicKeySize]byte]int, len(keys)),
		coefs:    make([]kyber.Scalar, len(keys)),
		weighted: make([]kyber.Point, len(keys)),
		total:    suite.G2().Point().Null(),
		id:       rosterID(keys),
	}
	for i, k := range keys {
		if k.IsZero() {
			return nil, fmt.Errorf("cosi: roster key %d is not set", i)
		}
		if j, dup := r.index[k.raw]; dup {
			return nil, fmt.Errorf("cosi: roster keys %d and %d are the same key", j, i)
		}
		r.index[k.raw] = i
	}
	one := suite.G2().Scalar().One()
	for i, c := range bdnCoefficients(keys) {
		r.coefs[i] = c.Add(c, one)
		r.weighted[i] = suite.G2().Point().Mul(r.coefs[i], keys[i].point)
		r.total.Add(r.total, r.weighted[i])
	}
	return r, nil
}

// bdnCoefficients derives BDN's per-key coefficients exactly as kyber's sign/bdn does:
// a BLAKE2s XOF over the concatenated keys, 16 little-endian bytes per key. Matching
// kyber keeps our signatures verifiable by sign/bdn (the tests check this).
func bdnCoefficients(keys []PublicKey) []kyber.Scalar {
	h, err := blake2s.NewXOF(blake2s.OutputLengthUnknown, nil)
	if err != nil {
		panic("cosi: blake2s: " + err.Error()) // only for bad parameters
	}
	for _, k := range keys {
		h.Write(k.raw[:])
	}
	out := make([]byte, 16*len(keys))
	if _, err := h.Read(out); err != nil {
		panic("cosi: blake2s: " + err.Error()) // the XOF has no length limit set
	}
	coefs := make([]kyber.Scalar, len(keys))
	for i := range coefs {
		le := out[i*16 : (i+1)*16]
		be := make([]byte, 16)
		for j := range le {
			be[15-j] = le[j]
		}
		// kyber reduces the chunk modulo 2¹²⁸ − 1: only the all-ones chunk changes.
		if bytes.Count(be, []byte{0xff}) == len(be) {
			be = make([]byte, 16)
		}
		coefs[i] = suite.G2().Scalar().SetBytes(be)
	}
	return coefs
}

// Len is the number of members.
func (r *Roster) Len() int { return len(r.keys) }

// Key returns the i-th key.
func (r *Roster) Key(i int) PublicKey { return r.keys[i] }

// Keys returns a copy of the keys in roster order.
func (r *Roster) Keys() []PublicKey { return append([]PublicKey(nil), r.keys...) }

// Index returns the position of a key in the roster.
func (r *Roster) Index(k PublicKey) (int, bool) {
	i, ok := r.index[k.raw]
	return i, ok
}

// aggregateKey is Σ (c_i+1)·pk_i over the mask. When most members took part it
// subtracts the absentees from the cached total, so a nearly full signature costs only
// a handful of additions whatever the roster size.
func (r *Roster) aggregateKey(m Mask) kyber.Point {
	count := m.Count()
	if 2*count > m.n {
		agg := r.total.Clone()
		for i := 0; i < m.n; i++ {
			if !m.Has(i) {
				agg.Sub(agg, r.weighted[i])
			}
		}
		return agg
	}
	agg := suite.G2().Point().Null()
	for i := 0; i < m.n; i++ {
		if m.Has(i) {
			agg.Add(agg, r.weighted[i])
		}
	}
	return agg
}
