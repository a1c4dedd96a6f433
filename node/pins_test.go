package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"

	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

func onetRoster(t testing.TB, r *skipchain.Roster) *onet.Roster {
	ids := make([]*network.ServerIdentity, r.Len())
	for i, m := range r.Members() {
		si, err := identity(m)
		require.NoError(t, err)
		ids[i] = si
	}
	return onet.NewRoster(ids)
}

// timestampRound has node `leader` lead a timestamp round over the chain's roster,
// waiting (linger) until every member that can answer has.
func (c *cluster) timestampRound(leader int) (signers int, rep string) {
	snap := c.nodes[leader].chainOf(c.genesis).snapshot()
	ts := timeline.NewTimestamp(snap.head, time.Now())
	res, r := c.nodes[leader].round(context.Background(), snap.roster, "test", ts.Message(), &roundData{}, 20*time.Second)
	if res == nil {
		return 0, fmt.Sprintf("%+v", r)
	}
	return res.Signature.Mask().Count(), ""
}

// deadSubLeaderRound runs, on a fresh cluster of n nodes, a round led by node 0 with
// its first sub-leader stopped, after a round with every member up, and returns the
// bytes its re-asked members (the sub-leader's children) received in it.
func deadSubLeaderRound(t *testing.T, n int, pins bool) (reasked []int, rx uint64, roster *onet.Roster) {
	c := newClusterPins(t, n, pins)
	c.createChain(0, allMembers(n)...)
	c.waitHeads(0)
	signers, rep := c.timestampRound(0)
	require.Equal(t, n, signers, rep)

	roster = onetRoster(t, c.nodes[0].chainOf(c.genesis).snapshot().roster)
	tree, err := protocol.NewTreeAt(roster, protocol.DefaultSubtrees(n), 0)
	require.NoError(t, err)
	sub := tree.Root.Children[0]
	for _, ch := range sub.Children {
		reasked = append(reasked, ch.RosterIndex)
	}
	c.stop(sub.RosterIndex)
	before := make([]uint64, n)
	for _, i := range reasked {
		before[i] = c.nodes[i].server.Rx()
	}
	signers, rep = c.timestampRound(0)
	require.Equal(t, n-1, signers, "every member but the stopped one signs: %s", rep)
	for _, i := range reasked {
		rx += c.nodes[i].server.Rx() - before[i]
	}
	if pins {
		// The round and 40 more pinned nothing new: one leader, one roster.
		for i := 0; i < 40; i++ {
			signers, rep = c.timestampRound(0)
			require.Equal(t, n-1, signers, rep)
		}
		for _, i := range reasked {
			sets, trees := c.nodes[i].pins.count()
			require.Equal(t, 1, sets, "node %d", i)
			require.Equal(t, 1+len(protocol.NewRecovery(tree).Trees(i)), trees, "node %d", i)
		}
	}
	return reasked, rx, roster
}

// A round whose sub-leader is down still gets every other member's signature, and
// the members asked again in its place receive no roster from onet when they pinned
// the recovery trees at the round before: without pins each of them receives at
// least the whole roster (onet's answer to its tree request).
func TestRecoveryTreesPinned(t *testing.T) {
	const n = 10
	var reasked []int
	var pinnedRx, shippedRx uint64
	var roster *onet.Roster
	// Subtests: each cluster's keys (named after the test) and onet databases are its
	// own, and it is closed before the next starts.
	t.Run("pinned", func(t *testing.T) { reasked, pinnedRx, roster = deadSubLeaderRound(t, n, true) })
	t.Run("shipped", func(t *testing.T) { _, shippedRx, _ = deadSubLeaderRound(t, n, false) })
	require.False(t, t.Failed())
	rosterBytes, err := network.Marshal(roster)
	require.NoError(t, err)
	t.Logf("re-asked %v received %d bytes with pins, %d without; roster %d bytes", reasked, pinnedRx, shippedRx, len(rosterBytes))
	require.NotEmpty(t, reasked)
	require.GreaterOrEqual(t, shippedRx, pinnedRx+uint64(len(reasked)*len(rosterBytes)))
}

// Pins are bounded: a node that took part in rounds over more rosters than
// maxPinSets keeps only the newest maxPinSets, and Close releases them all.
func TestTreePinsBounded(t *testing.T) {
	c := newCluster(t, 4)
	pins := c.nodes[0].pins
	perms := [][]int{}
	var permute func(prefix, rest []int)
	permute = func(prefix, rest []int) {
		if len(rest) == 0 {
			perms = append(perms, append([]int(nil), prefix...))
		}
		for i := range rest {
			next := append(append([]int(nil), rest[:i]...), rest[i+1:]...)
			permute(append(prefix, rest[i]), next)
		}
	}
	permute(nil, []int{0, 1, 2, 3})
	require.Greater(t, len(perms), maxPinSets)
	for k, p := range perms {
		r := onetRoster(t, c.roster(p...))
		leader := k % 4
		tree, err := protocol.NewTreeAt(r, protocol.DefaultSubtrees(4), leader)
		require.NoError(t, err)
		me := (leader + 1) % 4
		pins.seen(tree, me)
		pins.seen(tree, me) // seen again: nothing more pinned
		sets, trees := pins.count()
		require.Equal(t, min(k+1, maxPinSets), sets)
		require.GreaterOrEqual(t, trees, sets)
	}
	// A tree the leader would not use is not pinned.
	r := onetRoster(t, c.roster(3, 2, 1, 0))
	flat, err := protocol.NewTreeAt(r, 3, 1)
	require.NoError(t, err)
	_, before := pins.count()
	pins.seen(flat, 2)
	_, after := pins.count()
	require.Equal(t, before, after)

	c.stop(0)
	sets, trees := pins.count()
	require.Zero(t, sets)
	require.Zero(t, trees)
}

// firstSubLeader is the member that leads the first group of node 0's rounds.
func firstSubLeader(t testing.TB, c *cluster, n int) int {
	roster := onetRoster(t, c.nodes[0].chainOf(c.genesis).snapshot().roster)
	tree, err := protocol.NewTreeAt(roster, protocol.DefaultSubtrees(n), 0)
	require.NoError(t, err)
	return tree.Root.Children[0].RosterIndex
}
