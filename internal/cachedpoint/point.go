package cachedpoint

import (
	"bytes"
	"crypto/cipher"
	"io"
	"sync/atomic"

	"go.dedis.ch/kyber/v3"
)

// Point is a kyber.Point whose binary encoding and String are computed once and kept
// until the point changes. Like any kyber.Point it may be read from several
// goroutines at once, but not changed while it is read.
type Point struct {
	p   kyber.Point
	enc atomic.Pointer[[]byte] // nil until computed, and after every change
	str atomic.Pointer[string]
}

var _ kyber.Point = (*Point)(nil)

// Of wraps p (or returns it, if it is wrapped already).
func Of(p kyber.Point) *Point {
	if c, ok := p.(*Point); ok {
		return c
	}
	return &Point{p: p}
}

// unwrap returns the point a Point wraps, or q itself.
func unwrap(q kyber.Point) kyber.Point {
	if c, ok := q.(*Point); ok {
		return c.p
	}
	return q
}

// changed drops the kept encodings and returns c, as kyber's setters do.
func (c *Point) changed() *Point {
	c.enc.Store(nil)
	c.str.Store(nil)
	return c
}

func (c *Point) encoding() ([]byte, error) {
	if b := c.enc.Load(); b != nil {
		return *b, nil
	}
	b, err := c.p.MarshalBinary()
	if err != nil {
		return nil, err
	}
	c.enc.Store(&b)
	return b, nil
}

// MarshalBinary returns a copy of the kept encoding: callers may change it.
func (c *Point) MarshalBinary() ([]byte, error) {
	b, err := c.encoding()
	return bytes.Clone(b), err
}

func (c *Point) UnmarshalBinary(b []byte) error {
	defer c.changed()
	return c.p.UnmarshalBinary(b)
}

func (c *Point) String() string {
	if s := c.str.Load(); s != nil {
		return *s
	}
	s := c.p.String()
	c.str.Store(&s)
	return s
}

func (c *Point) MarshalSize() int { return c.p.MarshalSize() }

func (c *Point) MarshalTo(w io.Writer) (int, error) {
	b, err := c.encoding()
	if err != nil {
		return 0, err
	}
	return w.Write(b)
}

func (c *Point) UnmarshalFrom(r io.Reader) (int, error) {
	defer c.changed()
	return c.p.UnmarshalFrom(r)
}

// Equal compares encodings, as kyber's BN256 and Ed25519 points do.
func (c *Point) Equal(q kyber.Point) bool {
	mine, err := c.encoding()
	if err != nil {
		return false
	}
	var theirs []byte
	if o, ok := q.(*Point); ok {
		theirs, err = o.encoding()
	} else {
		theirs, err = q.MarshalBinary()
	}
	return err == nil && bytes.Equal(mine, theirs)
}

func (c *Point) Null() kyber.Point                   { c.p.Null(); return c.changed() }
func (c *Point) Base() kyber.Point                   { c.p.Base(); return c.changed() }
func (c *Point) Pick(rand cipher.Stream) kyber.Point { c.p.Pick(rand); return c.changed() }
func (c *Point) Set(q kyber.Point) kyber.Point       { c.p.Set(unwrap(q)); return c.changed() }
func (c *Point) Clone() kyber.Point                  { return &Point{p: c.p.Clone()} }
func (c *Point) EmbedLen() int                       { return c.p.EmbedLen() }
func (c *Point) Data() ([]byte, error)               { return c.p.Data() }

func (c *Point) Embed(data []byte, rand cipher.Stream) kyber.Point {
	c.p.Embed(data, rand)
	return c.changed()
}

func (c *Point) Add(a, b kyber.Point) kyber.Point {
	c.p.Add(unwrap(a), unwrap(b))
	return c.changed()
}

func (c *Point) Sub(a, b kyber.Point) kyber.Point {
	c.p.Sub(unwrap(a), unwrap(b))
	return c.changed()
}

func (c *Point) Neg(a kyber.Point) kyber.Point { c.p.Neg(unwrap(a)); return c.changed() }

func (c *Point) Mul(s kyber.Scalar, q kyber.Point) kyber.Point {
	if q != nil {
		q = unwrap(q)
	}
	c.p.Mul(s, q)
	return c.changed()
}

// MarshalID is the wrapped point's type tag, which onet's encoding writes before the
// point: a Point is encoded exactly as the point it wraps.
func (c *Point) MarshalID() [8]byte {
	if m, ok := c.p.(interface{ MarshalID() [8]byte }); ok {
		return m.MarshalID()
	}
	return [8]byte{}
}
