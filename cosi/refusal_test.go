package cosi

import (
	"errors"
	"strings"
	"testing"

	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
)

func TestRefusalVerifiesOfflineAndBindsEverything(t *testing.T) {
	keys := testKeys(t, 5)
	r := testRoster(t, keys)
	round, err := NewRoundID(testrand.New("refusal round"))
	require.NoError(t, err)
	msg := []byte("block 7")
	reason := "rebuild differs"
	ref, err := keys[3].Refuse(r, round, msg, reason)
	require.NoError(t, err)

	// Through its encoding, as a proposer would receive it.
	parsed, err := ParseSignature(ref.Encode())
	require.NoError(t, err)
	member, err := VerifyRefusal(r, round, msg, reason, parsed)
	require.NoError(t, err)
	require.Equal(t, 3, member)

	// The same key in a roster of the same size but other members: another roster ID.
	otherKeys := append([]*PrivateKey(nil), keys...)
	otherKeys[0] = testKeys(t, 6)[5]
	other := testRoster(t, otherKeys)
	require.NotEqual(t, r.ID(), other.ID())
	inOther, err := keys[3].Refuse(other, round, msg, reason)
	require.NoError(t, err)
	_, err = VerifyRefusal(other, round, msg, reason, inOther)
	require.NoError(t, err)

	share, err := keys[3].Sign(r, msg)
	require.NoError(t, err)
	two, err := Aggregate(ref, sign(t, keys, r, refusalMessage(r.ID(), round, msg, reason), []int{1}))
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		roster *Roster
		round  RoundID
		msg    []byte
		reason string
		sig    *Signature
	}{
		"another round":            {r, RoundID{1}, msg, reason, ref},
		"another message":          {r, round, []byte("block 8"), reason, ref},
		"another reason":           {r, round, msg, "rebuild matches", ref},
		"another roster, same key": {other, round, msg, reason, ref},
		"replayed from the other":  {r, round, msg, reason, inOther},
		"a share on the message":   {r, round, msg, reason, share},
		"two signers":              {r, round, msg, reason, two},
	} {
		_, err := VerifyRefusal(tc.roster, tc.round, tc.msg, tc.reason, tc.sig)
		require.ErrorIs(t, err, ErrRefusal, name)
	}
	_, err = VerifyRefusal(testRoster(t, keys[:4]), round, msg, reason, ref)
	require.ErrorIs(t, err, ErrBitmapLength)
	require.NoError(t, VerifyPartial(r, refusalMessage(r.ID(), round, msg, reason), ref),
		"a refusal is a one-member signature on the refusal message")
	require.ErrorIs(t, VerifyPartial(r, msg, ref), ErrInvalidSignature, "a refusal is no signature on the message")
}

func TestRefusalReasonLimits(t *testing.T) {
	keys := testKeys(t, 3)
	r := testRoster(t, keys)
	round := RoundID{7}
	msg := []byte("m")
	longest := strings.Repeat("é", MaxReasonSize/2)
	ref, err := keys[1].Refuse(r, round, msg, longest)
	require.NoError(t, err)
	_, err = VerifyRefusal(r, round, msg, longest, ref)
	require.NoError(t, err)
	_, err = keys[1].Refuse(r, round, msg, "")
	require.NoError(t, err, "an empty reason is a reason")

	for name, reason := range map[string]string{
		"too long":   longest + "x",
		"not UTF-8":  "rebuild \xff differs",
		"cut a rune": longest[:MaxReasonSize-1],
	} {
		_, err := keys[1].Refuse(r, round, msg, reason)
		require.ErrorIs(t, err, ErrRefusal, name)
		// A signature over such a reason never verifies, whoever made it.
		forged, err := keys[1].Sign(r, refusalMessage(r.ID(), round, msg, reason))
		require.NoError(t, err)
		_, err = VerifyRefusal(r, round, msg, reason, forged)
		require.ErrorIs(t, err, ErrRefusal, name)
	}
}

