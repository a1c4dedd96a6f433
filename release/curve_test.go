package release

import (
	"errors"
	"math/big"
)

// An independent edwards25519 in math/big, written from RFC 8032 and the
// Hisil–Wong–Carter–Dawson formulas: the oracle the key and signature tests check
// checkPublicKey and verifyStrict (which use filippo.io/edwards25519) against, and
// the means to build the malformed points they feed them.

// curve holds edwards25519's constants.
type curve struct {
	p, d, d2, l *big.Int
}

func newCurve() *curve {
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))
	// d = −121665/121666 mod p
	d := new(big.Int).Mul(big.NewInt(-121665), new(big.Int).ModInverse(big.NewInt(121666), p))
	d.Mod(d, p)
	// l is the prime order of the base point: 2^252 + 27742317777372353535851937790883648493.
	l := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 252), mustDecimal("27742317777372353535851937790883648493"))
	d2 := new(big.Int).Lsh(d, 1)
	return &curve{p: p, d: d, d2: d2.Mod(d2, p), l: l}
}

func mustDecimal(s string) *big.Int {
	v, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic("release: bad constant " + s) // a literal in this file, never input
	}
	return v
}

// extPoint is a point in extended twisted Edwards coordinates (X:Y:Z:T), x=X/Z, y=Y/Z,
// xy=T/Z.
type extPoint struct{ x, y, z, t *big.Int }

func (c *curve) decode(k DeveloperKey) (extPoint, error) {
	var le [32]byte
	copy(le[:], k[:])
	sign := le[31] >> 7
	le[31] &= 0x7f
	be := make([]byte, 32)
	for i := range le {
		be[31-i] = le[i]
	}
	y := new(big.Int).SetBytes(be)
	if y.Cmp(c.p) >= 0 {
		return extPoint{}, errors.New("non-canonical encoding")
	}
	// x² = (y² − 1) / (d·y² + 1)
	y2 := new(big.Int).Mul(y, y)
	u := new(big.Int).Sub(y2, big.NewInt(1))
	v := new(big.Int).Add(new(big.Int).Mul(c.d, y2), big.NewInt(1))
	x2 := new(big.Int).Mul(u, new(big.Int).ModInverse(v.Mod(v, c.p), c.p))
	x2.Mod(x2, c.p)
	x := new(big.Int).ModSqrt(x2, c.p)
	if x == nil {
		return extPoint{}, errors.New("not a point on the curve")
	}
	if x.Sign() == 0 && sign == 1 {
		return extPoint{}, errors.New("non-canonical encoding of x = 0")
	}
	if uint8(x.Bit(0)) != sign {
		x.Sub(c.p, x)
	}
	t := new(big.Int).Mul(x, y)
	return extPoint{x, y, big.NewInt(1), t.Mod(t, c.p)}, nil
}

func identityPoint() extPoint {
	return extPoint{big.NewInt(0), big.NewInt(1), big.NewInt(1), big.NewInt(0)}
}

func (p extPoint) isIdentity() bool {
	return p.x.Sign() == 0 && p.y.Cmp(p.z) == 0
}

// add is the unified addition for a = −1 (Hisil–Wong–Carter–Dawson 2008), complete on
// edwards25519 because d is not a square, so it also doubles.
func (c *curve) add(p, q extPoint) extPoint {
	mod := func(v *big.Int) *big.Int { return v.Mod(v, c.p) }
	mul := func(a, b *big.Int) *big.Int { return mod(new(big.Int).Mul(a, b)) }
	a := mul(new(big.Int).Sub(p.y, p.x), new(big.Int).Sub(q.y, q.x))
	b := mul(new(big.Int).Add(p.y, p.x), new(big.Int).Add(q.y, q.x))
	cc := mul(mul(p.t, q.t), c.d2)
	d := mul(p.z, new(big.Int).Lsh(q.z, 1))
	e := mod(new(big.Int).Sub(b, a))
	f := mod(new(big.Int).Sub(d, cc))
	g := mod(new(big.Int).Add(d, cc))
	h := mod(new(big.Int).Add(b, a))
	return extPoint{mul(e, f), mul(g, h), mul(f, g), mul(e, h)}
}

func (c *curve) mul(p extPoint, s *big.Int) extPoint {
	r := identityPoint()
	for i := s.BitLen() - 1; i >= 0; i-- {
		r = c.add(r, r)
		if s.Bit(i) == 1 {
			r = c.add(r, p)
		}
	}
	return r
}

// littleEndianInt reads b as an unsigned little-endian integer.
func littleEndianInt(b []byte) *big.Int {
	be := make([]byte, len(b))
	for i := range b {
		be[len(b)-1-i] = b[i]
	}
	return new(big.Int).SetBytes(be)
}
