package cachedpoint

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing"
	"go.dedis.ch/kyber/v3/suites"
	"go.dedis.ch/onet/v3/network"
)

// The two identity groups in use: the simulation's Ed25519, the node's BN256 G2.
func groups() map[string]network.Suite {
	return map[string]network.Suite{
		"Ed25519":  suites.MustFind("Ed25519"),
		"bn256.G2": pairing.NewSuiteBn256(),
	}
}

// A Point encodes, prints and compares exactly as the point it wraps, also after it
// changes (every setter drops what was kept).
func TestPointBehavesAsItsPoint(t *testing.T) {
	for name, s := range groups() {
		t.Run(name, func(t *testing.T) {
			x := s.Scalar().Pick(s.RandomStream())
			raw := s.Point().Mul(x, nil)
			c := Of(s.Point()).Mul(x, nil)
			same := func(raw kyber.Point, c kyber.Point) {
				t.Helper()
				want, err := raw.MarshalBinary()
				require.NoError(t, err)
				got, err := c.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, want, got)
				require.Equal(t, raw.String(), c.String())
				require.True(t, c.Equal(raw))
				require.True(t, c.Equal(Of(raw.Clone())))
			}
			same(raw, c)
			same(raw, c) // from what was kept

			// The kept encoding is not the caller's to change.
			b, _ := c.MarshalBinary()
			b[0] ^= 0xff
			same(raw, c)

			y := s.Scalar().Pick(s.RandomStream())
			other := s.Point().Mul(y, nil)
			require.False(t, c.Equal(other))
			require.False(t, c.Equal(Of(other)))

			for _, step := range []struct {
				name string
				do   func(p kyber.Point, arg kyber.Point) kyber.Point
			}{
				{"Add", func(p, a kyber.Point) kyber.Point { return p.Add(p, a) }},
				{"Sub", func(p, a kyber.Point) kyber.Point { return p.Sub(p, a) }},
				{"Neg", func(p, a kyber.Point) kyber.Point { return p.Neg(p) }},
				{"Mul", func(p, a kyber.Point) kyber.Point { return p.Mul(y, p) }},
				{"Set", func(p, a kyber.Point) kyber.Point { return p.Set(a) }},
				{"Base", func(p, a kyber.Point) kyber.Point { return p.Base() }},
				{"Null", func(p, a kyber.Point) kyber.Point { return p.Null() }},
			} {
				step.do(raw, other)
				require.Same(t, c, step.do(c, Of(other)), step.name)
				same(raw, c)
			}

			enc, err := other.MarshalBinary()
			require.NoError(t, err)
			require.NoError(t, c.UnmarshalBinary(enc))
			same(other, c)

			clone := c.Clone()
			c.Add(c, Of(other))
			same(other, clone)
		})
	}
}

// A Point in a server identity is encoded byte for byte as a plain one, and decodes
// to an equal identity whose key is a Point.
func TestServerIdentityEncoding(t *testing.T) {
	for name, s := range groups() {
		t.Run(name, func(t *testing.T) {
			x := s.Scalar().Pick(s.RandomStream())
			addr := network.NewTCPAddress("127.0.0.1:7000")
			plain := network.NewServerIdentity(s.Point().Mul(x, nil), addr)
			cached := network.NewServerIdentity(Of(s.Point().Mul(x, nil)), addr)
			require.Equal(t, plain.ID, cached.ID)
			want, err := network.Marshal(plain)
			require.NoError(t, err)
			got, err := network.Marshal(cached)
			require.NoError(t, err)
			require.Equal(t, want, got)
			_, msg, err := network.Unmarshal(got, s)
			require.NoError(t, err)
			back := msg.(*network.ServerIdentity)
			require.IsType(t, &Point{}, back.Public, "decoded identities are Points too")
			require.Equal(t, plain.GetID(), back.GetID())
			require.True(t, cached.Equal(back), "a tree's identity compared with a connection's")
		})
	}
}

// FuzzUnmarshal: a Point accepts exactly the bytes its point accepts, and then
// encodes as it does.
func FuzzUnmarshal(f *testing.F) {
	for _, s := range groups() {
		b, _ := s.Point().Pick(s.RandomStream()).MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, s := range groups() {
			raw, c := s.Point(), Of(s.Point())
			errRaw, errC := raw.UnmarshalBinary(b), c.UnmarshalBinary(b)
			require.Equal(t, errRaw == nil, errC == nil)
			if errRaw == nil {
				want, _ := raw.MarshalBinary()
				got, _ := c.MarshalBinary()
				require.Equal(t, want, got)
			}
		}
	})
}

// BenchmarkEqual compares two identities as onet does on every message received.
func BenchmarkEqual(b *testing.B) {
	for name, s := range groups() {
		x := s.Scalar().Pick(s.RandomStream())
		for _, kind := range []string{"plain", "cached"} {
			p, q := s.Point().Mul(x, nil), s.Point().Mul(x, nil)
			if kind == "cached" {
				p, q = Of(p), Of(q)
			}
			b.Run(name+"/"+kind, func(b *testing.B) {
				for i := 0; i < b.N; i++ {
					if !p.Equal(q) {
						b.Fatal("not equal")
					}
				}
			})
		}
	}
}