func TestRosterIDNamesKeysInOrder(t *testing.T) {
	keys := testKeys(t, 4)
	r := testRoster(t, keys)
	require.Equal(t, r.ID(), testRoster(t, keys).ID(), "deterministic")
	swapped := []*PrivateKey{keys[1], keys[0], keys[2], keys[3]}
	require.NotEqual(t, r.ID(), testRoster(t, swapped).ID())
	require.NotEqual(t, r.ID(), testRoster(t, keys[:3]).ID())

	text, err := r.ID().MarshalText()
	require.NoError(t, err)
	var back RosterID
	require.NoError(t, back.UnmarshalText(text))
	require.Equal(t, r.ID(), back)
	require.Error(t, back.UnmarshalText(text[1:]))
	require.Error(t, back.UnmarshalText(append([]byte("zz"), text[2:]...)))

	round := RoundID{1, 2, 3}
	text, err = round.MarshalText()
	require.NoError(t, err)
	var rb RoundID
	require.NoError(t, rb.UnmarshalText(text))
	require.Equal(t, round, rb)
	require.Error(t, rb.UnmarshalText(text[:10]))

	_, err = NewRoundID(nil)
	require.Error(t, err)
	_, err = NewRoundID(strings.NewReader("short"))
	require.Error(t, err)
	a, err := NewRoundID(testrand.New("a"))
	require.NoError(t, err)
	b, err := NewRoundID(testrand.New("b"))
	require.NoError(t, err)
	require.NotEqual(t, a, b)
}

// A share is a member's signature on the message, whatever the roster: multiplied by
// the ratio of two public BDN weights, a share under r is a valid share under any
// roster with the same key. So a collective signature binds a roster only if its
// message names the roster (chainiac's blocks and links do); and a refusal, which is
// about one round, signs the roster ID and the round ID itself.
func TestShareMovesBetweenRostersWithTheSameKey(t *testing.T) {
	keys := testKeys(t, 4)
	r := testRoster(t, keys)
	other := testRoster(t, []*PrivateKey{keys[0], keys[1], keys[2], testKeys(t, 5)[4]})
	msg := []byte("m")
	s, err := keys[1].Sign(r, msg)
	require.NoError(t, err)
	require.ErrorIs(t, VerifyPartial(other, msg, s), ErrInvalidSignature, "checked against the wrong roster")

	ratio := suite.G2().Scalar().Div(other.coefs[1], r.coefs[1])
	moved := &Signature{point: suite.G1().Point().Mul(ratio, s.point), mask: s.mask.Clone()}
	require.NoError(t, VerifyPartial(other, msg, moved), "anyone can move a share to another roster")

	ref, err := keys[1].Refuse(r, RoundID{1}, msg, "no")
	require.NoError(t, err)
	movedRef := &Signature{point: suite.G1().Point().Mul(ratio, ref.point), mask: ref.mask.Clone()}
	_, err = VerifyRefusal(other, RoundID{1}, msg, "no", movedRef)
	require.ErrorIs(t, err, ErrRefusal, "a refusal does not move: it signs the roster ID")
}

// Verification sums the weighted keys of the signers when they are a minority, and
// subtracts the absentees from the total otherwise. Every mask of a small roster,
// member 0 included or not, must verify with exactly its signers' shares: a key
// skipped, counted twice or left in on either path fails some subset here.
func TestVerifyPartialEveryMask(t *testing.T) {
	for _, n := range []int{5, 6} {
		keys := testKeys(t, n)
		r := testRoster(t, keys)
		msg := []byte("every mask")
		shares := make([]*Signature, n)
		for i, k := range keys {
			s, err := k.Sign(r, msg)
			require.NoError(t, err)
			shares[i] = s
		}
		for set := 1; set < 1<<n; set++ {
			var parts []*Signature
			for i := 0; i < n; i++ {
				if set&(1<<i) != 0 {
					parts = append(parts, shares[i])
				}
			}
			sig, err := Aggregate(parts...)
			require.NoError(t, err)
			require.NoError(t, VerifyPartial(r, msg, sig), "n=%d signers %b", n, set)
			// The same point with member 0's bit flipped must not verify.
			flipped := &Signature{point: sig.point, mask: NewMask(n)}
			for i := 0; i < n; i++ {
				if (set^1)&(1<<i) != 0 {
					flipped.mask.Set(i)
				}
			}
			err = VerifyPartial(r, msg, flipped)
			require.True(t, errors.Is(err, ErrInvalidSignature) || errors.Is(err, ErrThreshold),
				"n=%d signers %b with member 0 flipped: %v", n, set, err)
		}
	}
}
