package protocol

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/golden"
	"github.com/stretchr/testify/require"
)

var sizes = []int{5, 16, 64}

func faulty(n int) int { return (n - 1) / 3 }

// spread picks k distinct non-root members, spaced across the roster so that both
// sub-leaders and leaves are hit.
func spread(n, k int) []int {
	var out []int
	for i := 0; i < k; i++ {
		out = append(out, 1+(i*(n-1))/k)
	}
	return out
}

func rolesOf(b behaviour, members ...int) map[int]behaviour {
	roles := map[int]behaviour{}
	for _, m := range members {
		roles[m] = b
	}
	return roles
}

func requireValid(t *testing.T, c *cluster, msg []byte, res *Result) {
	t.Helper()
	require.NoError(t, cosi.Verify(c.roster, msg, res.Signature, cosi.DefaultPolicy(c.roster.Len())))
}

func TestHealthy(t *testing.T) {
	for _, n := range sizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			c := newCluster(t, n, nil)
			for round := 0; round < 3; round++ {
				msg := []byte(fmt.Sprintf("healthy round %d", round))
				res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 10*time.Second)
				require.NoError(t, err)
				requireValid(t, c, msg, res)
				require.Empty(t, res.Refusals)
			}
		})
	}
}

func TestFaultyMembersDead(t *testing.T) {
	for _, n := range sizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			deadOnes := spread(n, faulty(n))
			c := newCluster(t, n, rolesOf(dead, deadOnes...))
			msg := []byte("with dead members")
			res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 10*time.Second)
			require.NoError(t, err)
			requireValid(t, c, msg, res)
			for _, d := range deadOnes {
				require.False(t, res.Signature.Mask().Has(d), "dead member %d counted", d)
			}
		})
	}
}

func TestDeadSubLeaderIsReplaced(t *testing.T) {
	for _, n := range sizes {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
			require.NoError(t, err)
			leader := tree.Root.Children[0]
			c := newCluster(t, n, rolesOf(dead, leader.RosterIndex))
			msg := []byte("dead sub-leader")
			// Everyone alive must sign, which needs the sub-leader's leaves.
			res, err := c.sign(t, msg, cosi.Policy{Threshold: n - 1}, 10*time.Second)
			require.NoError(t, err)
			requireValid(t, c, msg, res)
			for _, leaf := range leader.Children {
				require.True(t, res.Signature.Mask().Has(leaf.RosterIndex), "leaf %d lost", leaf.RosterIndex)
			}
		})
	}
}

