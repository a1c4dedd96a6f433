package cosi

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math/big"
	"math/bits"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// This file re-implements, from docs/wire-format.md alone and with math/big, the two
// parts of the signature scheme that are easiest to get wrong: hashing a message to
// G1 and the BDN coefficients (with BLAKE2s written out from RFC 7693, so that the
// XOF's parameter blocks are those the document gives, not x/crypto's). kyber is used
// only to decode points and for scalar multiplication. The known-answer signatures
// in testdata/vectors.json must come out of it.

var (
	specP, _ = new(big.Int).SetString("65000549695646603732796438742359905742825358107623003571877145026864184071783", 10)
	specQ, _ = new(big.Int).SetString("65000549695646603732796438742359905742570406053903786389881062969044166799969", 10)
)

// specHashToG1 is wire-format.md's hash to G1: x = SHA-256(m) read big-endian, mod p;
// while x³ + 3 has no square root mod p, x = x + 1 mod p; y = (x³ + 3)^((p+1)/4) mod p.
func specHashToG1(m []byte) []byte {
	h := sha256.Sum256(m)
	x := new(big.Int).SetBytes(h[:])
	x.Mod(x, specP)
	exp := new(big.Int).Add(specP, big.NewInt(1))
	exp.Rsh(exp, 2)
	for {
		t := new(big.Int).Exp(x, big.NewInt(3), specP)
		t.Add(t, big.NewInt(3)).Mod(t, specP)
		y := new(big.Int).Exp(t, exp, specP)
		if new(big.Int).Mod(new(big.Int).Mul(y, y), specP).Cmp(t) == 0 {
			out := x.FillBytes(make([]byte, 64)[:32])
			return append(out, y.FillBytes(make([]byte, 32))...)
		}
		x.Add(x, big.NewInt(1)).Mod(x, specP)
	}
}

// BLAKE2s (RFC 7693) with a caller-supplied parameter block.
var b2IV = [8]uint32{0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A, 0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19}

