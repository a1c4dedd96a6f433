package protocol

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/chainiac/chainiac/cosi"
)

// With Linger, a member that refuses after the threshold was reached is still
// reported, and so are the late signers.
func TestLingerReportsLateAnswers(t *testing.T) {
	n := 7
	c := newCluster(t, n, rolesOf(lateRefuses, 3))
	c.linger = 8 * time.Second
	msg := []byte("linger")
	res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 20*time.Second)
	require.NoError(t, err)
	requireValid(t, c, msg, res)
	require.Len(t, res.Refusals, 1, "the late refusal reached the caller")
	require.Equal(t, 3, res.Refusals[0].Member)
	_, err = cosi.VerifyRefusal(c.roster, res.Round, msg, res.Refusals[0].Reason, res.Refusals[0].Signature)
	require.NoError(t, err)
	require.Equal(t, n-1, res.Signature.Mask().Count(), "every honest member signed")
}

// Lingering never turns a reached threshold into a failure: a dead member only makes
// the root wait until it is known to be lost.
func TestLingerWithDeadMember(t *testing.T) {
	n := 5
	c := newCluster(t, n, rolesOf(dead, 2))
	c.linger = 3 * time.Second
	msg := []byte("linger, one dead")
	res, err := c.sign(t, msg, cosi.DefaultPolicy(n), 10*time.Second)
	require.NoError(t, err)
	requireValid(t, c, msg, res)
	require.Equal(t, n-1, res.Signature.Mask().Count())
}

// With Linger, a round that can no longer reach its threshold still reports every
// refusal, the late ones included.
func TestLingerReportsEveryRefusal(t *testing.T) {
	n := 7
	c := newCluster(t, n, map[int]behaviour{1: refuses, 2: refuses, 3: refuses, 5: lateRefuses})
	c.linger = 8 * time.Second
	_, err := c.sign(t, []byte("linger, refused"), cosi.DefaultPolicy(n), 20*time.Second)
	var re *RoundError
	require.ErrorAs(t, err, &re)
	var who []int
	for _, r := range re.Refusals {
		who = append(who, r.Member)
	}
	require.ElementsMatch(t, []int{1, 2, 3, 5}, who)
}