func TestBadSharesAreExcluded(t *testing.T) {
	for _, n := range sizes {
		for _, b := range []behaviour{garbage, wrongSign} {
			t.Run(fmt.Sprintf("n=%d/behaviour=%d", n, b), func(t *testing.T) {
				// A leaf of the first subtree, and a sub-leader.
				tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
				require.NoError(t, err)
				bad := []int{tree.Root.Children[0].Children[0].RosterIndex}
				if n > 5 {
					bad = append(bad, tree.Root.Children[1].RosterIndex)
				}
				c := newCluster(t, n, rolesOf(b, bad...))
				c.linger = 8 * time.Second // a bad sender is named once its descent answered
				msg := []byte("bad shares")
				res, err := c.sign(t, msg, cosi.Policy{Threshold: n - len(bad)}, 10*time.Second)
				require.NoError(t, err, "the round must survive bad shares")
				requireValid(t, c, msg, res)
				for _, m := range bad {
					require.False(t, res.Signature.Mask().Has(m))
					require.Contains(t, failedMembers(res.Failures), m)
				}
			})
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, n := range sizes {
		t.Run(fmt.Sprintf("n=%d/up-to-f", n), func(t *testing.T) {
			refusers := spread(n, faulty(n))
			c := newCluster(t, n, rolesOf(refuses, refusers...))
			msg := []byte("some refuse")
			// Wait for everyone, so that every refusal is reported.
			res, err := c.sign(t, msg, cosi.Policy{Threshold: n - len(refusers)}, 10*time.Second)
			require.NoError(t, err)
			requireValid(t, c, msg, res)
			require.Equal(t, refusers, refusedMembers(res.Refusals))
			for _, r := range res.Refusals {
				require.True(t, r.Key.Equal(c.keys[r.Member].Public()))
				require.Equal(t, fmt.Sprintf("member %d: rebuild differs", r.Member), r.Reason)
			}
		})
		t.Run(fmt.Sprintf("n=%d/more-than-f", n), func(t *testing.T) {
			refusers := spread(n, faulty(n)+1)
			c := newCluster(t, n, rolesOf(refuses, refusers...))
			_, err := c.sign(t, []byte("too many refuse"), cosi.DefaultPolicy(n), 10*time.Second)
			var re *RoundError
			require.ErrorAs(t, err, &re)
			require.ErrorIs(t, err, ErrUnreachable)
			require.Equal(t, refusers, refusedMembers(re.Refusals))
			require.Contains(t, err.Error(), "rebuild differs")
		})
	}
}

func TestImpossibleFromTheStart(t *testing.T) {
	n := 16
	deadOnes := spread(n, faulty(n)+1)
	c := newCluster(t, n, rolesOf(dead, deadOnes...))
	_, err := c.sign(t, []byte("cannot work"), cosi.DefaultPolicy(n), 20*time.Second)
	require.ErrorIs(t, err, ErrUnreachable)
	var re *RoundError
	require.ErrorAs(t, err, &re)
	for _, d := range deadOnes {
		require.Contains(t, failedMembers(re.Failures), d)
	}
	// Dead members are known at once: the round must not sit out its timeout, which
	// would name them "no reply in time" (a wall-time bound would fail under load).
	for _, f := range re.Failures {
		require.NotContains(t, f.Reason, "no reply", "member %d", f.Member)
	}
}

func TestBadRequest(t *testing.T) {
	c := newCluster(t, 5, nil)
	_, err := c.sign(t, nil, cosi.DefaultPolicy(5), time.Second)
	require.ErrorContains(t, err, "message of 0 bytes")
	_, err = c.sign(t, []byte("m"), cosi.Policy{Threshold: 6}, time.Second)
	require.True(t, errors.Is(err, cosi.ErrPolicy), "%v", err)
}

func failedMembers(fs []Failure) []int {
	var out []int
	for _, f := range fs {
		out = append(out, f.Member)
	}
	return out
}

func refusedMembers(rs []Refusal) []int {
	var out []int
	for _, r := range rs {
		out = append(out, r.Member)
	}
	sort.Ints(out)
	return out
}

// A member may announce only to its subtree: a node that took an announcement from
// anyone else would answer that member (with the budget it chose) instead of its
// parent. Here a leaf announces, with a budget of 1 ms, to every node that is not its
// ancestor, and it does so before the leaves of the other subtree hear from their
// (slow) sub-leader: nobody may answer it, and everyone signs.
func TestAnnouncementFromNonAncestorIgnored(t *testing.T) {
	n := 5
	tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	slow, other := tree.Root.Children[0], tree.Root.Children[1]
	require.NotEmpty(t, slow.Children)
	roles := map[int]behaviour{slow.RosterIndex: slowLookup, other.Children[0].RosterIndex: rogue}
	c := newCluster(t, n, roles)
	msg := []byte("announcement from a non-ancestor")
	res, err := c.sign(t, msg, cosi.Policy{Threshold: n}, 5*time.Second)
	require.Positive(t, c.misbehaved[other.Children[0].RosterIndex].Load())
	require.NoError(t, err)
	requireValid(t, c, msg, res)
	require.Zero(t, c.rogueReplies.Load(), "a node answered an announcement from a non-ancestor")
}

// One member must not be able to cut the root's round short by announcing to it.
func TestAnnouncementToRootIgnored(t *testing.T) {
	n := 16
	tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	leaf := tree.Root.Children[0].Children[0].RosterIndex
	c := newCluster(t, n, rolesOf(hurries, leaf))
	msg := []byte("rogue announcement")
	res, err := c.sign(t, msg, cosi.Policy{Threshold: n}, 5*time.Second)
	require.NoError(t, err, "everyone signs; one member's message to the root must not end the round")
	requireValid(t, c, msg, res)
}

// onet hands over a message from a tree node it cannot find with a nil TreeNode (and
// then skips its sender check): the root must ignore it, not panic and leave Wait
// hanging.
func TestMessageFromUnknownTreeNodeIgnored(t *testing.T) {
	n := 5
	tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	leaf := tree.Root.Children[0].Children[0].RosterIndex
	c := newCluster(t, n, rolesOf(forges, leaf))
	msg := []byte("forged sender")
	res, err := c.sign(t, msg, cosi.Policy{Threshold: n}, 3*time.Second)
	require.NoError(t, err)
	requireValid(t, c, msg, res)
}

// In a deeper tree (the simulation's binary tree), a silent node two levels down is
// replaced by its parent, and a silent node's grandchildren still count.
func TestBinaryTreeSilentInnerNodes(t *testing.T) {
	n := 15
	probe := dummyRoster(t, n).GenerateBinaryTree()
	inner := probe.Root.Children[0].Children[0] // depth 2, with two leaf children
	require.NotEmpty(t, inner.Children)
	c := newCluster(t, n, rolesOf(swallows, inner.RosterIndex, probe.Root.Children[1].RosterIndex))
	msg := []byte("binary tree")
	// The two silent nodes cost a subtree timeout each level (a share of the round's),
	// so the round's timeout leaves room for a loaded machine: 3 s failed under load.
	res, err := c.signOver(t, c.net.Roster.GenerateBinaryTree(), msg, cosi.Policy{Threshold: n - 2}, 8*time.Second)
	require.NoError(t, err, "only the two swallowing nodes are lost")
	requireValid(t, c, msg, res)
}

// A check that ignores its deadline must not hold its node's reply: the node reports
// itself failed and its parent still gets the rest of its subtree.
func TestCheckIgnoringItsDeadline(t *testing.T) {
	n := 5
	c := newCluster(t, n, rolesOf(stuck, 2))
	res, err := c.sign(t, []byte("slow check"), cosi.Policy{Threshold: n - 1}, 700*time.Millisecond)
	require.NoError(t, err)
	require.False(t, res.Signature.Mask().Has(2))
	require.Contains(t, failedMembers(res.Failures), 2)
}

// Wait returns when its context ends, whatever the round is doing.
func TestWaitHonoursItsContext(t *testing.T) {
	n := 5
	c := newCluster(t, n, rolesOf(silent, 1))
	tree, err := NewTree(c.net.Roster, DefaultSubtrees(n))
	require.NoError(t, err)
	pi, err := c.net.CreateProtocol(0, testProtocol, tree)
	require.NoError(t, err)
	p := pi.(*Protocol)
	p.Request = Request{RosterRef: testRef, Message: []byte("m"), Data: []byte("data"),
		Policy: cosi.Policy{Threshold: n}, Timeout: 2 * time.Second}
	require.NoError(t, p.Start())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = p.Wait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	// The round itself still ends by its own timeout and reports the silent member.
	_, err = p.Wait(context.Background())
	require.ErrorIs(t, err, ErrUnreachable)
}

// A misbehaving sub-leader cannot keep its leaves out of the round: the root asks them
// directly, in a fresh instance, and counts them.
func TestMisbehavingSubLeaderCannotSilenceItsLeaves(t *testing.T) {
	tests := []struct {
		name      string
		role      behaviour
		timeout   time.Duration
		leaderIn  bool // whether the sub-leader's own share counts
		rationale string
	}{
		{"silent: asks nobody, answers nothing", silent, 2 * time.Second, false, ""},
		{"swallows: asks its leaves, keeps their answers", swallows, 2 * time.Second, false,
			"its leaves have finished by the time the root gives up on it"},
		{"blames: bad share, reports its leaves failed", blames, 5 * time.Second, false,
			"a reply whose partial does not verify is discarded whole, hearsay included"},
		{"liar: good share, reports its leaves failed", liar, 5 * time.Second, true,
			"a failure reported by another member is hearsay until the member is asked"},
		{"forgets: good share, says nothing of its leaves", forgets, 5 * time.Second, false,
			"a reply must account for the sender's whole subtree, or it is discarded whole"},
		{"invents: refusals for its whole subtree that do not verify", invents, 5 * time.Second, false,
			"a refusal counts only once its signature verified; the others are asked directly"},
		{"overclaims: its own share under its whole subtree's mask", overclaims, 5 * time.Second, false,
			"a partial that does not verify is dropped, and the sender's subtree asked directly " +
				"(optimistic rounds also ask the sender for its own share alone, which then counts)"},
	}
	n := 16
	tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	leader := tree.Root.Children[1]
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCluster(t, n, rolesOf(tc.role, leader.RosterIndex))
			c.linger = tc.timeout * 8 / 10 // the sub-leader is named once its descent answered
			msg := []byte(tc.name)
			leaderIn := tc.leaderIn || (tc.role == overclaims && !checkAtSubLeaders)
			need := n - 1
			if leaderIn {
				need = n
			}
			res, err := c.sign(t, msg, cosi.Policy{Threshold: need}, tc.timeout)
			require.Positive(t, c.misbehaved[leader.RosterIndex].Load(), "the sub-leader never ran its misbehaviour")
			require.NoError(t, err, tc.rationale)
			requireValid(t, c, msg, res)
			for _, leaf := range leader.Children {
				require.True(t, res.Signature.Mask().Has(leaf.RosterIndex), "leaf %d lost", leaf.RosterIndex)
			}
			require.Equal(t, leaderIn, res.Signature.Mask().Has(leader.RosterIndex))
			if !leaderIn {
				require.Contains(t, failedMembers(res.Failures), leader.RosterIndex)
			}
		})
	}
}