var b2Sigma = [10][16]int{
	{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
	{14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
	{11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
	{7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
	{9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
	{2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
	{12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
	{13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
	{6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
	{10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0},
}

func b2Compress(h *[8]uint32, block []byte, counter uint64, last bool) {
	var m [16]uint32
	for i := range m {
		m[i] = binary.LittleEndian.Uint32(block[4*i:])
	}
	var v [16]uint32
	copy(v[:8], h[:])
	copy(v[8:], b2IV[:])
	v[12] ^= uint32(counter)
	v[13] ^= uint32(counter >> 32)
	if last {
		v[14] = ^v[14]
	}
	g := func(a, b, c, d int, x, y uint32) {
		v[a] = v[a] + v[b] + x
		v[d] = bits.RotateLeft32(v[d]^v[a], -16)
		v[c] = v[c] + v[d]
		v[b] = bits.RotateLeft32(v[b]^v[c], -12)
		v[a] = v[a] + v[b] + y
		v[d] = bits.RotateLeft32(v[d]^v[a], -8)
		v[c] = v[c] + v[d]
		v[b] = bits.RotateLeft32(v[b]^v[c], -7)
	}
	for r := 0; r < 10; r++ {
		s := b2Sigma[r]
		g(0, 4, 8, 12, m[s[0]], m[s[1]])
		g(1, 5, 9, 13, m[s[2]], m[s[3]])
		g(2, 6, 10, 14, m[s[4]], m[s[5]])
		g(3, 7, 11, 15, m[s[6]], m[s[7]])
		g(0, 5, 10, 15, m[s[8]], m[s[9]])
		g(1, 6, 11, 12, m[s[10]], m[s[11]])
		g(2, 7, 8, 13, m[s[12]], m[s[13]])
		g(3, 4, 9, 14, m[s[14]], m[s[15]])
	}
	for i := range h {
		h[i] ^= v[i] ^ v[i+8]
	}
}

// b2Hash is unkeyed BLAKE2s of data with the 32-byte parameter block param; the
// output is param[0] bytes long.
func b2Hash(param [32]byte, data []byte) []byte {
	var h [8]uint32
	for i := range h {
		h[i] = b2IV[i] ^ binary.LittleEndian.Uint32(param[4*i:])
	}
	var counter uint64
	for len(data) > 64 {
		counter += 64
		b2Compress(&h, data[:64], counter, false)
		data = data[64:]
	}
	var last [64]byte
	copy(last[:], data)
	counter += uint64(len(data))
	b2Compress(&h, last[:], counter, true)
	out := make([]byte, 32)
	for i := range h {
		binary.LittleEndian.PutUint32(out[4*i:], h[i])
	}
	return out[:param[0]]
}

// specCoefficients is wire-format.md's BDN coefficients: BLAKE2Xs, no key, XOF
// length 65535 ("unknown"), over the concatenated keys; 16-byte chunks read
// little-endian and reduced mod 2¹²⁸ − 1.
func specCoefficients(keys [][]byte) []*big.Int {
	var root [32]byte
	root[0], root[2], root[3] = 32, 1, 1             // digest length, fanout, depth
	binary.LittleEndian.PutUint16(root[12:], 0xffff) // XOF length: unknown
	var in []byte
	for _, k := range keys {
		in = append(in, k...)
	}
	h0 := b2Hash(root, in)
	var stream []byte
	for i := uint32(0); len(stream) < 16*len(keys); i++ {
		var p [32]byte
		p[0] = 32                                     // digest length
		binary.LittleEndian.PutUint32(p[4:], 32)      // leaf length
		binary.LittleEndian.PutUint32(p[8:], i)       // node offset
		binary.LittleEndian.PutUint16(p[12:], 0xffff) // XOF length
		p[15] = 32                                    // inner length
		stream = append(stream, b2Hash(p, h0)...)
	}
	mod := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))
	out := make([]*big.Int, len(keys))
	for i := range out {
		le := stream[16*i : 16*i+16]
		be := make([]byte, 16)
		for j := range le {
			be[15-j] = le[j]
		}
		out[i] = new(big.Int).Mod(new(big.Int).SetBytes(be), mod)
	}
	return out
}

func TestSpecReimplementation(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "vectors.json"))
	require.NoError(t, err)
	var v vectors
	require.NoError(t, json.Unmarshal(raw, &v))
	msg := []byte(v.Message)

	// Hash to G1, against cosi.
	for _, m := range [][]byte{msg, nil, []byte("a"), []byte("chainiac/v1/forward-link")} {
		require.Equal(t, hex.EncodeToString(encodePoint(hashToG1(m))), hex.EncodeToString(specHashToG1(m)), "H(%q)", m)
	}

	// Coefficients, against cosi's (and so kyber's sign/bdn).
	var keys [][]byte
	var pubs []PublicKey
	for _, h := range v.PublicKeys {
		b, err := hex.DecodeString(h)
		require.NoError(t, err)
		keys = append(keys, b)
		pk, err := ParsePublicKey(b)
		require.NoError(t, err)
		pubs = append(pubs, pk)
	}
	coefs := specCoefficients(keys)
	for i, c := range bdnCoefficients(pubs) {
		b, err := c.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, coefs[i].String(), new(big.Int).SetBytes(b).String(), "coefficient %d", i)
	}

	// The known-answer signature by members 0, 1 and 3, from the private keys: the sum
	// of ((c_i + 1)·x_i mod q)·H(m), then u16 n and the bitmap 0b1011.
	hm := suite.G1().Point()
	require.NoError(t, hm.UnmarshalBinary(specHashToG1(msg)))
	sum := new(big.Int)
	for _, i := range []int{0, 1, 3} {
		x, ok := new(big.Int).SetString(v.PrivateKeys[i], 16)
		require.True(t, ok)
		w := new(big.Int).Add(coefs[i], big.NewInt(1))
		sum.Add(sum, w.Mul(w, x))
	}
	s := suite.G1().Scalar().SetBytes(sum.Mod(sum, specQ).FillBytes(make([]byte, 32)))
	sig := append(encodePoint(suite.G1().Point().Mul(s, hm)), 0, 4, 0x0b)
	require.Equal(t, v.Threshold, hex.EncodeToString(sig))
}

// TestSpecConstants checks the curve constants wire-format.md gives: the generators'
// encodings, that they lie on y² = x³ + 3 and on the twist y² = x³ + 3/(i + 3) over
// F_p² = F_p[i]/(i² + 1) (an element a·i + b written a ‖ b), and that q is their order.
func TestSpecConstants(t *testing.T) {
	g1 := "0000000000000000000000000000000000000000000000000000000000000001" +
		"8fb501e34aa387f9aa6fecb86184dc21ee5b88d120b5b59e185cac6c5e089665"
	g2 := "2ecca446ff6f3d4d03c76e9b5c752f28bc37b364cb05ac4a37eb32e1c3245970" +
		"8f25386f72c9462b81597d65ae2092c4b97792155dcdaad32b8a6dd41792534c" +
		"2db10ef5233b0fe3962b9ee6a4bbc2b5bde01a54f3513d42df972e128f31bf12" +
		"274e5747e8cafacc3716cc8699db79b22f0e4ff3c23e898f694420a3be3087a5"
	require.Equal(t, g1, hex.EncodeToString(encodePoint(suite.G1().Point().Base())))
	require.Equal(t, g2, hex.EncodeToString(encodePoint(suite.G2().Point().Base())))
	el := func(h string, i int) *big.Int {
		b, _ := hex.DecodeString(h[64*i : 64*i+64])
		return new(big.Int).SetBytes(b)
	}
	mod := func(v *big.Int) *big.Int { return v.Mod(v, specP) }

	x, y := el(g1, 0), el(g1, 1)
	require.Equal(t, "1", x.String())
	require.Equal(t, new(big.Int).Sub(specP, big.NewInt(2)), y) // y = −2
	rhs := mod(new(big.Int).Add(new(big.Int).Exp(x, big.NewInt(3), specP), big.NewInt(3)))
	require.Equal(t, rhs, mod(new(big.Int).Mul(y, y)))

	type fp2 struct{ a, b *big.Int } // a·i + b
	mul := func(u, v fp2) fp2 {
		return fp2{
			mod(new(big.Int).Add(new(big.Int).Mul(u.a, v.b), new(big.Int).Mul(u.b, v.a))),
			mod(new(big.Int).Sub(new(big.Int).Mul(u.b, v.b), new(big.Int).Mul(u.a, v.a))),
		}
	}
	// 3/(i + 3) = 3·(3 − i)/10.
	inv10 := new(big.Int).ModInverse(big.NewInt(10), specP)
	twistB := fp2{mod(new(big.Int).Mul(big.NewInt(-3), inv10)), mod(new(big.Int).Mul(big.NewInt(9), inv10))}
	X, Y := fp2{el(g2, 0), el(g2, 1)}, fp2{el(g2, 2), el(g2, 3)}
	x3 := mul(mul(X, X), X)
	lhs := mul(Y, Y)
	require.Equal(t, lhs.a, mod(new(big.Int).Add(x3.a, twistB.a)))
	require.Equal(t, lhs.b, mod(new(big.Int).Add(x3.b, twistB.b)))

	// q·G = O: (q − 1)·G = −G.
	qm1 := suite.G1().Scalar().SetBytes(new(big.Int).Sub(specQ, big.NewInt(1)).FillBytes(make([]byte, 32)))
	require.True(t, suite.G1().Point().Mul(qm1, nil).Equal(suite.G1().Point().Neg(suite.G1().Point().Base())))
	require.True(t, suite.G2().Point().Mul(qm1, nil).Equal(suite.G2().Point().Neg(suite.G2().Point().Base())))
}
