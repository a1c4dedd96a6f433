package release

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"math/big"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/golden"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// edgeCase is one Ed25519 input on which verification rules can disagree, with the
// verdicts of three rules: chainiac's (verifyStrict, and NewPolicy for the key), Go's
// crypto/ed25519.Verify (cofactorless), and a lenient cofactored rule in the style of
// ZIP-215 (laxCofactoredVerify below: R and A decoded even when not canonical, S not
// range-checked, [8][S]B = [8]R + [8][k]A).
type edgeCase struct {
	name  string
	key   DeveloperKey
	sig   DeveloperSignature
	admit bool // NewPolicy accepts the key
	valid bool // chainiac accepts the signature (only asked when admit)
}

// edgeCases builds the vectors from test developer a's key over the test manifest's
// encoding. Each signature is made with the secret scalar, so that the lenient rule
// accepts it: what differs is only the rule.
func edgeCases(t *testing.T) ([]edgeCase, []byte) {
	c := newCurve()
	dev := testSigners(t, 1)[0]
	h := sha512Sum(dev.Seed())
	a := clampedScalarModL(h[:32])
	A := dev.Public()
	msg := testManifest().Encode()

	// Another key's public point and scalar give a nonce r with a known encoding of rB.
	nonceSigner, err := NewSigner(bytes.Repeat([]byte{0x5a}, 32))
	require.NoError(t, err)
	nh := sha512Sum(nonceSigner.Seed())
	r := clampedScalarModL(nh[:32])
	rB := nonceSigner.Public()

	sign := func(R DeveloperKey, key DeveloperKey, nonce *big.Int) DeveloperSignature {
		s := new(big.Int).Mul(challenge(R, key, msg), a)
		s.Add(s, nonce).Mod(s, c.l)
		return encodeSignature(R, s)
	}
	zero := big.NewInt(0)
	identity := identityKey()
	identityUnreduced := encodeY(new(big.Int).Add(c.p, big.NewInt(1)), 0)
	identityNegZero := identity
	identityNegZero[31] |= 0x80
	orderTwo := encodeY(new(big.Int).Sub(c.p, big.NewInt(1)), 0)

	valid := dev.sign(msg).Signature
	sPlusL := valid
	s := littleEndianInt(valid[32:])
	copy(sPlusL[32:], leBytes(s.Add(s, c.l)))

	// A key with an order-2 component, A + (0, −1), and the first nonce whose
	// challenge is even, so that crypto/ed25519 accepts a signature by it.
	mixedA := addOrderTwo(t, A)
	var mixedSig DeveloperSignature
	for b := byte(0); ; b++ {
		ns, err := NewSigner(bytes.Repeat([]byte{b}, 32))
		require.NoError(t, err)
		if challenge(ns.Public(), mixedA, msg).Bit(0) == 0 {
			nh := sha512Sum(ns.Seed())
			mixedSig = sign(ns.Public(), mixedA, clampedScalarModL(nh[:32]))
			break
		}
	}

	return []edgeCase{
		{"valid signature", A, valid, true, true},
		{"S + L instead of S", A, sPlusL, true, false},
		{"R is the identity, S = k·a", A, sign(identity, A, zero), true, false},
		{"R is the identity written with y = p + 1", A, sign(identityUnreduced, A, zero), true, false},
		{"R is the identity with the sign bit set", A, sign(identityNegZero, A, zero), true, false},
		{"R is the point (0, -1) of order 2", A, sign(orderTwo, A, zero), true, false},
		{"R = rB + (0, -1), a mixed-order point", A, sign(addOrderTwo(t, rB), A, r), true, false},
		{"A = aB + (0, -1), a mixed-order key", mixedA, mixedSig, false, false},
		// Under the identity key, R = [S]B is a signature of every message.
		{"A is the identity", identity, encodeSignature(rB, r), false, false},
		{"A is the identity written with y = p + 1", identityUnreduced, encodeSignature(rB, r), false, false},
	}, msg
}

// challenge is k = SHA-512(R ‖ A ‖ msg) mod L, read little-endian.
func challenge(R, A DeveloperKey, msg []byte) *big.Int {
	h := sha512.New()
	h.Write(R[:])
	h.Write(A[:])
	h.Write(msg)
	k := littleEndianInt(h.Sum(nil))
	return k.Mod(k, newCurve().l)
}

func leBytes(v *big.Int) []byte {
	be := v.FillBytes(make([]byte, 32))
	le := make([]byte, 32)
	for i := range be {
		le[31-i] = be[i]
	}
	return le
}

func encodeSignature(R DeveloperKey, s *big.Int) DeveloperSignature {
	var sig DeveloperSignature
	copy(sig[:32], R[:])
	copy(sig[32:], leBytes(s))
	return sig
}

// laxDecode reads a point the lenient way: y reduced mod p, the sign bit of x = 0
// ignored.
func laxDecode(c *curve, k DeveloperKey) (extPoint, bool) {
	y := littleEndianInt(append(k[:31:31], k[31]&0x7f))
	y.Mod(y, c.p)
	canonical := encodeY(y, k[31]>>7)
	if pt, err := c.decode(canonical); err == nil {
		return pt, true
	}
	pt, err := c.decode(encodeY(y, 0))
	return pt, err == nil && pt.x.Sign() == 0
}

