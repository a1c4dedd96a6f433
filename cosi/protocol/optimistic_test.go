package protocol

import (
	"fmt"
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/stretchr/testify/require"
)

// With optimistic aggregation (the default) sub-leaders forward sums unchecked, so a
// bad sum reaches the root. The root must find the bad shares, exclude only their
// senders and still reach the threshold with f faulty members: here every sub-leader
// the f allow sends a sum that is not its subtree's (and the other faulty members,
// leaves, do the same for themselves), or the sub-leaders are honest and f leaves
// spread over every subtree send bad shares, so that every honest sub-leader forwards
// a sum that fails and must not be blamed for it.
func TestBadSumsAreFoundByDescent(t *testing.T) {
	for _, n := range []int{16, 64} {
		for _, tc := range []struct {
			name    string
			b       behaviour
			leaders int
		}{
			{"faulty-sub-leaders", badSum, min(DefaultSubtrees(n), faulty(n))},
			{"faulty-leaves-under-honest-sub-leaders", wrongSign, 0},
		} {
			t.Run(fmt.Sprintf("n=%d/%s", n, tc.name), func(t *testing.T) {
				roles, bad := faultySubLeaders(t, n, tc.b, tc.leaders)
				require.Len(t, bad, faulty(n))
				c := newCluster(t, n, roles)
				// Naming every sender of a bad share needs every descent answered: a root
				// that has its threshold waits for descents only briefly (descentShare),
				// unless it lingers. The round still ends as soon as everyone answered.
				c.linger = 8 * time.Second
				msg := []byte("bad sums")
				res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 10*time.Second)
				require.NoError(t, err)
				requireValid(t, c, msg, res)
				for m := 0; m < n; m++ {
					_, isBad := roles[m]
					require.Equal(t, !isBad, res.Signature.Mask().Has(m), "member %d", m)
					if isBad {
						require.Positive(t, c.misbehaved[m].Load(), "member %d never misbehaved", m)
					}
				}
				require.Equal(t, bad, failedMembers(res.Failures), "exactly the senders of bad shares are named")
			})
		}
	}
}

// The hardening tests hold with sub-leaders checking every partial too (the behaviour
// before optimistic aggregation, kept as Request.CheckAtSubLeaders).
func TestHardeningWithChecksAtSubLeaders(t *testing.T) {
	checkAtSubLeaders = true
	t.Cleanup(func() { checkAtSubLeaders = false })
	for name, test := range map[string]func(*testing.T){
		"Healthy":                    TestHealthy,
		"FaultyMembersDead":          TestFaultyMembersDead,
		"DeadSubLeaderIsReplaced":    TestDeadSubLeaderIsReplaced,
		"BadSharesAreExcluded":       TestBadSharesAreExcluded,
		"Refusals":                   TestRefusals,
		"BinaryTreeSilentInnerNodes": TestBinaryTreeSilentInnerNodes,
		"MisbehavingSubLeaderCannotSilenceItsLeaves": TestMisbehavingSubLeaderCannotSilenceItsLeaves,
		"InventedRefusalsDoNotSilenceHonestLeaves":   TestInventedRefusalsDoNotSilenceHonestLeaves,
		"BadSumsAreFoundByDescent":                   TestBadSumsAreFoundByDescent,
	} {
		t.Run(name, test)
	}
}
