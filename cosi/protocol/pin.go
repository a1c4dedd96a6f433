package protocol

import (
	"go.dedis.ch/onet/v3"
)

// PinTree registers tree at the server of ctx, so that onet never has to ship it there.
//
// A node receiving a message for a tree it does not know asks the sender for it, and
// the answer carries the whole roster: for 1000 members, about 150 KB and 25 ms of
// Ed25519 point encoding per request, and as much again to decode, at every node of
// the first round. Members that build the tree themselves from the roster they already
// hold (NewTree is deterministic) pin it instead. The pin lasts until unpin is called or
// the server closes.
func PinTree(ctx *onet.Context, tree *onet.Tree) (unpin func(), err error) {
	tni := ctx.NewTreeNodeInstance(tree, tree.Root, "chainiac-tree-pin")
	pin := &treePin{TreeNodeInstance: tni}
	if err := ctx.RegisterProtocolInstance(pin); err != nil {
		return nil, err
	}
	return tni.Done, nil
}

// treePin is an instance that never runs: while it exists, onet keeps its tree.
type treePin struct {
	*onet.TreeNodeInstance
}

func (p *treePin) Start() error { return nil }

// Recovery holds the trees a round over one tree opens when members fail, so that
// they can be pinned like the tree itself. A node that replaces a dead or silent
// child asks the child's children through a tree of its own (see round.askAgain), and
// a root whose sum from a child does not verify asks that child alone and its
// children. Unpinned, each of those trees reaches every member it asks with the whole
// roster attached: at 4096 members, about 0.1 s of encoding per asked member.
type Recovery struct {
	byMember map[int][]*onet.Tree
}

// NewRecovery builds the recovery trees of tree: for every node with children, the
// tree from its parent to its children and, below the root, the tree from the root to
// the node alone and its children. Their IDs are those the round computes.
func NewRecovery(tree *onet.Tree) *Recovery {
	rec := &Recovery{byMember: map[int][]*onet.Tree{}}
	add := func(t *onet.Tree) {
		for _, n := range t.List() {
			rec.byMember[n.RosterIndex] = append(rec.byMember[n.RosterIndex], t)
		}
	}
	tree.Root.Visit(0, func(_ int, n *onet.TreeNode) {
		if n.Parent == nil || len(n.Children) == 0 {
			return
		}
		add(relayTree(tree.Roster, n.Parent.RosterIndex, n.Children))
		if n.Parent == tree.Root {
			add(relayTree(tree.Roster, n.Parent.RosterIndex, append([]*onet.TreeNode{alone(n)}, n.Children...)))
		}
	})
	return rec
}

// Trees lists the recovery trees that contain member m: those its server pins.
func (r *Recovery) Trees(m int) []*onet.Tree { return r.byMember[m] }
