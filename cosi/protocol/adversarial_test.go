package protocol

// Adversarial tests of the root's aggregation, from an independent review, with
// scripted faulty members: attacks that held (cancelling shares, faulty leaves
// everywhere), and the reproducers of the four findings, fixed since.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/kyber/v3/pairing/bn256"
	"go.dedis.ch/onet/v3"
)

// script is what a scripted (faulty) member does with an announcement. It runs in a
// goroutine of its own, so it may sleep; it returns the reply to send, or nil for none.
type script func(s *scripted, m announceMsg) *Reply

type advCluster struct {
	*cluster
	checks []atomic.Int32 // Check calls per member: one per announcement it answered
	wg     sync.WaitGroup // scripts still running
}

// newAdvCluster is newCluster with scripted members and, for the honest ones, an
// optional delay in their check (an honest, slower rebuild look-up).
func newAdvCluster(t *testing.T, n int, scripts map[int]script, checkDelay time.Duration) *advCluster {
	t.Helper()
	c := newServers(t, n)
	ac := &advCluster{cluster: c, checks: make([]atomic.Int32, n)}
	// Registered after the servers' Close, so it runs before it: scripts finish first.
	t.Cleanup(ac.wg.Wait)
	for i, srv := range c.net.Servers {
		i := i
		var factory onet.NewProtocol
		if sc, ok := scripts[i]; ok {
			factory = func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
				s := &scripted{TreeNodeInstance: tni, ac: ac, i: i, run: sc}
				return s, tni.RegisterHandlers(s.onAnnounce, s.onReply)
			}
		} else {
			factory = func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
				env := c.env(i, honest)
				check := env.Check
				env.Check = func(ctx context.Context, req CheckRequest) error {
					ac.checks[i].Add(1)
					if checkDelay > 0 {
						select {
						case <-time.After(checkDelay):
						case <-ctx.Done():
						}
					}
					return check(ctx, req)
				}
				return New(tni, env)
			}
		}
		_, err := srv.ProtocolRegister(testProtocol, factory)
		require.NoError(t, err)
	}
	return ac
}

type scripted struct {
	*onet.TreeNodeInstance
	ac  *advCluster
	i   int
	run script
}

func (s *scripted) Start() error           { return nil }
func (s *scripted) onReply(replyMsg) error { return nil }

func (s *scripted) onAnnounce(m announceMsg) error {
	s.ac.misbehaved[s.i].Add(1)
	s.ac.wg.Add(1)
	go func() {
		defer s.ac.wg.Done()
		defer s.Done()
		if r := s.run(s, m); r != nil {
			_ = s.SendTo(m.TreeNode, r)
		}
	}()
	return nil
}

func (s *scripted) key() *cosi.PrivateKey { return s.ac.keys[s.i] }

// share is this member's own valid share of msg.
func (s *scripted) share(msg []byte) *cosi.Signature {
	sig, err := s.key().Sign(s.ac.roster, msg)
	if err != nil {
		panic(err)
	}
	return sig
}

// badOver is a well-formed partial whose mask names members and whose point is this
// member's share of another message: it does not verify.
func (s *scripted) badOver(members map[int]bool) []byte {
	enc := s.share([]byte("not the message")).Encode()
	bitmap := enc[cosi.PointSize+2:]
	clear(bitmap)
	for mem := range members {
		bitmap[mem/8] |= 1 << (mem % 8)
	}
	return enc
}

// shifted is this member's share of msg with P added (sign +1) or subtracted (−1),
// where P is H("offset"): on its own it does not verify, but two faulty members
// shifting by +P and −P cancel in any sum holding both.
func (s *scripted) shifted(msg []byte, sign int) []byte {
	suite := bn256.NewSuite()
	enc := s.share(msg).Encode()
	pt := suite.G1().Point()
	if err := pt.UnmarshalBinary(enc[:cosi.PointSize]); err != nil {
		panic(err)
	}
	off := suite.G1().Point().Mul(suite.G1().Scalar().SetInt64(12345), nil)
	if sign < 0 {
		off.Neg(off)
	}
	pt.Add(pt, off)
	b, err := pt.MarshalBinary()
	if err != nil {
		panic(err)
	}
	copy(enc, b)
	return enc
}

