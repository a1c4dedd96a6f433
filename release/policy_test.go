package release

import (
	"crypto/ed25519"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestNewPolicy(t *testing.T) {
	keys := publicKeys(testSigners(t, 3))
	tooMany := make([]DeveloperKey, MaxPolicyKeys+1)
	cases := []struct {
		name      string
		keys      []DeveloperKey
		threshold int
		want      string
	}{
		{"no keys", nil, 1, "no keys"},
		{"threshold zero", keys, 0, "threshold 0 outside 1..3"},
		{"threshold negative", keys, -1, "threshold -1 outside 1..3"},
		{"threshold above keys", keys, 4, "threshold 4 outside 1..3"},
		{"duplicate", []DeveloperKey{keys[0], keys[1], keys[0]}, 2, "duplicate key " + keys[0].String()},
		{"too many", tooMany, 1, "65 keys, at most 64"},
		{"identity key", []DeveloperKey{keys[0], identityKey()}, 1, "identity point"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewPolicy(c.keys, c.threshold)
			require.ErrorIs(t, err, ErrInvalidPolicy)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	p, err := NewPolicy([]DeveloperKey{keys[2], keys[0], keys[1]}, 2)
	require.NoError(t, err)
	q, err := NewPolicy(keys, 2)
	require.NoError(t, err)
	assert.Equal(t, p.Encode(), q.Encode(), "key order does not matter")
	assert.True(t, p.Equal(q))
	assert.Equal(t, 2, p.Threshold())
	assert.Len(t, p.Keys(), 3)
	assert.True(t, p.Contains(keys[1]))
	assert.False(t, p.Contains(identityKey()))

	// The bounds are inclusive: MaxPolicyKeys keys, and a threshold of all of them.
	most := publicKeys(testSigners(t, MaxPolicyKeys))
	full, err := NewPolicy(most, MaxPolicyKeys)
	require.NoError(t, err)
	back, err := ParsePolicy(full.Encode())
	require.NoError(t, err)
	assert.True(t, full.Equal(back))
}

func TestPolicyRoundTripAndMalformed(t *testing.T) {
	keys := publicKeys(testSigners(t, 3))
	p, err := NewPolicy(keys, 2)
	require.NoError(t, err)
	enc := p.Encode()
	got, err := ParsePolicy(enc)
	require.NoError(t, err)
	assert.Equal(t, enc, got.Encode())
	assert.Equal(t, p.Hash(), got.Hash())

	sorted := p.Keys()
	swapped := append([]byte(nil), enc...)
	off := len(enc) - 3*32
	copy(swapped[off:], sorted[1][:])
	copy(swapped[off+32:], sorted[0][:])
	withThreshold := func(th byte) []byte {
		b := append([]byte(nil), enc...)
		b[1+len(TagPolicy)+3] = th
		return b
	}
	cases := []struct {
		name  string
		input []byte
		want  string
	}{
		{"keys out of order", swapped, "ascending"},
		{"threshold zero", withThreshold(0), "threshold 0"},
		{"threshold above keys", withThreshold(4), "threshold 4"},
		{"trailing", append(append([]byte(nil), enc...), 1), "trailing"},
		{"wrong tag", rawEncodeWithTag(TagManifest, enc), "domain tag"},
		{"oversized", make([]byte, maxPolicySize+1), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicy(c.input)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	for n := 0; n < len(enc); n++ {
		_, err := ParsePolicy(enc[:n])
		require.Error(t, err, "prefix of %d bytes", n)
	}
}

// Keys that would let anyone forge signatures, or that are not keys at all, never enter
// a policy.
func TestPolicyRejectsWeakKeys(t *testing.T) {
	good := testSigners(t, 1)[0].Public()
	p := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 255), big.NewInt(19))

	orderTwo := encodeY(new(big.Int).Sub(p, big.NewInt(1)), 0) // (0, −1)
	nonCanonical := encodeY(new(big.Int).Add(p, big.NewInt(1)), 0)
	yIsP := encodeY(p, 0) // would decode as y = 0, a point of order four
	negZero := identityKey()
	negZero[31] |= 0x80
	cases := []struct {
		name string
		key  DeveloperKey
		want string
	}{
		{"identity", identityKey(), "identity point"},
		{"order two", orderTwo, "not in the prime-order subgroup"},
		{"mixed order", addOrderTwo(t, good), "not in the prime-order subgroup"},
		{"y not reduced", nonCanonical, "non-canonical"},
		{"y equal to p", yIsP, "non-canonical"},
		{"negative zero x", negZero, "non-canonical"},
		{"off curve", offCurveKey(t), "not a point on the curve"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := NewPolicy([]DeveloperKey{c.key}, 1)
			require.ErrorIs(t, err, ErrInvalidPolicy)
			assert.Contains(t, err.Error(), c.want)
		})
	}
	// Every key ed25519 generates is accepted.
	for i := range 20 {
		s, err := GenerateDeveloperKey(newDetReader("many keys " + string(rune('A'+i))))
		require.NoError(t, err)
		_, err = NewPolicy([]DeveloperKey{s.Public()}, 1)
		require.NoError(t, err)
	}
}

// An identity key is a real danger with crypto/ed25519, which does not reject it:
// R = [S]B "verifies" for every message. This test shows why NewPolicy refuses it.
func TestIdentityKeyForgesWithPlainEd25519(t *testing.T) {
	id := identityKey()
	forger := testSigners(t, 1)[0]
	// A signature (R, S) with R = [S]B: use a real key's public point and scalar.
	h := sha512Sum(forger.Seed())
	s := clampedScalarModL(h[:32])
	var sig [64]byte
	copy(sig[:32], forger.pub[:])
	le := s.FillBytes(make([]byte, 32))
	for i := range 32 {
		sig[32+i] = le[31-i]
	}
	assert.True(t, ed25519.Verify(id[:], []byte("any message at all"), sig[:]))
	_, err := NewPolicy([]DeveloperKey{id}, 1)
	assert.Error(t, err)
}

func identityKey() DeveloperKey {
	var k DeveloperKey
	k[0] = 1 // y = 1, x = 0
	return k
}

// encodeY writes y little-endian with the sign bit of x.
func encodeY(y *big.Int, sign byte) DeveloperKey {
	var k DeveloperKey
	be := y.FillBytes(make([]byte, 32))
	for i := range 32 {
		k[i] = be[31-i]
	}
	k[31] |= sign << 7
	return k
}

// addOrderTwo returns P + (0, −1) = (−x, −y), a point of order 2L.
func addOrderTwo(t *testing.T, k DeveloperKey) DeveloperKey {
	c := newCurve()
	pt, err := c.decode(k)
	require.NoError(t, err)
	y := new(big.Int).Sub(c.p, pt.y)
	x := new(big.Int).Sub(c.p, pt.x)
	return encodeY(y, byte(x.Bit(0)))
}

func offCurveKey(t *testing.T) DeveloperKey {
	for y := int64(2); y < 100; y++ {
		k := encodeY(big.NewInt(y), 0)
		if _, err := newCurve().decode(k); err != nil && strings.Contains(err.Error(), "not a point") {
			return k
		}
	}
	t.Fatal("no off-curve y below 100")
	return DeveloperKey{}
}

func TestPolicyFile(t *testing.T) {
	keys := publicKeys(testSigners(t, 3))
	p, err := NewPolicy(keys, 2)
	require.NoError(t, err)
	text := p.MarshalPolicyFile()
	got, err := ParsePolicyFile(text)
	require.NoError(t, err)
	assert.True(t, p.Equal(got))

	cases := []struct{ name, text, want string }{
		{"misspelt threshold", "treshold = 2\nkeys = [\"" + keys[0].String() + "\"]\n", "unknown fields treshold"},
		{"missing threshold", "keys = [\"" + keys[0].String() + "\"]\n", "missing field \"threshold\""},
		{"short key", "threshold = 1\nkeys = [\"abcd\"]\n", "4 hex digits, want 64"},
		{"threshold too high", "threshold = 2\nkeys = [\"" + keys[0].String() + "\"]\n", "threshold 2 outside 1..1"},
		{"not toml", "threshold = = 2", "policy file"},
		{"too big", strings.Repeat("#", MaxTextFileSize+1), "at most"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParsePolicyFile([]byte(c.text))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestKeyFile(t *testing.T) {
	s := testSigners(t, 2)
	text := s[0].MarshalKeyFile()
	got, err := ParseKeyFile(text)
	require.NoError(t, err)
	assert.Equal(t, s[0].Public(), got.Public())
	assert.Equal(t, s[0].Seed(), got.Seed())

	mismatched := strings.Replace(string(text), s[0].Public().String(), s[1].Public().String(), 1)
	_, err = ParseKeyFile([]byte(mismatched))
	assert.ErrorContains(t, err, "does not match the seed")
	_, err = ParseKeyFile([]byte("public_key = \"" + s[0].Public().String() + "\"\n"))
	assert.ErrorContains(t, err, "missing field \"seed\"")
	_, err = ParseKeyFile([]byte("public_key = \"" + s[0].Public().String() + "\"\nseed = \"00\"\n"))
	assert.ErrorContains(t, err, "seed: 1 bytes, want 32")

	// A file of exactly MaxTextFileSize bytes is read; one byte more is not.
	padded := append([]byte(nil), text...)
	padded = append(padded, '#')
	for len(padded) < MaxTextFileSize-1 {
		padded = append(padded, 'x')
	}
	padded = append(padded, '\n')
	got, err = ParseKeyFile(padded)
	require.NoError(t, err)
	assert.Equal(t, s[0].Public(), got.Public())
	_, err = ParseKeyFile(append(padded, '\n'))
	assert.ErrorContains(t, err, "at most")
}
