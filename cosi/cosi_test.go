package cosi

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/kyber/v3"
	"go.dedis.ch/kyber/v3/pairing/bn256"
	kybersign "go.dedis.ch/kyber/v3/sign"
	"go.dedis.ch/kyber/v3/sign/bdn"
)

func testKeys(t testing.TB, n int) []*PrivateKey {
	t.Helper()
	rnd := testrand.New(fmt.Sprintf("keys-%d", n))
	keys := make([]*PrivateKey, n)
	for i := range keys {
		k, err := GenerateKey(rnd)
		require.NoError(t, err)
		keys[i] = k
	}
	return keys
}

func testRoster(t testing.TB, keys []*PrivateKey) *Roster {
	t.Helper()
	pubs := make([]PublicKey, len(keys))
	for i, k := range keys {
		pubs[i] = k.Public()
	}
	r, err := NewRoster(pubs)
	require.NoError(t, err)
	return r
}

// sign gathers the shares of the listed members into one signature.
func sign(t testing.TB, keys []*PrivateKey, r *Roster, msg []byte, members []int) *Signature {
	t.Helper()
	parts := make([]*Signature, len(members))
	for j, i := range members {
		s, err := keys[i].Sign(r, msg)
		require.NoError(t, err)
		parts[j] = s
	}
	agg, err := Aggregate(parts...)
	require.NoError(t, err)
	return agg
}

