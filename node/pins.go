package node

import (
	"sync"

	"go.dedis.ch/onet/v3"

	"github.com/chainiac/chainiac/cosi/protocol"
)

// treePins keeps pinned, at this node's server, the trees of the rounds it took part
// in: for each (roster, leader), the round's tree and the recovery trees that contain
// this node. onet forgets a tree ten minutes after its last instance, and a member
// that meets an unknown tree asks its sender, whose answer carries the whole roster;
// timestamp rounds come once an hour, and recovery trees only when members fail, so
// unpinned, each of those rounds ships the roster again to every member it reaches.
//
// Pins are taken at a member's first contact with a leader's round (the round that
// brings the tree still ships it once) and bounded: the least recently used set is
// unpinned when a new one would exceed maxPinSets.
type treePins struct {
	ctx *onet.Context

	mu     sync.Mutex
	sets   map[pinKey]*pinSet
	order  []pinKey // least recently used first
	closed bool
}

// maxPinSets bounds the pinned sets, as maxRosters bounds the rosters kept: a set holds
// a tree of the roster's size, so at 4096 members sixteen sets are about 16 MB.
const maxPinSets = 16

type pinKey struct {
	roster onet.RosterID
	leader int
}

type pinSet struct {
	unpins []func()
}

func newTreePins(ctx *onet.Context) *treePins {
	return &treePins{ctx: ctx, sets: map[pinKey]*pinSet{}}
}

// seen is called with the tree of every round this node, member me, is asked into: the first
// time a (roster, leader) is seen, it pins the round's tree and this member's recovery
// trees. Only trees this node builds itself from the roster are pinned, and only if the
// round's tree is one of them, so that a peer cannot make it pin trees of its choice.
func (tp *treePins) seen(tree *onet.Tree, me int) {
	key := pinKey{roster: tree.Roster.ID, leader: tree.Root.RosterIndex}
	tp.mu.Lock()
	defer tp.mu.Unlock()
	if tp.closed {
		return
	}
	if _, ok := tp.sets[key]; ok {
		tp.touch(key)
		return
	}
	trees, ok := roundTrees(tree, me)
	if !ok {
		return
	}
	set := &pinSet{}
	for _, t := range trees {
		unpin, err := protocol.PinTree(tp.ctx, t)
		if err != nil {
			break // pinning is an optimisation: the round goes on without it
		}
		set.unpins = append(set.unpins, unpin)
	}
	tp.sets[key] = set
	tp.order = append(tp.order, key)
	for len(tp.order) > maxPinSets {
		tp.release(tp.order[0])
	}
}

// roundTrees rebuilds the tree the leader of tree uses for its roster, and returns it
// with member me's recovery trees, if tree is one of them.
func roundTrees(tree *onet.Tree, me int) ([]*onet.Tree, bool) {
	n := len(tree.Roster.List)
	main, err := protocol.NewTreeAt(tree.Roster, protocol.DefaultSubtrees(n), tree.Root.RosterIndex)
	if err != nil {
		return nil, false
	}
	trees := append([]*onet.Tree{main}, protocol.NewRecovery(main).Trees(me)...)
	for _, t := range trees {
		if t.ID.Equal(tree.ID) {
			return trees, true
		}
	}
	return nil, false
}

func (tp *treePins) touch(key pinKey) {
	for i, k := range tp.order {
		if k == key {
			tp.order = append(append(tp.order[:i:i], tp.order[i+1:]...), key)
			return
		}
	}
}

// release unpins a set; onet then drops its trees ten minutes after their last round.
func (tp *treePins) release(key pinKey) {
	for _, unpin := range tp.sets[key].unpins {
		unpin()
	}
	delete(tp.sets, key)
	for i, k := range tp.order {
		if k == key {
			tp.order = append(tp.order[:i:i], tp.order[i+1:]...)
			break
		}
	}
}

// close unpins every set and takes no more pins.
func (tp *treePins) close() {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for len(tp.order) > 0 {
		tp.release(tp.order[0])
	}
	tp.closed = true
}

// count returns the pinned sets and trees.
func (tp *treePins) count() (sets, trees int) {
	tp.mu.Lock()
	defer tp.mu.Unlock()
	for _, s := range tp.sets {
		trees += len(s.unpins)
	}
	return len(tp.sets), trees
}