func (ac *advCluster) signTree(t *testing.T, tree *onet.Tree, msg []byte, policy cosi.Policy, timeout time.Duration, checkAtSubLeaders bool) (*Result, error, time.Duration) {
	t.Helper()
	pi, err := ac.net.CreateProtocol(0, testProtocol, tree)
	require.NoError(t, err)
	p := pi.(*Protocol)
	p.Request = Request{RosterRef: testRef, Message: msg, Data: []byte("data"), Policy: policy, Timeout: timeout,
		Linger: ac.linger, CheckAtSubLeaders: checkAtSubLeaders}
	start := time.Now()
	require.NoError(t, p.Start())
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	res, err := p.Wait(ctx)
	return res, err, time.Since(start)
}

func twoLevel(t *testing.T, ac *advCluster) *onet.Tree {
	tree, err := NewTree(ac.net.Roster, DefaultSubtrees(len(ac.net.Servers)))
	require.NoError(t, err)
	return tree
}

// requireHonestIncluded checks the invariant of the brief: the round succeeded, the
// signature verifies, every honest member is in the mask and none is named failed.
func requireHonestIncluded(t *testing.T, ac *advCluster, msg []byte, faultyOnes map[int]bool, res *Result, err error) {
	t.Helper()
	require.NoError(t, err)
	require.NoError(t, cosi.Verify(ac.roster, msg, res.Signature, cosi.DefaultPolicy(ac.roster.Len())))
	for _, f := range res.Failures {
		require.True(t, faultyOnes[f.Member], "honest member %d named failed: %s", f.Member, f.Reason)
	}
	var out []int
	for m := 0; m < ac.roster.Len(); m++ {
		if !faultyOnes[m] && !res.Signature.Mask().Has(m) {
			out = append(out, m)
		}
	}
	if len(out) > 0 {
		// Without Linger the root stops at the threshold: members still answering
		// are left out without blame, by design.
		t.Logf("honest members left out (not named): %v", out)
	}
}

// FINDING 1 (fixed: every ask has its own wait deadline). A faulty sub-leader times
// its bad sum to reach the root just before the root's wait deadline (0.7 of the round's budget, which a child can compute from its
// own budget: 0.7/0.6 of it, counted from receipt). The root descends: it asks the
// sub-leader alone and each of its leaves directly. Moments later its one-shot wait
// timer fires, and giveUpOnSilent replaces every pending node, the leaves it has just
// asked included: honest leaves are named failed ("no reply in time") and left out.
// Three such sub-leaders at 64 nodes (f = 21) cost 3 + 3·7 = 24 members > f and the
// round fails; two at 16 nodes (f = 5) cost 2 + 2·3 = 8. The same holds with
// CheckAtSubLeaders (the root then fails the sub-leader and asks its children at the
// same moment), and with a liar that reports its leaves failed at that moment.
func TestLateBadSumBlamesFreshlyAskedLeaves(t *testing.T) {
	for _, tc := range []struct{ n, leaders int }{{16, 2}, {64, 3}} {
		for _, checkAt := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/checkAtSubLeaders=%v", tc.n, checkAt), func(t *testing.T) {
				probe, err := NewTree(dummyRoster(t, tc.n), DefaultSubtrees(tc.n))
				require.NoError(t, err)
				// The leaves' check delay stands for the round trip to a leaf on a
				// real network: the attacker needs its bad sum to land less than
				// one leaf round trip before the root's wait deadline.
				const margin = 100 * time.Millisecond
				late := func(s *scripted, m announceMsg) *Reply {
					if len(s.Children()) == 0 {
						// Asked alone in the descent: a valid share, so that
						// only the leaves' exclusion is at stake.
						return &Reply{Signature: s.share(m.Message).Encode()}
					}
					budget := time.Duration(m.BudgetMs) * time.Millisecond
					time.Sleep(time.Duration(float64(budget)*waitShare/childShare) - margin)
					return &Reply{Signature: s.badOver(subtreeMembers(s.TreeNode()))}
				}
				scripts := map[int]script{}
				faultyOnes := map[int]bool{}
				for _, s := range probe.Root.Children[:tc.leaders] {
					scripts[s.RosterIndex] = late
					faultyOnes[s.RosterIndex] = true
				}
				ac := newAdvCluster(t, tc.n, scripts, 300*time.Millisecond)
				msg := []byte("late bad sum")
				res, err, took := ac.signTree(t, twoLevel(t, ac), msg, cosi.DefaultPolicy(tc.n), 5*time.Second, checkAt)
				t.Logf("round took %v; err %v", took, err)
				if res != nil {
					t.Logf("failures %v", res.Failures)
				}
				var re *RoundError
				if errors.As(err, &re) {
					t.Logf("round error; failures %v", re.Failures)
				}
				requireHonestIncluded(t, ac, msg, faultyOnes, res, err)
			})
		}
	}
}

