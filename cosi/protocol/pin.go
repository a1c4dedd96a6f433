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
