package protocol

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/chainiac/chainiac/internal/onettest"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/stretchr/testify/require"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"
)

const testProtocol = "chainiac-cosi-test"

func TestMain(m *testing.M) { onettest.Main(m) }

// behaviour is what a member does in a test round.
type behaviour int

const (
	honest    behaviour = iota
	refuses             // its check says no
	dead                // its server is closed before the round
	silent              // runs a protocol that never answers
	garbage             // answers with bytes that are not a signature
	wrongSign           // answers with a valid point that is not its share
	stuck               // its check ignores its context and returns too late
	liar                // signs, asks nobody, and reports its whole subtree failed
	swallows            // forwards the announcement to its children, never replies
	hurries             // replies with its share, and tells the root it has 1 ms left
	blames              // a sub-leader: a bad share of its own, and its leaves reported failed
	forges              // signs, and sends the root a reply from a tree node that does not exist
)

// cluster is a set of onet servers on 127.0.0.1, each with a cosi key, running the
// protocol.
type cluster struct {
	net    *localnet.Net
	keys   []*cosi.PrivateKey
	roster *cosi.Roster
}

var testRef = []byte("test-roster")

// stuckFor is how long a stuck member's check takes: longer than the short rounds of
// the tests that use it.
const stuckFor = time.Second

func newCluster(t *testing.T, n int, roles map[int]behaviour) *cluster {
	t.Helper()
	ln, err := localnet.Start(n)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ln.Close()) })
	c := &cluster{net: ln}
	pubs := make([]cosi.PublicKey, n)
	for i := range ln.Servers {
		k, err := cosi.GenerateKey(testrand.New(fmt.Sprintf("%d/%d", n, i)))
		require.NoError(t, err)
		c.keys = append(c.keys, k)
		pubs[i] = k.Public()
	}
	c.roster, err = cosi.NewRoster(pubs)
	require.NoError(t, err)
	for i, srv := range ln.Servers {
		var factory onet.NewProtocol
		switch roles[i] {
		case silent, garbage, wrongSign, swallows, hurries, blames, forges:
			factory = byzantineFactory(roles[i], c.keys[i], c.roster)
		default:
			factory = func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
				return New(tni, c.env(i, roles[i]))
			}
		}
		_, err := srv.ProtocolRegister(testProtocol, factory)
		require.NoError(t, err)
	}
	for i, b := range roles {
		if b == dead {
			require.NoError(t, ln.Stop(i))
		}
	}
	return c
}

func (c *cluster) env(i int, b behaviour) Env {
	return Env{
		Key: func(si *network.ServerIdentity) (*cosi.PrivateKey, error) {
			if !si.Equal(c.net.Servers[i].ServerIdentity) {
				return nil, errors.New("not my server")
			}
			return c.keys[i], nil
		},
		Roster: func(ref []byte) (*cosi.Roster, error) {
			if string(ref) != string(testRef) {
				return nil, errors.New("unknown roster")
			}
			return c.roster, nil
		},
		Check: func(ctx context.Context, req CheckRequest) error {
			if b == stuck {
				time.Sleep(stuckFor)
				return nil
			}
			if b == refuses {
				return fmt.Errorf("member %d: rebuild differs", i)
			}
			if string(req.Data) != "data" {
				return errors.New("wrong data")
			}
			return nil
		},
	}
}

// sign runs one round from member 0 over a two-level tree.
func (c *cluster) sign(t *testing.T, msg []byte, policy cosi.Policy, timeout time.Duration) (*Result, error) {
	t.Helper()
	tree, err := NewTree(c.net.Roster, DefaultSubtrees(len(c.net.Servers)))
	require.NoError(t, err)
	return c.signOver(t, tree, msg, policy, timeout)
}

// signOver runs one round from member 0 over the given tree.
func (c *cluster) signOver(t *testing.T, tree *onet.Tree, msg []byte, policy cosi.Policy, timeout time.Duration) (*Result, error) {
	t.Helper()
	pi, err := c.net.CreateProtocol(0, testProtocol, tree)
	require.NoError(t, err)
	p := pi.(*Protocol)
	p.Request = Request{RosterRef: testRef, Message: msg, Data: []byte("data"), Policy: policy, Timeout: timeout}
	require.NoError(t, p.Start())
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	return p.Wait(ctx)
}

// byzantineFactory returns a protocol that answers every announcement wrongly.
func byzantineFactory(b behaviour, key *cosi.PrivateKey, r *cosi.Roster) onet.NewProtocol {
	return func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
		bz := &byzantine{TreeNodeInstance: tni, behaviour: b, key: key, roster: r}
		return bz, tni.RegisterHandler(bz.onAnnounce)
	}
}

type byzantine struct {
	*onet.TreeNodeInstance
	behaviour behaviour
	key       *cosi.PrivateKey
	roster    *cosi.Roster
}

func (bz *byzantine) Start() error { return nil }

func (bz *byzantine) onAnnounce(m announceMsg) error {
	defer bz.Done()
	var reply Reply
	switch bz.behaviour {
	case silent:
		return nil
	case swallows:
		a := m.Announce
		a.BudgetMs = m.BudgetMs * 6 / 10
		for _, c := range bz.Children() {
			if err := bz.SendTo(c, &a); err != nil {
				return err
			}
		}
		return nil
	case hurries:
		rogue := m.Announce
		rogue.BudgetMs = 1
		if err := bz.SendTo(bz.Root(), &rogue); err != nil {
			return err
		}
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
	case forges:
		if err := bz.sendFromNowhere(bz.Root(), &Reply{}); err != nil {
			return err
		}
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
	case blames:
		s, err := bz.key.Sign(bz.roster, []byte("something else"))
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
		for _, c := range bz.Children() {
			reply.Failures = append(reply.Failures, FailureMsg{Member: int32(c.RosterIndex), Reason: "dead, says its parent"})
		}
	case garbage:
		reply.Signature = []byte("this is not a signature")
	case wrongSign:
		// A real share, but on another message: a valid point that does not verify.
		s, err := bz.key.Sign(bz.roster, []byte("something else"))
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
	case liar:
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
		for mem := range subtreeMembers(bz.TreeNode()) {
			if mem != bz.TreeNode().RosterIndex {
				reply.Failures = append(reply.Failures, FailureMsg{Member: int32(mem), Reason: "dead, trust me"})
			}
		}
	}
	return bz.SendTo(m.TreeNode, &reply)
}

// sendFromNowhere sends msg to a node of this round, claiming to come from a tree node
// that is not in the tree: onet then delivers it with a nil TreeNode.
func (bz *byzantine) sendFromNowhere(to *onet.TreeNode, msg interface{}) error {
	buf, err := network.Marshal(msg)
	if err != nil {
		return err
	}
	tok := bz.Token()
	_, err = bz.Host().Send(to.ServerIdentity, &onet.ProtocolMsg{
		From:     tok.ChangeTreeNodeID(onet.TreeNodeID{0xde, 0xad, 0xbe, 0xef}),
		To:       tok.ChangeTreeNodeID(to.ID),
		MsgType:  network.MessageType(msg),
		MsgSlice: buf,
	})
	return err
}
