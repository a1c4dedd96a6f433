package protocol

import (
	"fmt"
	"testing"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
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
	g := newGather(r, msg)
	require.NoError(t, g.addOwn(0, share(t, keys[0], r, msg)))
	require.Error(t, g.addOwn(0, share(t, keys[0], r, msg)), "own share twice")

	s1 := share(t, keys[1], r, msg)
	require.Error(t, g.addReply(1, set(2, 3), s1, nil, nil), "a partial for a member outside the sender's subtree")
	require.NoError(t, g.addReply(1, set(1), s1, nil, nil))
	require.Error(t, g.addReply(1, set(1), s1, nil, nil), "the same signer again")
	require.Error(t, g.addReply(2, set(2, 3), nil, []RefusalMsg{{Member: 2}}, []FailureMsg{{Member: 2}}),
		"one member both refused and failed")
	require.Empty(t, g.settle())
	require.Equal(t, 2, g.signed())
	require.Equal(t, 0, g.lost())
}

// A bad partial releases everything its reply claimed; the good ones are kept.
func TestGatherBadPartialReleasesItsReply(t *testing.T) {
	keys, r := gatherKeys(t, 6)
	msg := []byte("m")
	g := newGather(r, msg)
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

// A parent cannot make a member refuse: a refusal must be signed by the member itself.
func TestGatherForgedRefusalBecomesFailure(t *testing.T) {
	keys, r := gatherKeys(t, 3)
	msg := []byte("m")
	g := newGather(r, msg)
	reason := "rebuild differs"
	genuine := share(t, keys[1], r, refusalMessage(msg, reason)).Encode()
	byParent := share(t, keys[0], r, refusalMessage(msg, reason)).Encode()
	require.NoError(t, g.addReply(1, set(1, 2), nil, []RefusalMsg{
		{Member: 1, Reason: reason, Signature: genuine},
		{Member: 2, Reason: reason, Signature: byParent},
	}, nil))
	refusals := g.verifiedRefusals()
	require.Len(t, refusals, 1)
	require.Equal(t, 1, refusals[0].Member)
	require.Contains(t, g.failures(), Failure{Member: 2, Reason: "refusal with an invalid signature"})

	// Nor can a refusal for one message, or one reason, stand for another.
	g = newGather(r, []byte("another message"))
	require.NoError(t, g.addReply(1, set(1), nil, []RefusalMsg{{Member: 1, Reason: reason, Signature: genuine}}, nil))
	require.Empty(t, g.verifiedRefusals())
	g = newGather(r, msg)
	require.NoError(t, g.addReply(1, set(1), nil, []RefusalMsg{{Member: 1, Reason: "another reason", Signature: genuine}}, nil))
	require.Empty(t, g.verifiedRefusals())
}
