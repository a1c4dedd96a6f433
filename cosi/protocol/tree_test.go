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