// FINDING 2 (fixed: an ask is keyed by the instance it went through and the node,
// not the node alone). In a tree deeper than two levels, one faulty inner node A (a
// child of the root, whose child C has children) reports C failed (hearsay, so the root asks C
// alone) and sends a bad sum for the rest of its subtree (so the root descends and
// asks C again, for C's whole subtree). Both asks share C's tree node ID: the second
// overwrites the first in round.pending, so C's answer to the first ask (its own
// share) is checked against C's whole subtree, refused ("accounts for 1 of 3
// members"), and C, honest, is named failed and left out.
func TestHearsayAndDescentAskTheSameNodeTwice(t *testing.T) {
	n := 15
	probe := dummyRoster(t, n).GenerateBinaryTree()
	a := probe.Root.Children[0]
	cNode := a.Children[0]
	require.NotEmpty(t, cNode.Children)
	cIdx := cNode.RosterIndex
	lying := func(s *scripted, m announceMsg) *Reply {
		if len(s.Children()) == 0 {
			return &Reply{Signature: s.share(m.Message).Encode()}
		}
		// Late enough that the other subtree has answered: the bad sum then
		// reaches the threshold with it, and the root settles at once.
		time.Sleep(500 * time.Millisecond)
		rest := subtreeMembers(s.TreeNode())
		delete(rest, cIdx)
		return &Reply{Signature: s.badOver(rest),
			Failures: []FailureMsg{{Member: int32(cIdx), Reason: "dead, says its parent"}}}
	}
	for _, checkAt := range []bool{false, true} {
		t.Run(fmt.Sprintf("checkAtSubLeaders=%v", checkAt), func(t *testing.T) {
			ac := newAdvCluster(t, n, map[int]script{a.RosterIndex: lying}, 0)
			msg := []byte("hearsay and descent")
			res, err, _ := ac.signTree(t, ac.net.Roster.GenerateBinaryTree(), msg, cosi.DefaultPolicy(n), 8*time.Second, checkAt)
			if res != nil {
				t.Logf("failures %v", res.Failures)
			}
			requireHonestIncluded(t, ac, msg, map[int]bool{a.RosterIndex: true}, res, err)
		})
	}
}