// laxCofactoredVerify is the lenient rule: [8][S]B = [8]R + [8][k]A, with any S.
func laxCofactoredVerify(key DeveloperKey, msg []byte, sig DeveloperSignature) bool {
	c := newCurve()
	var R DeveloperKey
	copy(R[:], sig[:32])
	rp, ok1 := laxDecode(c, R)
	ap, ok2 := laxDecode(c, key)
	if !ok1 || !ok2 {
		return false
	}
	fourFifths := new(big.Int).Mul(big.NewInt(4), new(big.Int).ModInverse(big.NewInt(5), c.p))
	base, err := c.decode(encodeY(fourFifths.Mod(fourFifths, c.p), 0))
	if err != nil {
		panic(err)
	}
	eight := big.NewInt(8)
	left := c.mul(c.mul(base, littleEndianInt(sig[32:])), eight)
	right := c.mul(c.add(rp, c.mul(ap, challenge(R, key, msg))), eight)
	return samePoint(c, left, right)
}

func samePoint(c *curve, p, q extPoint) bool {
	cross := func(a, b *big.Int) *big.Int { return new(big.Int).Mod(new(big.Int).Mul(a, b), c.p) }
	return cross(p.x, q.z).Cmp(cross(q.x, p.z)) == 0 && cross(p.y, q.z).Cmp(cross(q.y, p.z)) == 0
}

func TestEd25519EdgeCases(t *testing.T) {
	cases, msg := edgeCases(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.True(t, laxCofactoredVerify(tc.key, msg, tc.sig), "the lenient rule accepts every vector")
			_, err := NewPolicy([]DeveloperKey{tc.key}, 1)
			assert.Equal(t, tc.admit, err == nil, "admission: %v", err)
			if !tc.admit {
				return
			}
			err = verifyStrict(tc.key, msg, tc.sig)
			assert.Equal(t, tc.valid, err == nil, "verification: %v", err)
			// And through the policy: a 1-of-1 policy accepts the manifest only with a
			// valid signature.
			p, err := NewPolicy([]DeveloperKey{tc.key}, 1)
			require.NoError(t, err)
			sm := &SignedManifest{Manifest: msg, Signatures: []Signature{{Key: tc.key, Signature: tc.sig}}}
			_, err = p.VerifyManifest(sm)
			if tc.valid {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, ErrThreshold)
				assert.Contains(t, err.Error(), "0 valid developer signatures of 1")
			}
		})
	}
}

// TestEd25519EdgeCasesDisagree shows that the vectors matter: Go's verifier alone
// accepts some of what chainiac refuses (an identity R, a mixed-order key with an even
// challenge), and the lenient rule accepts all of them.
func TestEd25519EdgeCasesDisagree(t *testing.T) {
	cases, msg := edgeCases(t)
	goAccepts := map[string]bool{}
	for _, tc := range cases {
		goAccepts[tc.name] = ed25519.Verify(tc.key[:], msg, tc.sig[:])
	}
	assert.True(t, goAccepts["R is the identity, S = k·a"])
	assert.True(t, goAccepts["A = aB + (0, -1), a mixed-order key"])
	assert.True(t, goAccepts["A is the identity"])
	assert.False(t, goAccepts["S + L instead of S"])
	assert.False(t, goAccepts["R = rB + (0, -1), a mixed-order point"])
}

// TestEd25519EdgeVectors writes the cases to testdata/ed25519-edge-cases.txt for other
// implementations, and checks the stored file's verdicts against the code.
func TestEd25519EdgeVectors(t *testing.T) {
	cases, msg := edgeCases(t)
	var out strings.Builder
	fmt.Fprintf(&out, "# Ed25519 edge cases; message = the bytes of manifest.hex; see README.md\n")
	for _, tc := range cases {
		verdict := "refuse key"
		if tc.admit {
			verdict = map[bool]string{true: "accept", false: "refuse signature"}[tc.valid]
		}
		fmt.Fprintf(&out, "case %s\nkey %s\nsignature %x\nchainiac %s\ngo-ed25519 %t\nlax-cofactored %t\n\n",
			tc.name, tc.key, tc.sig[:], verdict, ed25519.Verify(tc.key[:], msg, tc.sig[:]), laxCofactoredVerify(tc.key, msg, tc.sig))
	}
	stored := golden.File(t, filepath.Join("testdata", "ed25519-edge-cases.txt"), []byte(out.String()))

	// The stored vectors, read back, get the stored verdicts.
	sc := bufio.NewScanner(bytes.NewReader(stored))
	var key DeveloperKey
	var sig DeveloperSignature
	n := 0
	for sc.Scan() {
		field, value, _ := strings.Cut(sc.Text(), " ")
		switch field {
		case "key":
			b, err := hex.DecodeString(value)
			require.NoError(t, err)
			copy(key[:], b)
		case "signature":
			b, err := hex.DecodeString(value)
			require.NoError(t, err)
			copy(sig[:], b)
		case "chainiac":
			_, kerr := NewPolicy([]DeveloperKey{key}, 1)
			got := "refuse key"
			if kerr == nil {
				got = map[bool]string{true: "accept", false: "refuse signature"}[verifyStrict(key, msg, sig) == nil]
			}
			assert.Equal(t, value, got, "key %s signature %x", key, sig[:])
			n++
		}
	}
	require.NoError(t, sc.Err())
	assert.Equal(t, len(cases), n)
}

// S is refused from L on, L itself included: [L]B is the identity like [0]B, so S = L
// would be a second encoding of S = 0.
func TestEd25519RefusesSAtGroupOrder(t *testing.T) {
	signer := testSigners(t, 1)[0]
	msg := []byte("s at the group order")
	sig := signer.sign(msg).Signature
	require.NoError(t, verifyStrict(signer.Public(), msg, sig))
	var R DeveloperKey
	copy(R[:], sig[:32])
	c := newCurve()
	for _, s := range []*big.Int{c.l, new(big.Int).Add(c.l, big.NewInt(1))} {
		err := verifyStrict(signer.Public(), msg, encodeSignature(R, s))
		assert.ErrorIs(t, err, errSignatureS, "S = %v", s)
	}
}