func upTo(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

func TestSignVerify(t *testing.T) {
	keys := testKeys(t, 7)
	r := testRoster(t, keys)
	msg := []byte("block 42")
	pol := DefaultPolicy(r.Len())
	require.Equal(t, 5, pol.Threshold)

	full := sign(t, keys, r, msg, upTo(7))
	require.NoError(t, Verify(r, msg, full, pol))

	atThreshold := sign(t, keys, r, msg, []int{0, 2, 3, 5, 6})
	require.NoError(t, Verify(r, msg, atThreshold, pol))

	below := sign(t, keys, r, msg, []int{0, 2, 3, 5})
	require.ErrorIs(t, Verify(r, msg, below, pol), ErrThreshold)
	require.NoError(t, VerifyPartial(r, msg, below), "a partial is valid, only short of the threshold")

	require.ErrorIs(t, Verify(r, []byte("block 43"), full, pol), ErrInvalidSignature)
}

// A mask that claims a signer who did not sign, or hides one who did, must fail.
func TestMaskMustMatchSigners(t *testing.T) {
	keys := testKeys(t, 7)
	r := testRoster(t, keys)
	msg := []byte("m")
	sig := sign(t, keys, r, msg, []int{0, 1, 2, 3, 4})

	claimsMore := &Signature{point: sig.point, mask: sig.mask.Clone()}
	claimsMore.mask.Set(6)
	require.ErrorIs(t, Verify(r, msg, claimsMore, DefaultPolicy(7)), ErrInvalidSignature)

	hidesOne := &Signature{point: sig.point, mask: NewMask(7)}
	for _, i := range []int{0, 1, 2, 3} {
		hidesOne.mask.Set(i)
	}
	require.ErrorIs(t, VerifyPartial(r, msg, hidesOne), ErrInvalidSignature)
}

func TestAggregateRefusesOverlapAndMismatch(t *testing.T) {
	keys := testKeys(t, 4)
	r := testRoster(t, keys)
	a, err := keys[0].Sign(r, []byte("m"))
	require.NoError(t, err)
	_, err = Aggregate(a, a)
	require.ErrorIs(t, err, ErrOverlap)

	other := testRoster(t, testKeys(t, 5))
	b, err := testKeys(t, 5)[1].Sign(other, []byte("m"))
	require.NoError(t, err)
	_, err = Aggregate(a, b)
	require.ErrorIs(t, err, ErrBitmapLength)

	_, err = Aggregate()
	require.Error(t, err)

	stranger := testKeys(t, 5)[0]
	_, err = stranger.Sign(r, []byte("m"))
	require.ErrorIs(t, err, ErrNotMember)
}

func TestVerifyRejectsWrongRosterSize(t *testing.T) {
	keys := testKeys(t, 5)
	r := testRoster(t, keys)
	sig := sign(t, keys, r, []byte("m"), upTo(5))
	smaller := testRoster(t, keys[:4])
	require.ErrorIs(t, Verify(smaller, []byte("m"), sig, DefaultPolicy(4)), ErrBitmapLength)
}

func TestPolicy(t *testing.T) {
	for n, want := range map[int]int{1: 1, 2: 2, 3: 3, 4: 3, 5: 4, 7: 5, 16: 11, 100: 67, 1000: 667} {
		require.Equal(t, want, DefaultThreshold(n), "n=%d", n)
		require.NoError(t, DefaultPolicy(n).Check(n))
	}
	for _, th := range []int{-1, 0, 8} {
		_, err := NewPolicy(7, th)
		require.ErrorIs(t, err, ErrPolicy, "threshold %d", th)
	}
	keys := testKeys(t, 3)
	r := testRoster(t, keys)
	sig := sign(t, keys, r, []byte("m"), upTo(3))
	require.ErrorIs(t, Verify(r, []byte("m"), sig, Policy{Threshold: 4}), ErrPolicy)
	require.ErrorIs(t, Verify(r, []byte("m"), sig, Policy{}), ErrPolicy)
}

func TestRosterRejectsDuplicatesAndZero(t *testing.T) {
	keys := testKeys(t, 3)
	pubs := []PublicKey{keys[0].Public(), keys[1].Public(), keys[0].Public()}
	_, err := NewRoster(pubs)
	require.ErrorContains(t, err, "same key")
	_, err = NewRoster([]PublicKey{keys[0].Public(), {}})
	require.ErrorContains(t, err, "not set")
	_, err = NewRoster(nil)
	require.Error(t, err)
}

// Our weights must be exactly BDN's, so that kyber's sign/bdn verifies our signatures
// and our aggregation inherits its rogue-key resistance.
func TestCompatibleWithKyberBDN(t *testing.T) {
	keys := testKeys(t, 9)
	r := testRoster(t, keys)
	msg := []byte("compatibility")
	members := []int{0, 1, 3, 4, 6, 7, 8}
	ours := sign(t, keys, r, msg, members)

	s := bn256.NewSuite()
	publics := make([]kyber.Point, len(keys))
	for i, k := range keys {
		publics[i] = k.public.point
	}
	mask, err := kybersign.NewMask(s, publics, nil)
	require.NoError(t, err)
	var plain [][]byte
	for _, i := range members {
		require.NoError(t, mask.SetBit(i, true))
		sig, err := bdn.Sign(s, keys[i].secret, msg)
		require.NoError(t, err)
		plain = append(plain, sig)
	}
	theirSig, err := bdn.AggregateSignatures(s, plain, mask)
	require.NoError(t, err)
	require.True(t, theirSig.Equal(ours.point), "aggregate signature differs from sign/bdn's")
	theirKey, err := bdn.AggregatePublicKeys(s, mask)
	require.NoError(t, err)
	require.True(t, theirKey.Equal(r.aggregateKey(ours.mask)), "aggregate key differs from sign/bdn's")
	require.NoError(t, bdn.Verify(s, theirKey, msg, encodePoint(ours.point)))
	require.Equal(t, mask.Mask(), ours.mask.Bytes(), "bitmap layout differs from kyber's mask")
}

// A point on the twist curve outside the prime-order subgroup (x = 1), computed
// independently; kyber accepts it as a G2 point, so cosi must refuse it.
const nonSubgroupG2 = "0000000000000000000000000000000000000000000000000000000000000000" +
	"0000000000000000000000000000000000000000000000000000000000000001" +
	"01cebc2f299b768c6613891501ecb16bd9ed74e71989fb2ec169160400cbe410" +
	"84b0ba39d2b38af0a0406cf48824b6526f5f327f5ee7242a733fa6828400bf39"

func TestParsePublicKey(t *testing.T) {
	k := testKeys(t, 1)[0]
	pk, err := ParsePublicKey(k.Public().Bytes())
	require.NoError(t, err)
	require.True(t, pk.Equal(k.Public()))

	outside, _ := hex.DecodeString(nonSubgroupG2)
	require.NoError(t, bn256.NewSuite().G2().Point().UnmarshalBinary(outside), "kyber accepts it")
	_, err = ParsePublicKey(outside)
	require.ErrorIs(t, err, errNotSubgroup)

	_, err = ParsePublicKey(make([]byte, PublicKeySize))
	require.ErrorIs(t, err, errIdentity)

	notOnCurve := k.Public().Bytes()
	notOnCurve[PublicKeySize-1] ^= 1
	_, err = ParsePublicKey(notOnCurve)
	require.ErrorContains(t, err, "malformed point")

	for _, n := range []int{0, 1, PublicKeySize - 1, PublicKeySize + 1} {
		_, err = ParsePublicKey(make([]byte, n))
		require.Error(t, err, "length %d", n)
	}
}

func TestPublicKeyText(t *testing.T) {
	k := testKeys(t, 1)[0]
	text, err := k.Public().MarshalText()
	require.NoError(t, err)
	var pk PublicKey
	require.NoError(t, pk.UnmarshalText(text))
	require.True(t, pk.Equal(k.Public()))
	require.Error(t, pk.UnmarshalText(text[2:]))
	require.Error(t, pk.UnmarshalText(bytes.Repeat([]byte("zz"), PublicKeySize)))
	_, err = PublicKey{}.MarshalText()
	require.Error(t, err)
}

func TestPrivateKeyEncoding(t *testing.T) {
	k := testKeys(t, 1)[0]
	again, err := ParsePrivateKey(k.Bytes())
	require.NoError(t, err)
	require.True(t, again.Public().Equal(k.Public()))
	_, err = ParsePrivateKey(make([]byte, PrivateKeySize))
	require.ErrorContains(t, err, "zero")
	_, err = ParsePrivateKey(bytes.Repeat([]byte{0xff}, PrivateKeySize))
	require.ErrorContains(t, err, "out of range")
	_, err = ParsePrivateKey([]byte{1})
	require.Error(t, err)
	_, err = GenerateKey(bytes.NewReader([]byte{1, 2, 3}))
	require.Error(t, err)
}

func TestSignatureEncoding(t *testing.T) {
	keys := testKeys(t, 11)
	r := testRoster(t, keys)
	sig := sign(t, keys, r, []byte("m"), []int{0, 1, 2, 3, 4, 5, 6, 10})
	enc := sig.Encode()
	require.Len(t, enc, PointSize+2+2)
	back, err := ParseSignature(enc)
	require.NoError(t, err)
	require.Equal(t, enc, back.Encode())
	require.NoError(t, Verify(r, []byte("m"), back, DefaultPolicy(11)))

	padding := append([]byte(nil), enc...)
	padding[len(padding)-1] |= 0x80 // bit 15 of an 11-member roster
	_, err = ParseSignature(padding)
	require.ErrorIs(t, err, ErrMalformed)

	identity := append(make([]byte, PointSize), enc[PointSize:]...)
	_, err = ParseSignature(identity)
	require.ErrorIs(t, err, ErrMalformed)

	for n := 0; n < len(enc); n++ {
		_, err := ParseSignature(enc[:n])
		require.Error(t, err, "prefix of %d bytes", n)
	}
	_, err = ParseSignature(append(enc, 0))
	require.Error(t, err)
}

// Every single-byte change of a valid signature must be rejected, by the decoder or by
// Verify.
func TestMangledSignatureRejected(t *testing.T) {
	keys := testKeys(t, 10)
	r := testRoster(t, keys)
	msg := []byte("mangle me")
	pol := DefaultPolicy(10)
	enc := sign(t, keys, r, msg, upTo(10)).Encode()
	for i := range enc {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), enc...)
			bad[i] ^= flip
			sig, err := ParseSignature(bad)
			if err == nil {
				err = Verify(r, msg, sig, pol)
			}
			require.Error(t, err, "byte %d ^ %#x accepted", i, flip)
		}
	}
}