// FINDING 3 (liveness; fixed by descentShare). A faulty member whose bad share makes
// the root descend, and that then stays silent when asked directly, holds the round until the root's wait
// deadline (0.7 of the timeout: 14 s at the default 20 s), although the threshold was
// reached at once: the root waits for every descent. With CheckAtSubLeaders the same
// members cost nothing (the sub-leader or the root drops them at once). Every round
// pays it, for one faulty member. Checked here by the reason the root records: a
// member given up at the wait deadline is "no reply in time".
func TestSilentWhenAskedAgainDoesNotHoldTheRound(t *testing.T) {
	n := 16
	probe, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		member int
	}{
		{"sub-leader", probe.Root.Children[0].RosterIndex},
		{"leaf", probe.Root.Children[1].Children[0].RosterIndex},
	} {
		for _, checkAt := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/checkAtSubLeaders=%v", tc.name, checkAt), func(t *testing.T) {
				var first atomic.Bool
				once := func(s *scripted, m announceMsg) *Reply {
					if !first.CompareAndSwap(false, true) {
						return nil // asked again: silent
					}
					if len(s.Children()) > 0 {
						return &Reply{Signature: s.badOver(subtreeMembers(s.TreeNode()))}
					}
					return &Reply{Signature: s.badOver(map[int]bool{s.i: true})}
				}
				ac := newAdvCluster(t, n, map[int]script{tc.member: once}, 0)
				msg := []byte("silent when asked again")
				res, err, took := ac.signTree(t, twoLevel(t, ac), msg, cosi.DefaultPolicy(n), 4*time.Second, checkAt)
				t.Logf("round took %v (timeout 4s)", took)
				require.NoError(t, err)
				requireHonestIncluded(t, ac, msg, map[int]bool{tc.member: true}, res, err)
				for _, f := range res.Failures {
					require.NotContains(t, f.Reason, "no reply", "the round waited for member %d until its wait deadline", f.Member)
				}
			})
		}
	}
}

// Tried, holds: two faulty leaves in different subtrees shift their shares by +P and
// −P (a third sends a plain bad share, so that the root bisects and can split the
// pair). Their sums cancel wherever both are included: the aggregate is then exactly
// the honest sum, which is a valid multi-signature; wherever they are split, each is
// found bad and asked alone. No honest member may be named, and the signature must
// verify.
func TestCancellingShares(t *testing.T) {
	for _, n := range []int{16, 64} {
		for _, third := range []bool{false, true} {
			t.Run(fmt.Sprintf("n=%d/third=%v", n, third), func(t *testing.T) {
				probe, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
				require.NoError(t, err)
				subs := probe.Root.Children
				plus, minus := subs[0].Children[0].RosterIndex, subs[len(subs)-1].Children[0].RosterIndex
				var plusOnce, minusOnce atomic.Bool
				scripts := map[int]script{
					// Shifted every time: also when asked alone, so they are found.
					plus: func(s *scripted, m announceMsg) *Reply {
						plusOnce.Store(true)
						return &Reply{Signature: s.shifted(m.Message, +1)}
					},
					minus: func(s *scripted, m announceMsg) *Reply {
						minusOnce.Store(true)
						return &Reply{Signature: s.shifted(m.Message, -1)}
					},
				}
				faultyOnes := map[int]bool{plus: true, minus: true}
				if third {
					bad := subs[1].Children[0].RosterIndex
					scripts[bad] = func(s *scripted, m announceMsg) *Reply {
						return &Reply{Signature: s.badOver(map[int]bool{s.i: true})}
					}
					faultyOnes[bad] = true
				}
				ac := newAdvCluster(t, n, scripts, 0)
				msg := []byte("cancelling shares")
				res, err, _ := ac.signTree(t, twoLevel(t, ac), msg, cosi.DefaultPolicy(n), 8*time.Second, false)
				requireHonestIncluded(t, ac, msg, faultyOnes, res, err)
				require.True(t, plusOnce.Load() && minusOnce.Load())
				// If both shifted members are in the mask, the aggregate is the honest
				// sum plus their true shares: check it equals a fresh aggregate of
				// true shares of the mask's members.
				var parts []*cosi.Signature
				for _, m := range res.Signature.Mask().Members() {
					s, err := ac.keys[m].Sign(ac.roster, msg)
					require.NoError(t, err)
					parts = append(parts, s)
				}
				want, err := cosi.Aggregate(parts...)
				require.NoError(t, err)
				require.Equal(t, want.Encode(), res.Signature.Encode(), "the aggregate is the true shares' sum")
				t.Logf("mask has plus=%v minus=%v; failures %v", res.Signature.Mask().Has(plus), res.Signature.Mask().Has(minus), res.Failures)
			})
		}
	}
}

