package cosi

import (
	"errors"
	"fmt"
	"math/bits"
)

// Mask records which members of a roster took part in a signature: bit i stands for
// the roster's i-th key, in byte i/8 at bit position i%8 (least significant first).
// Bits past the roster's size are always zero, so a mask has one encoding.
type Mask struct {
	n    int
	bits []byte
}

// NewMask returns an empty mask over a roster of n members.
func NewMask(n int) Mask {
	return Mask{n: n, bits: make([]byte, (n+7)/8)}
}

// parseMask decodes n bits from b, refusing a wrong length and set padding bits.
func parseMask(n int, b []byte) (Mask, error) {
	if n < 1 || n > MaxRosterSize {
		return Mask{}, fmt.Errorf("mask over %d members: %w", n, ErrBitmapLength)
	}
	if len(b) != (n+7)/8 {
		return Mask{}, fmt.Errorf("%d bytes for %d members: %w", len(b), n, ErrBitmapLength)
	}
	if r := n % 8; r != 0 && b[len(b)-1]>>r != 0 {
		return Mask{}, errors.New("bits set past the roster's end")
	}
	return Mask{n: n, bits: append([]byte(nil), b...)}, nil
}

// Len is the number of roster members the mask covers.
func (m Mask) Len() int { return m.n }

// Set marks member i as a participant.
func (m Mask) Set(i int) { m.bits[i/8] |= 1 << (i % 8) }

// Has reports whether member i took part.
func (m Mask) Has(i int) bool { return i >= 0 && i < m.n && m.bits[i/8]&(1<<(i%8)) != 0 }

// Count is the number of participants.
func (m Mask) Count() int {
	c := 0
	for _, b := range m.bits {
		c += bits.OnesCount8(b)
	}
	return c
}

// Members lists the participants' indices in increasing order.
func (m Mask) Members() []int {
	out := make([]int, 0, m.Count())
	for i := 0; i < m.n; i++ {
		if m.Has(i) {
			out = append(out, i)
		}
	}
	return out
}

// Bytes returns a copy of the bitmap.
func (m Mask) Bytes() []byte { return append([]byte(nil), m.bits...) }

// Clone returns an independent copy.
func (m Mask) Clone() Mask { return Mask{n: m.n, bits: m.Bytes()} }

// union returns m ∪ o, refusing masks over different rosters and overlaps: a signer
// counted twice would be added to the aggregate twice.
func (m Mask) union(o Mask) (Mask, error) {
	if m.n != o.n {
		return Mask{}, fmt.Errorf("masks over %d and %d members: %w", m.n, o.n, ErrBitmapLength)
	}
	out := m.Clone()
	for i, b := range o.bits {
		if out.bits[i]&b != 0 {
			return Mask{}, ErrOverlap
		}
		out.bits[i] |= b
	}
	return out, nil
}
