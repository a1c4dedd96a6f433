package protocol

import (
	"errors"
	"math"

	"go.dedis.ch/onet/v3"
)

// DefaultSubtrees is the number of sub-leaders NewTree uses by default: ⌈√(n−1)⌉, so
// the root and every sub-leader each handle about √n messages. docs/performance.md has
// the measurement behind this choice.
func DefaultSubtrees(n int) int {
	if n <= 2 {
		return n - 1
	}
	return int(math.Ceil(math.Sqrt(float64(n - 1))))
}

// NewTree builds a two-level tree over the roster: its first member is the root, the
// others are split in roster order into `subtrees` groups of near-equal size whose
// first member is the group's sub-leader. subtrees = n−1 gives a flat tree (every
// member a child of the root); subtrees = 1 a chain of root, one sub-leader, leaves.
func NewTree(roster *onet.Roster, subtrees int) (*onet.Tree, error) {
	n := len(roster.List)
	if n < 1 {
		return nil, errors.New("protocol: empty roster")
	}
	if subtrees < 1 && n > 1 || subtrees > n-1 {
		return nil, errors.New("protocol: subtrees must be between 1 and n−1")
	}
	root := onet.NewTreeNode(0, roster.List[0])
	rest := n - 1
	next := 1
	for g := 0; g < subtrees; g++ {
		size := rest / subtrees
		if g < rest%subtrees {
			size++
		}
		leader := onet.NewTreeNode(next, roster.List[next])
		root.AddChild(leader)
		for i := next + 1; i < next+size; i++ {
			leader.AddChild(onet.NewTreeNode(i, roster.List[i]))
		}
		next += size
	}
	return onet.NewTree(roster, root), nil
}