// Every behaviour a test can list has an implementation, and a name without one is an
// error at set-up (newCluster fails the test), not a member quietly running the honest
// protocol.
func TestEveryBehaviourIsImplemented(t *testing.T) {
	for b := honest; b < numBehaviours; b++ {
		_, err := kindOf(b)
		require.NoError(t, err, "behaviour %d", b)
	}
	_, err := kindOf(numBehaviours)
	require.Error(t, err)
}

// faultySubLeaders makes as many sub-leaders faulty as f = ⌊(n−1)/3⌋ allows, and the
// rest of the f faulty members leaves, all with behaviour b. It returns the roles and
// the faulty members.
func faultySubLeaders(t *testing.T, n int, b behaviour, leaders int) (map[int]behaviour, []int) {
	t.Helper()
	tree, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	subs := tree.Root.Children
	require.LessOrEqual(t, leaders, len(subs))
	roles := map[int]behaviour{}
	for _, s := range subs[:leaders] {
		roles[s.RosterIndex] = b
	}
	// The remaining faulty members are leaves, taken round-robin across the subtrees.
	for depth := 0; len(roles) < faulty(n); depth++ {
		progressed := false
		for _, s := range subs {
			if depth < len(s.Children) && len(roles) < faulty(n) {
				roles[s.Children[depth].RosterIndex] = b
				progressed = true
			}
		}
		require.True(t, progressed, "not enough leaves for %d faulty members", faulty(n))
	}
	return roles, sortedKeys(roles)
}

