package protocol

import (
	"fmt"
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/kyber/v3/pairing/bn256"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

func gatherKeys(t testing.TB, n int) ([]*cosi.PrivateKey, *cosi.Roster) {
	t.Helper()
	keys := make([]*cosi.PrivateKey, n)
	pubs := make([]cosi.PublicKey, n)
	for i := range keys {
		k, err := cosi.GenerateKey(testrand.New(fmt.Sprintf("gather %d/%d", n, i)))
		require.NoError(t, err)
		keys[i], pubs[i] = k, k.Public()
	}
	r, err := cosi.NewRoster(pubs)
	require.NoError(t, err)
	return keys, r
}

func share(t testing.TB, k *cosi.PrivateKey, r *cosi.Roster, msg []byte) *cosi.Signature {
	t.Helper()
	s, err := k.Sign(r, msg)
	require.NoError(t, err)
	return s
}

func set(ms ...int) map[int]bool {
	out := map[int]bool{}
	for _, m := range ms {
		out[m] = true
	}
	return out
}

func TestGatherCountsEachMemberOnce(t *testing.T) {
	keys, r := gatherKeys(t, 4)
	msg := []byte("m")
	g := newGather(r, testRound, msg)
	require.NoError(t, g.addOwn(0, share(t, keys[0], r, msg)))
	require.Error(t, g.addOwn(0, share(t, keys[0], r, msg)), "own share twice")

	s1 := share(t, keys[1], r, msg)
	require.Error(t, g.addReply(1, set(2, 3), s1, nil, nil), "a partial for a member outside the sender's subtree")
	require.NoError(t, g.addReply(1, set(1), s1, nil, nil))
	require.Error(t, g.addReply(1, set(1), s1, nil, nil), "the same signer again")
	require.Error(t, g.addReply(2, set(2, 3), nil, []Refusal{{Member: 2}}, []FailureMsg{{Member: 2}}),
		"one member both refused and failed")
	require.Empty(t, g.settle())
	require.Equal(t, 2, g.signed())
	require.Equal(t, 0, g.lost())
}

// A bad partial releases everything its reply claimed; the good ones are kept.
func TestGatherBadPartialReleasesItsReply(t *testing.T) {
	keys, r := gatherKeys(t, 6)
	msg := []byte("m")
	g := newGather(r, testRound, msg)
	good := share(t, keys[1], r, msg)
	bad := share(t, keys[2], r, []byte("other"))
	require.NoError(t, g.addReply(1, set(1), good, nil, nil))
	require.NoError(t, g.addReply(2, set(2, 3, 4), bad, nil, []FailureMsg{{Member: 3, Reason: "x"}, {Member: 4, Reason: "y"}}))
	require.Equal(t, 0, g.lost(), "failures wait for their partial")
	require.Equal(t, 2, g.unverifiedLost())

	rejected := g.settle()
	require.Len(t, rejected, 1)
	require.Equal(t, 2, rejected[0].sender)
	require.Equal(t, set(2, 3, 4), rejected[0].members())
	require.Equal(t, 1, g.signed())
	require.Equal(t, map[int]string{2: "signature share does not verify"}, g.failure)

	// The released members answer directly and count.
	require.NoError(t, g.addReply(3, set(3), share(t, keys[3], r, msg), nil, nil))
	require.NoError(t, g.addReply(4, set(4), share(t, keys[4], r, msg), nil, nil))
	require.Empty(t, g.settle())
	require.Equal(t, 3, g.signed())
	require.NoError(t, cosi.VerifyPartial(r, msg, g.agg))
}

var testRound = cosi.RoundID{0xc0, 0x51}

func refusal(t testing.TB, k *cosi.PrivateKey, r *cosi.Roster, round cosi.RoundID, msg []byte, reason string) []byte {
	t.Helper()
	s, err := k.Refuse(r, round, msg, reason)
	require.NoError(t, err)
	return s.Encode()
}

// A parent cannot make a member refuse: a refusal must be signed by the member itself,
// for this round, this roster, this message and this reason.
func TestGatherChecksRefusals(t *testing.T) {
	keys, r := gatherKeys(t, 3)
	otherKeys, other := gatherKeys(t, 4)
	msg := []byte("m")
	reason := "rebuild differs"
	g := newGather(r, testRound, msg)
	genuine := refusal(t, keys[1], r, testRound, msg, reason)
	v, err := g.checkRefusal(RefusalMsg{Member: 1, Reason: reason, Signature: genuine})
	require.NoError(t, err)
	require.Equal(t, 1, v.Member)
	require.True(t, v.Key.Equal(keys[1].Public()))
	require.Equal(t, reason, v.Reason)
	require.Equal(t, genuine, v.Signature.Encode())

	for name, bad := range map[string]RefusalMsg{
		"signed by the parent":  {Member: 2, Reason: reason, Signature: refusal(t, keys[0], r, testRound, msg, reason)},
		"named for another":     {Member: 2, Reason: reason, Signature: genuine},
		"another reason":        {Member: 1, Reason: "another reason", Signature: genuine},
		"another round":         {Member: 1, Reason: reason, Signature: refusal(t, keys[1], r, cosi.RoundID{9}, msg, reason)},
		"another message":       {Member: 1, Reason: reason, Signature: refusal(t, keys[1], r, testRound, []byte("n"), reason)},
		"a share, not refusal":  {Member: 1, Reason: reason, Signature: share(t, keys[1], r, msg).Encode()},
		"garbage":               {Member: 1, Reason: reason, Signature: []byte("not a signature")},
		"no signature":          {Member: 1, Reason: reason},
		"other roster's bitmap": {Member: 1, Reason: reason, Signature: share(t, otherKeys[1], other, msg).Encode()},
	} {
		_, err := g.checkRefusal(bad)
		require.Error(t, err, name)
	}
	// Nor under another roster with the same key: the refusal signs the roster ID.
	_, err = newGather(rosterWith(t, keys[1].Public(), other), testRound, msg).checkRefusal(RefusalMsg{Member: 1, Reason: reason, Signature: genuine})
	require.Error(t, err)
}

// rosterWith returns a roster of the same size as r whose member 1 is k.
func rosterWith(t testing.TB, k cosi.PublicKey, r *cosi.Roster) *cosi.Roster {
	t.Helper()
	keys := r.Keys()[:3]
	keys[1] = k
	out, err := cosi.NewRoster(keys)
	require.NoError(t, err)
	return out
}

// A reply's refusals are verified when it arrives: one that does not verify does not
// count as lost, and when there is no time to ask its member, the member is recorded
// as failed, never as refusing.
func TestAcceptVerifiesRefusalsOnArrival(t *testing.T) {
	keys, roster := gatherKeys(t, 5)
	msg := []byte("m")
	reason := "rebuild differs"
	r := &round{
		roster:      roster,
		g:           newGather(roster, testRound, msg),
		replyAt:     time.Now().Add(-time.Second), // no time left: no asking again
		pending:     map[askKey]askedNode{},
		provisional: map[int]string{},
	}
	sender := network.NewServerIdentity(localnet.Suite.Point().Base(), network.NewTCPAddress("127.0.0.1:1"))
	asked := askedNode{node: onet.NewTreeNode(1, sender), allowed: set(1, 2, 3, 4)}
	require.NoError(t, r.accept(asked, Reply{
		Signature: share(t, keys[1], roster, msg).Encode(),
		Refusals: []RefusalMsg{
			{Member: 2, Reason: reason, Signature: refusal(t, keys[2], roster, testRound, msg, reason)},
			{Member: 3, Reason: reason, Signature: refusal(t, keys[1], roster, testRound, msg, reason)},
			{Member: 4, Reason: reason, Signature: []byte("invented")},
		},
	}))
	require.Equal(t, 0, r.g.lost(), "nothing counts before the partial verified")
	require.Equal(t, 3, r.g.unverifiedLost())
	require.Empty(t, r.g.settle())
	require.Equal(t, 1, r.g.signed())
	refusals := r.g.refusals()
	require.Len(t, refusals, 1)
	require.Equal(t, 2, refusals[0].Member)
	require.Equal(t, []Failure{
		{Member: 3, Reason: "refusal with an invalid signature"},
		{Member: 4, Reason: "refusal with an invalid signature"},
	}, r.g.failures())
}

// shifted returns sig with its point moved by k times the G1 base point: a share that
// no longer verifies on its own.
func shifted(t testing.TB, sig *cosi.Signature, k int64) *cosi.Signature {
	t.Helper()
	g1 := bn256.NewSuite().G1()
	enc := sig.Encode()
	p := g1.Point()
	require.NoError(t, p.UnmarshalBinary(enc[:cosi.PointSize]))
	p.Add(p, g1.Point().Mul(g1.Scalar().SetInt64(k), nil))
	b, err := p.MarshalBinary()
	require.NoError(t, err)
	out, err := cosi.ParseSignature(append(b, enc[cosi.PointSize:]...))
	require.NoError(t, err)
	return out
}

// settle judges the sum first: shares that verify only together (two senders moving a
// point between them) make a valid aggregate, which is all anyone later checks, and
// are kept. Only a sum that fails sends settle to the shares one by one.
func TestGatherJudgesTheSum(t *testing.T) {
	keys, r := gatherKeys(t, 4)
	msg := []byte("m")
	g := newGather(r, testRound, msg)
	require.NoError(t, g.addOwn(0, share(t, keys[0], r, msg)))
	plus, minus := shifted(t, share(t, keys[1], r, msg), 7), shifted(t, share(t, keys[2], r, msg), -7)
	require.Error(t, cosi.VerifyPartial(r, msg, plus))
	require.Error(t, cosi.VerifyPartial(r, msg, minus))
	require.NoError(t, g.addReply(1, set(1), plus, nil, nil))
	require.NoError(t, g.addReply(2, set(2), minus, nil, nil))
	require.Empty(t, g.settle())
	require.Equal(t, 3, g.signed())
	require.NoError(t, cosi.VerifyPartial(r, msg, g.agg))
	require.Empty(t, g.failure)
}

// A refusal's signature of exactly cosi.MaxSignatureSize bytes is looked at (and here
// found invalid for its member); one byte more discards the whole reply.
func TestAcceptRefusalSignatureAtItsBound(t *testing.T) {
	keys, roster := gatherKeys(t, 3)
	msg := []byte("m")
	sender := network.NewServerIdentity(localnet.Suite.Point().Base(), network.NewTCPAddress("127.0.0.1:1"))
	for _, size := range []int{cosi.MaxSignatureSize, cosi.MaxSignatureSize + 1} {
		r := &round{
			roster:      roster,
			g:           newGather(roster, testRound, msg),
			replyAt:     time.Now().Add(-time.Second), // no time left: no asking again
			pending:     map[askKey]askedNode{},
			provisional: map[int]string{},
		}
		err := r.accept(askedNode{node: onet.NewTreeNode(1, sender), allowed: set(1, 2)}, Reply{
			Signature: share(t, keys[1], roster, msg).Encode(),
			Refusals:  []RefusalMsg{{Member: 2, Reason: "refused", Signature: make([]byte, size)}},
		})
		if size > cosi.MaxSignatureSize {
			require.ErrorContains(t, err, "oversized refusal from member 2")
			continue
		}
		require.NoError(t, err, "%d bytes", size)
		require.Empty(t, r.g.settle())
		require.Equal(t, []Failure{{Member: 2, Reason: "refusal with an invalid signature"}}, r.g.failures())
	}
}

// A sub-leader of an optimistic round forwards its children's sum without checking it:
// a bad share goes up inside the sum, for the root to find.
func TestGatherForwardDoesNotVerify(t *testing.T) {
	keys, r := gatherKeys(t, 4)
	msg := []byte("m")
	g := newGather(r, testRound, msg)
	require.NoError(t, g.addOwn(1, share(t, keys[1], r, msg)))
	require.NoError(t, g.addReply(2, set(2), share(t, keys[2], r, []byte("other")), nil, nil))
	require.NoError(t, g.addReply(3, set(3), share(t, keys[3], r, msg), nil, []FailureMsg{}))
	g.forward()
	require.Empty(t, g.pending)
	require.Equal(t, []int{1, 2, 3}, g.agg.Mask().Members())
	require.Error(t, cosi.VerifyPartial(r, msg, g.agg), "the bad share is in the sum")
}

// At an optimistic root, settle finds every bad partial among many by halving, keeps
// the others, and blames only the senders that answered for themselves alone: the
// others are released with their whole subtree, to be asked again.
func TestGatherSettleFindsBadPartialsAmongMany(t *testing.T) {
	n := 20
	keys, r := gatherKeys(t, n)
	msg := []byte("m")
	for _, descend := range []bool{false, true} {
		g := newGather(r, testRound, msg)
		g.descend = descend
		require.NoError(t, g.addOwn(0, share(t, keys[0], r, msg)))
		badSender := map[int]bool{5: true, 13: true}
		for i := 1; i < n; i++ {
			m := msg
			if badSender[i] {
				m = []byte("other")
			}
			allowed := set(i)
			if i == 13 {
				allowed = set(13, 14) // a sub-leader whose member 14 is below it
				require.NoError(t, g.addReply(i, allowed, share(t, keys[i], r, m), nil, []FailureMsg{{Member: 14, Reason: "x"}}))
				continue
			}
			if i == 14 {
				continue
			}
			require.NoError(t, g.addReply(i, allowed, share(t, keys[i], r, m), nil, nil))
		}
		rejected := g.settle()
		senders := []int{}
		for _, p := range rejected {
			senders = append(senders, p.sender)
		}
		require.ElementsMatch(t, []int{5, 13}, senders)
		require.Equal(t, n-3, g.signed(), "everyone but 5, 13 and 14")
		require.NoError(t, cosi.VerifyPartial(r, msg, g.agg))
		want := map[int]string{5: "signature share does not verify", 13: "signature share does not verify"}
		if descend {
			// 13 answered for a subtree: any of it may have sent the bad share.
			want = map[int]string{5: "signature share does not verify"}
		}
		require.Equal(t, want, g.failure, "descend=%v", descend)
		require.False(t, g.claimed[14], "14 is released with its sub-leader's reply")
	}
}
