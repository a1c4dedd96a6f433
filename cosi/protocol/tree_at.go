package protocol

import (
	"errors"

	"go.dedis.ch/onet/v3"
)

// NewTreeAt builds the two-level tree of NewTree rooted at member root instead of the
// first member, so that any member can lead a round: the other members, in roster
// order, are split into `subtrees` groups of near-equal size whose first member is the
// group's sub-leader. Tree node i is still cosi member i (RosterIndex), as Env
// requires. NewTreeAt(r, k, 0) is NewTree(r, k).
func NewTreeAt(roster *onet.Roster, subtrees, root int) (*onet.Tree, error) {
	n := len(roster.List)
	if root < 0 || root >= n {
		return nil, errors.New("protocol: root outside the roster")
	}
	if subtrees < 1 && n > 1 || subtrees > n-1 {
		return nil, errors.New("protocol: subtrees must be between 1 and n−1")
	}
	others := make([]int, 0, n-1)
	for i := range roster.List {
		if i != root {
			others = append(others, i)
		}
	}
	top := onet.NewTreeNode(root, roster.List[root])
	next := 0
	for g := 0; g < subtrees; g++ {
		size := len(others) / subtrees
		if g < len(others)%subtrees {
			size++
		}
		leader := onet.NewTreeNode(others[next], roster.List[others[next]])
		top.AddChild(leader)
		for _, i := range others[next+1 : next+size] {
			leader.AddChild(onet.NewTreeNode(i, roster.List[i]))
		}
		next += size
	}
	return onet.NewTree(roster, top), nil
}
