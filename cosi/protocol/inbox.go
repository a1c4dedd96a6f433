package protocol

import (
	"sync"

	"go.dedis.ch/onet/v3"
)

// inbox receives replies from onet's dispatcher without ever blocking it or dropping
// an awaited reply. onet drops a message sent to a full instance channel, so a member
// flooding a channel could push an honest member's reply out; here each sender of
// each instance gets one slot, its first reply, since an honest member answers an ask
// once. A round and the relays it opens share one inbox.
type inbox struct {
	mu    sync.Mutex
	seen  map[askKey]bool
	queue []received
	ready chan struct{} // holds a token while queue is not empty
}

// askKey names one ask: the instance it went through, and the node asked. A node may
// be asked several times in a round, through different relays.
type askKey struct {
	via *Protocol
	id  onet.TreeNodeID
}

// received is a reply with the instance it came through.
type received struct {
	via *Protocol
	replyMsg
}

func (r received) key() askKey { return askKey{via: r.via, id: r.TreeNode.ID} }

func newInbox() *inbox {
	return &inbox{seen: map[askKey]bool{}, ready: make(chan struct{}, 1)}
}

// put keeps m if it is its sender's first reply through via. It never blocks.
func (b *inbox) put(via *Protocol, m replyMsg) {
	if m.TreeNode == nil {
		return // onet could not find the sender in the tree, and so did not check it
	}
	r := received{via: via, replyMsg: m}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.seen[r.key()] {
		return
	}
	b.seen[r.key()] = true
	b.queue = append(b.queue, r)
	select {
	case b.ready <- struct{}{}:
	default: // already signalled
	}
}

// take returns the replies received since the last take, in their order of arrival.
func (b *inbox) take() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	q := b.queue
	b.queue = nil
	return q
}