// Every single-byte change of a signer's public key must be rejected, by the decoder or
// because the signature no longer verifies against the roster it builds.
func TestMangledKeyRejected(t *testing.T) {
	keys := testKeys(t, 4)
	r := testRoster(t, keys)
	msg := []byte("mangle me")
	sig := sign(t, keys, r, msg, upTo(4))
	orig := keys[2].Public().Bytes()
	for i := range orig {
		for _, flip := range []byte{0x01, 0x80, 0xff} {
			bad := append([]byte(nil), orig...)
			bad[i] ^= flip
			pk, err := ParsePublicKey(bad)
			if err == nil {
				pubs := r.Keys()
				pubs[2] = pk
				var r2 *Roster
				if r2, err = NewRoster(pubs); err == nil {
					err = Verify(r2, msg, sig, DefaultPolicy(4))
				}
			}
			require.Error(t, err, "key byte %d ^ %#x accepted", i, flip)
		}
	}
}

// Two shares that cancel out sum to the identity: Verify must refuse it by name, not
// rely on the pairing check failing.
func TestIdentityAggregateRejected(t *testing.T) {
	keys := testKeys(t, 3)
	r := testRoster(t, keys)
	s, err := keys[0].Sign(r, []byte("m"))
	require.NoError(t, err)
	neg := &Signature{point: suite.G1().Point().Neg(s.point), mask: NewMask(3)}
	neg.mask.Set(1)
	sum, err := Aggregate(s, neg)
	require.NoError(t, err)
	require.ErrorIs(t, VerifyPartial(r, []byte("m"), sum), ErrInvalidSignature)
	require.ErrorContains(t, VerifyPartial(r, []byte("m"), sum), "identity")
}
