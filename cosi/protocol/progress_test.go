package protocol

import (
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

// rootRound is the root's round over n members with threshold need, without a
// network: the test fills in what has been gathered and calls progress. The root's own
// check has answered; wait lists the members still asked.
func rootRound(t *testing.T, n, need int, wait ...int) (*round, []*cosi.PrivateKey) {
	t.Helper()
	keys, roster := gatherKeys(t, n)
	r := &round{
		roster:      roster,
		policy:      &cosi.Policy{Threshold: need},
		g:           newGather(roster, testRound, progressMsg),
		replyAt:     time.Now().Add(time.Hour),
		pending:     map[askKey]askedNode{},
		provisional: map[int]string{},
		checked:     true,
	}
	for _, m := range wait {
		si := network.NewServerIdentity(localnet.Suite.Point().Pick(localnet.Suite.RandomStream()), network.NewTCPAddress("127.0.0.1:1"))
		n := onet.NewTreeNode(m, si)
		r.pending[askKey{id: n.ID}] = askedNode{node: n, allowed: set(m)}
	}
	return r, keys
}

var progressMsg = []byte("progress")

func (r *round) addShare(t *testing.T, k *cosi.PrivateKey, m int) {
	t.Helper()
	require.NoError(t, r.g.addReply(m, set(m), share(t, k, r.roster, progressMsg), nil, nil))
}

func requireRoundError(t *testing.T, err error, signed int, failed ...int) *RoundError {
	t.Helper()
	var re *RoundError
	require.ErrorAs(t, err, &re)
	require.Equal(t, signed, re.Signed)
	require.Equal(t, failed, failedMembers(re.Failures))
	return re
}

// The root stops as soon as the failures recorded so far put the threshold out of
// reach, without waiting for the members still asked.
func TestProgressUnreachableByFailures(t *testing.T) {
	r, keys := rootRound(t, 4, 3, 3)
	require.NoError(t, r.g.addOwn(0, share(t, keys[0], r.roster, progressMsg)))
	r.g.fail(1, "dead")
	r.g.fail(2, "dead")
	res, err, over := r.progress()
	require.True(t, over)
	require.Nil(t, res)
	requireRoundError(t, err, 1, 1, 2)
}

// Partials not yet verified that may reach the threshold are verified at once, and
// the round ends with them while a member is still asked.
func TestProgressThresholdFromUnverifiedPartials(t *testing.T) {
	r, keys := rootRound(t, 4, 3, 3)
	require.NoError(t, r.g.addOwn(0, share(t, keys[0], r.roster, progressMsg)))
	r.addShare(t, keys[1], 1)
	r.addShare(t, keys[2], 2)
	res, err, over := r.progress()
	require.True(t, over)
	require.NoError(t, err)
	require.Equal(t, []int{0, 1, 2}, res.Signature.Mask().Members())
	require.NoError(t, cosi.VerifyPartial(r.roster, progressMsg, res.Signature))
}

// While no decision can follow, partials wait unverified (so that the next ones are
// checked with them in one pairing check), and the linger window does not start: the
// outcome is still open when every member still missing may sign.
func TestProgressUndecidedWaits(t *testing.T) {
	r, keys := rootRound(t, 4, 3, 2)
	r.linger = time.Hour
	require.NoError(t, r.g.addOwn(0, share(t, keys[0], r.roster, progressMsg)))
	r.g.fail(3, "dead")
	r.addShare(t, keys[1], 1)
	res, err, over := r.progress()
	require.False(t, over)
	require.Nil(t, res)
	require.NoError(t, err)
	require.Equal(t, 1, r.g.unverified(), "the partial was verified with no decision to make")
	require.True(t, r.lingerUntil.IsZero(), "lingering started before the outcome was known")
}

// Unverified refusals that would put the threshold out of reach are verified at once,
// and the round ends on them.
func TestProgressUnreachableByUnverifiedRefusals(t *testing.T) {
	r, keys := rootRound(t, 5, 4, 3)
	require.NoError(t, r.g.addOwn(0, share(t, keys[0], r.roster, progressMsg)))
	r.g.fail(4, "dead")
	ref, err := r.g.checkRefusal(RefusalMsg{Member: 2, Reason: "differs",
		Signature: refusal(t, keys[2], r.roster, testRound, progressMsg, "differs")})
	require.NoError(t, err)
	require.NoError(t, r.g.addReply(1, set(1, 2), share(t, keys[1], r.roster, progressMsg), []Refusal{ref}, nil))
	res, err, over := r.progress()
	require.True(t, over)
	require.Nil(t, res)
	re := requireRoundError(t, err, 2, 4)
	require.Equal(t, []int{2}, refusedMembers(re.Refusals))
}

// When everyone asked has answered short of the threshold, the members nobody
// accounted for are reported as not answering, and nobody else.
func TestProgressEveryoneAnsweredShort(t *testing.T) {
	r, keys := rootRound(t, 4, 3)
	require.NoError(t, r.g.addOwn(0, share(t, keys[0], r.roster, progressMsg)))
	r.g.fail(1, "dead")
	_, err, over := r.progress()
	require.True(t, over)
	re := requireRoundError(t, err, 1, 1, 2, 3)
	require.Equal(t, []Failure{{1, "dead"}, {2, "no answer"}, {3, "no answer"}}, re.Failures)
}
