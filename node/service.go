package node

import (
	"context"
	"errors"
	"sync"

	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/cosi/protocol"
)

// onet's process-wide names. Everything onet must know before a server starts is
// registered in Register, the one place this program touches onet's globals.
const (
	serviceName  = "chainiac-node"
	protocolName = "chainiac-node-cosi"
)

// timestampNotice carries a finished timestamp from the round's leader to the members,
// which verify it before they keep or serve it.
type timestampNotice struct {
	Timestamp []byte
}

var (
	registerOnce sync.Once
	registerErr  error
	noticeType   network.MessageTypeID
)

// Register makes the node's onet service and messages known to onet. onet requires
// this before any server starts: call it once, early, from main or a TestMain.
func Register() error {
	registerOnce.Do(func() {
		protocol.RegisterMessages()
		noticeType = network.RegisterMessage(&timestampNotice{})
		_, registerErr = onet.RegisterNewService(serviceName, func(c *onet.Context) (onet.Service, error) {
			s := &service{ServiceProcessor: onet.NewServiceProcessor(c), ctx: c}
			c.RegisterProcessorFunc(noticeType, s.onNotice)
			return s, nil
		})
	})
	return registerErr
}

// service is the node's face in onet: the context through which it starts rounds and
// sends notices. It is attached to its Node before the server's router starts.
type service struct {
	*onet.ServiceProcessor
	ctx *onet.Context

	mu   sync.RWMutex
	node *Node
}

func (s *service) attach(n *Node) {
	s.mu.Lock()
	s.node = n
	s.mu.Unlock()
}

func (s *service) owner() *Node {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.node
}

// onNotice handles a timestamp from a leader: it is kept only if it verifies against
// this node's own chain. It never blocks onet's dispatcher for long: one signature
// check and an atomic file write.
func (s *service) onNotice(env *network.Envelope) error {
	n := s.owner()
	msg, ok := env.Msg.(*timestampNotice)
	if n == nil || !ok {
		return nil
	}
	n.acceptTimestamp(msg.Timestamp)
	return nil
}

// newInstance builds this node's protocol instance for a round: its key, the roster
// the tree names, and its own check.
func (n *Node) newInstance(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
	keys, err := n.rosters.keysOf(tni.Roster())
	if err != nil {
		return nil, err
	}
	if n.pins != nil && !tni.IsRoot() {
		n.pins.seen(tni.Tree(), tni.TreeNode().RosterIndex) // the leader creates its trees; members would be sent them
	}
	env := protocol.Env{
		Key: func(si *network.ServerIdentity) (*cosi.PrivateKey, error) {
			if !n.server.ServerIdentity.Equal(si) {
				return nil, errors.New("node: key asked for another server")
			}
			return n.key, nil
		},
		// The tree's keys are the signing roster (a node's onet identity is its cosi
		// key); the check makes sure they are the roster that must sign the message.
		Roster: func(ref []byte) (*cosi.Roster, error) { return n.cosiRoster(keys) },
		Check: func(ctx context.Context, req protocol.CheckRequest) error {
			return n.check(ctx, req, keys)
		},
	}
	return protocol.New(tni, env)
}