// A sub-leader that answers "every member of my subtree refused" with signatures that
// do not verify accounts for each member exactly once: if its refusals were counted
// before being verified, the root would give up on the threshold before asking
// anyone. With f faulty members in all, as many of them sub-leaders as there are, the
// round must still succeed with every honest member's share.
func TestInventedRefusalsDoNotSilenceHonestLeaves(t *testing.T) {
	for _, n := range sizes {
		subs := DefaultSubtrees(n)
		maxLeaders := min(subs, faulty(n))
		leaders := []int{maxLeaders}
		if golden.Exhaustive() {
			leaders = nil
			for k := 1; k <= maxLeaders; k++ {
				leaders = append(leaders, k)
			}
		}
		for _, k := range leaders {
			t.Run(fmt.Sprintf("n=%d/faulty-sub-leaders=%d", n, k), func(t *testing.T) {
				roles, bad := faultySubLeaders(t, n, invents, k)
				c := newCluster(t, n, roles)
				msg := []byte("invented refusals")
				res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 10*time.Second)
				require.NoError(t, err)
				requireValid(t, c, msg, res)
				for m := 0; m < n; m++ {
					_, isBad := roles[m]
					require.Equal(t, !isBad, res.Signature.Mask().Has(m), "member %d", m)
				}
				require.Empty(t, res.Refusals, "no refusal verified")
				require.Equal(t, bad, failedMembers(res.Failures))
			})
		}
	}
}

// A panic in the root's round (here in the application's roster look-up) becomes the
// round's error: Wait returns instead of hanging until its context ends.
func TestPanicBecomesTheRoundsError(t *testing.T) {
	c := newCluster(t, 2, rolesOf(panics, 0))
	_, err := c.sign(t, []byte("m"), cosi.Policy{Threshold: 2}, 2*time.Second)
	require.ErrorContains(t, err, "protocol: internal error: member 0: roster look-up panics")
}

// The caller's round ID is the one every refusal signs; without one, the root draws a
// fresh ID for each round.
func TestRequestRoundNamesTheRefusals(t *testing.T) {
	n := 4
	c := newCluster(t, n, rolesOf(refuses, 2))
	msg := []byte("round named by the caller")
	c.round = cosi.RoundID{0x70, 0x72, 0x6f, 0x70}
	res, err := c.sign(t, msg, cosi.Policy{Threshold: n - 1}, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, c.round, res.Round)
	require.Len(t, res.Refusals, 1)
	_, err = cosi.VerifyRefusal(c.roster, c.round, msg, res.Refusals[0].Reason, res.Refusals[0].Signature)
	require.NoError(t, err)

	c.round = cosi.RoundID{}
	drawn := map[cosi.RoundID]bool{}
	for range 2 {
		res, err := c.sign(t, msg, cosi.Policy{Threshold: n - 1}, 10*time.Second)
		require.NoError(t, err)
		require.NotEqual(t, cosi.RoundID{}, res.Round, "a round without an ID from the caller")
		_, err = cosi.VerifyRefusal(c.roster, res.Round, msg, res.Refusals[0].Reason, res.Refusals[0].Signature)
		require.NoError(t, err)
		drawn[res.Round] = true
	}
	require.Len(t, drawn, 2, "each round draws its own ID")
}
