package protocol

import (
	"fmt"
	"testing"

	"github.com/chainiac/chainiac/internal/localnet"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

func testOnetRoster(n int) *onet.Roster {
	ids := make([]*network.ServerIdentity, n)
	for i := range ids {
		kp := localnet.Suite.Scalar().Pick(localnet.Suite.RandomStream())
		ids[i] = network.NewServerIdentity(localnet.Suite.Point().Mul(kp, nil), network.NewTCPAddress(fmt.Sprintf("127.0.0.1:%d", 7000+i)))
	}
	return onet.NewRoster(ids)
}

func TestNewTreeAt(t *testing.T) {
	r := testOnetRoster(10)
	same, err := NewTreeAt(r, 3, 0)
	require.NoError(t, err)
	want, err := NewTree(r, 3)
	require.NoError(t, err)
	assert.Equal(t, want.Dump(), same.Dump(), "rooted at 0 it is NewTree")

	for root := 0; root < 10; root++ {
		tree, err := NewTreeAt(r, 3, root)
		require.NoError(t, err)
		assert.Equal(t, root, tree.Root.RosterIndex)
		seen := map[int]bool{}
		for _, n := range tree.List() {
			assert.False(t, seen[n.RosterIndex], "member %d twice", n.RosterIndex)
			seen[n.RosterIndex] = true
			assert.True(t, n.ServerIdentity.Equal(r.List[n.RosterIndex]), "tree node %d is member %d", n.RosterIndex, n.RosterIndex)
			assert.LessOrEqual(t, len(n.Children), 3)
		}
		assert.Len(t, seen, 10)
		assert.Len(t, tree.Root.Children, 3)
	}
	_, err = NewTreeAt(r, 3, 10)
	require.Error(t, err)
	_, err = NewTreeAt(r, 3, -1)
	require.Error(t, err)
	_, err = NewTreeAt(r, 10, 0)
	require.Error(t, err)
	// Every number of subtrees from 1 (a chain) to n−1 (flat), at every root; with 9
	// members to share out, the groups differ by at most one.
	for subtrees := 1; subtrees < 10; subtrees++ {
		for root := 0; root < 10; root++ {
			tree, err := NewTreeAt(r, subtrees, root)
			require.NoError(t, err, "subtrees=%d root=%d", subtrees, root)
			assert.Equal(t, 10, tree.Size())
			require.Len(t, tree.Root.Children, subtrees)
			small, large := 9/subtrees, (9+subtrees-1)/subtrees
			for g, leader := range tree.Root.Children {
				size := 1 + len(leader.Children)
				assert.Contains(t, []int{small, large}, size, "subtrees=%d group %d", subtrees, g)
				if g < 9%subtrees {
					assert.Equal(t, large, size, "the first groups take the remainder")
				}
			}
		}
	}
	one, err := NewTreeAt(testOnetRoster(1), 0, 0)
	require.NoError(t, err)
	assert.Len(t, one.List(), 1)
}
