package protocol

import (
	"testing"

	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

func dummyRoster(t *testing.T, n int) *onet.Roster {
	t.Helper()
	var ids []*network.ServerIdentity
	for i := 0; i < n; i++ {
		kp := localnet.Suite.Point().Pick(localnet.Suite.RandomStream())
		ids = append(ids, network.NewServerIdentity(kp, network.NewTCPAddress("127.0.0.1:1")))
	}
	return onet.NewRoster(ids)
}

func TestNewTree(t *testing.T) {
	for _, tc := range []struct{ n, subtrees, wantLeaders int }{
		{1, 0, 0}, {2, 1, 1}, {5, 2, 2}, {16, 4, 4}, {100, 10, 10}, {10, 9, 9},
	} {
		tree, err := NewTree(dummyRoster(t, tc.n), tc.subtrees)
		require.NoError(t, err)
		require.Equal(t, tc.n, tree.Size(), "n=%d", tc.n)
		require.Len(t, tree.Root.Children, tc.wantLeaders)
		seen := map[int]bool{}
		tree.Root.Visit(0, func(_ int, tn *onet.TreeNode) { seen[tn.RosterIndex] = true })
		require.Len(t, seen, tc.n, "every member appears once")
		sizes := map[int]bool{}
		for _, l := range tree.Root.Children {
			sizes[len(l.Children)] = true
		}
		require.LessOrEqual(t, len(sizes), 2, "groups differ by at most one")
	}
	_, err := NewTree(dummyRoster(t, 5), 5)
	require.Error(t, err)
	_, err = NewTree(dummyRoster(t, 5), 0)
	require.Error(t, err)
	require.Equal(t, 0, DefaultSubtrees(1))
	require.Equal(t, 1, DefaultSubtrees(2))
	require.Equal(t, 2, DefaultSubtrees(3))
	require.Equal(t, 10, DefaultSubtrees(100))
	require.Equal(t, 32, DefaultSubtrees(1000))
}

// Every member holds the recovery trees it can be asked through: a leaf the two of its
// sub-leader (replaced, or descended into), a sub-leader the one that asks it alone,
// the root all of them; and each is the tree a round would open.
func TestNewRecovery(t *testing.T) {
	n := 16
	roster := dummyRoster(t, n)
	tree, err := NewTree(roster, DefaultSubtrees(n))
	require.NoError(t, err)
	rec := NewRecovery(tree)
	subs := tree.Root.Children
	require.Len(t, rec.Trees(0), 2*len(subs))
	for _, s := range subs {
		replace := relayTree(roster, 0, s.Children).ID
		descend := relayTree(roster, 0, append([]*onet.TreeNode{alone(s)}, s.Children...)).ID
		require.Equal(t, []onet.TreeID{descend}, treeIDs(rec.Trees(s.RosterIndex)))
		for _, leaf := range s.Children {
			require.ElementsMatch(t, []onet.TreeID{replace, descend}, treeIDs(rec.Trees(leaf.RosterIndex)))
		}
	}
}

func treeIDs(trees []*onet.Tree) []onet.TreeID {
	var out []onet.TreeID
	for _, t := range trees {
		out = append(out, t.ID)
	}
	return out
}