// Tried, holds (bounded work): f faulty leaves spread over every subtree make every
// sub-leader's sum fail, so the root descends everywhere. Counted by announcements
// answered (each honest member's Check runs once per ask): every honest member is
// asked at most twice, the root about n re-asks in all — linear, not quadratic —
// but, since replies are settled as they come once the threshold is in reach, the
// root also verifies about one pairing per re-asked member (not measurable without a
// hook in production code; see the report).
func TestFaultyLeavesEverywhereReAskCount(t *testing.T) {
	for _, n := range []int{16, 64} {
		t.Run(fmt.Sprintf("n=%d", n), func(t *testing.T) {
			roles, bad := faultySubLeaders(t, n, wrongSign, 0)
			scripts := map[int]script{}
			faultyOnes := map[int]bool{}
			for m := range roles {
				faultyOnes[m] = true
				scripts[m] = func(s *scripted, a announceMsg) *Reply {
					return &Reply{Signature: s.badOver(map[int]bool{s.i: true})}
				}
			}
			ac := newAdvCluster(t, n, scripts, 0)
			ac.linger = 8 * time.Second // to name every faulty member, every descent must answer
			msg := []byte("faulty leaves everywhere")
			res, err, _ := ac.signTree(t, twoLevel(t, ac), msg, cosi.DefaultPolicy(n), 10*time.Second, false)
			requireHonestIncluded(t, ac, msg, faultyOnes, res, err)
			require.ElementsMatch(t, bad, failedMembers(res.Failures))
			total := 0
			for m := range ac.checks {
				got := int(ac.checks[m].Load())
				total += got
				if m != 0 && !faultyOnes[m] {
					require.LessOrEqual(t, got, 2, "member %d asked %d times", m, got)
				}
			}
			t.Logf("n=%d: %d checks in all (n-1 = %d), faulty %d", n, total, n-1, len(bad))
		})
	}
}

// FINDING 4 (not specific to optimistic aggregation; failed about half the runs; fixed
// by the inbox, which keeps one reply per sender and ask, see TestInbox…). A
// faulty leaf floods the root's instance with empty replies. onet drops a message when
// the instance's channel is full ("channel too small"), and the root's reply channel
// has room for n: while the root's loop is in a pairing check the flood fills it, an
// honest sub-leader's reply is dropped, and the sub-leader is named failed ("no reply
// in time"), its leaves asked again at the wait deadline.
func TestReplyFloodAtTheRoot(t *testing.T) {
	n := 16
	probe, err := NewTree(dummyRoster(t, n), DefaultSubtrees(n))
	require.NoError(t, err)
	leaf := probe.Root.Children[0].Children[0].RosterIndex
	flood := func(s *scripted, m announceMsg) *Reply {
		for i := 0; i < 5000; i++ {
			if s.SendTo(s.Root(), &Reply{}) != nil {
				break
			}
		}
		return &Reply{Signature: s.share(m.Message).Encode()}
	}
	ac := newAdvCluster(t, n, map[int]script{leaf: flood}, 0)
	ac.linger = 0
	msg := []byte("flood")
	res, err, took := ac.signTree(t, twoLevel(t, ac), msg, cosi.DefaultPolicy(n), 4*time.Second, false)
	t.Logf("round took %v", took)
	requireHonestIncluded(t, ac, msg, map[int]bool{leaf: true}, res, err)
}
