package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
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
	honest        behaviour = iota
	refuses                 // its check says no
	dead                    // its server is closed before the round
	silent                  // runs a protocol that never answers
	garbage                 // answers with bytes that are not a signature
	wrongSign               // answers with a valid point that is not its share
	stuck                   // its check ignores its context and returns too late
	liar                    // signs, asks nobody, and reports its whole subtree failed
	swallows                // forwards the announcement to its children, never replies
	hurries                 // replies with its share, and tells the root it has 1 ms left
	blames                  // a sub-leader: a bad share of its own, and its leaves reported failed
	forges                  // signs, and sends the root a reply from a tree node that does not exist
	invents                 // asks nobody, and answers that its whole subtree (itself included) refused, with signatures that do not verify
	forgets                 // signs, asks nobody, and says nothing of its subtree
	rogue                   // a leaf: announces to every node but the root and its ancestors, then signs
	slowLookup              // honest, but its roster look-up waits until a rogue member has announced
	lateRefuses             // its check says no, after the others have signed
	panics                  // its roster look-up panics
	overclaims              // asks nobody, and answers with its own share under its whole subtree's mask
	badSum                  // a sub-leader: asks its leaves, and at once sends a sum for its whole subtree that is not theirs
	numBehaviours           // not a behaviour: the number of them, for the test that each is implemented
)

// behaviourKind says how the cluster makes a member behave.
type behaviourKind int

const (
	byEnv       behaviourKind = iota // the honest protocol with a test Env (its Check decides)
	byStopping                       // the honest protocol on a server closed before the round
	byByzantine                      // the misbehaving implementation below
)

// kindOf says how behaviour b is implemented; an unknown behaviour is an error, so a
// test cannot list a misbehaviour that quietly runs the honest protocol.
func kindOf(b behaviour) (behaviourKind, error) {
	switch b {
	case honest, refuses, stuck, slowLookup, lateRefuses, panics:
		return byEnv, nil
	case dead:
		return byStopping, nil
	case silent, garbage, wrongSign, liar, swallows, hurries, blames, forges, invents, forgets, rogue, overclaims, badSum:
		return byByzantine, nil
	}
	return 0, fmt.Errorf("behaviour %d is not implemented", b)
}

// cluster is a set of onet servers on 127.0.0.1, each with a cosi key, running the
// protocol.
type cluster struct {
	net    *localnet.Net
	keys   []*cosi.PrivateKey
	roster *cosi.Roster
	// misbehaved counts, per member, the announcements its misbehaving implementation
	// answered: a test can check that the misbehaviour it lists really ran.
	misbehaved []atomic.Int32
	// rogueSent is closed once a rogue member has sent its announcements;
	// rogueReplies counts the replies rogue members got for them.
	rogueSent     chan struct{}
	rogueSentOnce sync.Once
	rogueReplies  atomic.Int32
	// linger is every round's Request.Linger, and round its Request.Round.
	linger time.Duration
	round  cosi.RoundID
	// checkAtSubLeaders is every round's Request.CheckAtSubLeaders.
	checkAtSubLeaders bool
}

// checkAtSubLeaders, when set, makes every cluster run its rounds with
// Request.CheckAtSubLeaders: TestHardeningWithChecksAtSubLeaders runs the hardening
// tests again that way.
var checkAtSubLeaders bool

var testRef = []byte("test-roster")

// stuckFor is how long a stuck member's check takes: longer than the short rounds of
// the tests that use it.
const stuckFor = time.Second

func newCluster(t *testing.T, n int, roles map[int]behaviour) *cluster {
	t.Helper()
	c := newServers(t, n)
	ln := c.net
	for i, srv := range ln.Servers {
		kind, err := kindOf(roles[i])
		require.NoError(t, err, "member %d", i)
		var factory onet.NewProtocol
		switch kind {
		case byByzantine:
			factory = byzantineFactory(c, i, roles[i])
		case byEnv, byStopping:
			factory = func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
				return New(tni, c.env(i, roles[i]))
			}
		}
		_, err = srv.ProtocolRegister(testProtocol, factory)
		require.NoError(t, err)
	}
	for i, b := range roles {
		require.Less(t, i, n, "role for member %d of %d", i, n)
		if kind, _ := kindOf(b); kind == byStopping {
			require.NoError(t, ln.Stop(i))
		}
	}
	return c
}

// newServers starts n servers on 127.0.0.1 with a key each and their roster, no
// protocol registered yet; they are closed when the test ends.
func newServers(t *testing.T, n int) *cluster {
	t.Helper()
	ln, err := localnet.Start(n)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, ln.Close()) })
	c := &cluster{net: ln, rogueSent: make(chan struct{}), checkAtSubLeaders: checkAtSubLeaders}
	pubs := make([]cosi.PublicKey, n)
	for i := range ln.Servers {
		k, err := cosi.GenerateKey(testrand.New(fmt.Sprintf("%d/%d", n, i)))
		require.NoError(t, err)
		c.keys = append(c.keys, k)
		pubs[i] = k.Public()
	}
	c.roster, err = cosi.NewRoster(pubs)
	require.NoError(t, err)
	c.misbehaved = make([]atomic.Int32, n)
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
			if b == panics {
				panic(fmt.Sprintf("member %d: roster look-up panics", i))
			}
			if b == slowLookup {
				// Slow enough that a rogue's announcement reaches our children first.
				select {
				case <-c.rogueSent:
				case <-time.After(5 * time.Second):
				}
				time.Sleep(50 * time.Millisecond)
			}
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
			if b == lateRefuses {
				select {
				case <-time.After(300 * time.Millisecond):
				case <-ctx.Done():
				}
				return fmt.Errorf("member %d: late rebuild differs", i)
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
	p.Request = Request{RosterRef: testRef, Message: msg, Data: []byte("data"), Policy: policy, Timeout: timeout, Linger: c.linger,
		Round: c.round, CheckAtSubLeaders: c.checkAtSubLeaders}
	require.NoError(t, p.Start())
	ctx, cancel := context.WithTimeout(context.Background(), timeout+5*time.Second)
	defer cancel()
	return p.Wait(ctx)
}

// byzantineFactory returns a protocol that answers every announcement wrongly.
func byzantineFactory(c *cluster, i int, b behaviour) onet.NewProtocol {
	return func(tni *onet.TreeNodeInstance) (onet.ProtocolInstance, error) {
		bz := &byzantine{TreeNodeInstance: tni, behaviour: b, key: c.keys[i], roster: c.roster, c: c, ran: &c.misbehaved[i]}
		return bz, tni.RegisterHandlers(bz.onAnnounce, bz.onReply)
	}
}

type byzantine struct {
	*onet.TreeNodeInstance
	behaviour behaviour
	key       *cosi.PrivateKey
	roster    *cosi.Roster
	c         *cluster
	ran       *atomic.Int32
}

// onReply counts the replies to a rogue's announcements. The rogue's instance stays
// open for them until the first one or until its server closes.
func (bz *byzantine) onReply(m replyMsg) error {
	if bz.behaviour == rogue {
		bz.c.rogueReplies.Add(1)
		bz.Done()
	}
	return nil
}

func (bz *byzantine) Start() error { return nil }

func (bz *byzantine) onAnnounce(m announceMsg) error {
	if bz.behaviour != rogue {
		defer bz.Done()
	}
	bz.ran.Add(1)
	var reply Reply
	switch bz.behaviour {
	default:
		panic(fmt.Sprintf("behaviour %d has no misbehaving implementation", bz.behaviour))
	case silent:
		return nil
	case rogue:
		ancestors := map[onet.TreeNodeID]bool{bz.TreeNode().ID: true}
		for a := bz.TreeNode(); a != nil; a = a.Parent {
			ancestors[a.ID] = true
		}
		a := m.Announce
		a.BudgetMs = 1
		for _, n := range bz.Tree().List() {
			if !ancestors[n.ID] {
				if err := bz.SendTo(n, &a); err != nil {
					return err
				}
			}
		}
		bz.c.rogueSentOnce.Do(func() { close(bz.c.rogueSent) })
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
	case forgets:
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		reply.Signature = s.Encode()
	case overclaims:
		// A real share, but its mask names the whole subtree: the partial does not verify.
		s, err := bz.key.Sign(bz.roster, m.Message)
		if err != nil {
			return err
		}
		enc := s.Encode()
		for mem := range subtreeMembers(bz.TreeNode()) {
			enc[cosi.PointSize+2+mem/8] |= 1 << (mem % 8)
		}
		reply.Signature = enc
	case invents:
		for _, mem := range sortedKeys(subtreeMembers(bz.TreeNode())) {
			reply.Refusals = append(reply.Refusals, RefusalMsg{Member: int32(mem),
				Reason: "refused, says its parent", Signature: bz.inventedSignature(mem)})
		}
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
	case badSum:
		// Its leaves are asked, so that they are busy when the root descends, but
		// the sum claims all of them with a point that is nobody's: the sub-leader's
		// own share of another message.
		a := m.Announce
		a.BudgetMs = m.BudgetMs * 6 / 10
		for _, c := range bz.Children() {
			if err := bz.SendTo(c, &a); err != nil {
				return err
			}
		}
		s, err := bz.key.Sign(bz.roster, []byte("not the message"))
		if err != nil {
			return err
		}
		enc := s.Encode()
		bitmap := enc[cosi.PointSize+2:]
		for mem := range subtreeMembers(bz.TreeNode()) {
			bitmap[mem/8] |= 1 << (mem % 8)
		}
		reply.Signature = enc
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

// inventedSignature is what a sub-leader that invents a refusal for member mem can
// send: a well-formed signature whose mask names mem, but whose point is the
// sub-leader's own share of something else, so it does not verify.
func (bz *byzantine) inventedSignature(mem int) []byte {
	s, err := bz.key.Sign(bz.roster, []byte("an invented refusal"))
	if err != nil {
		panic(err) // the key is in the roster: cannot happen
	}
	enc := s.Encode()
	bitmap := enc[cosi.PointSize+2:]
	clear(bitmap)
	bitmap[mem/8] |= 1 << (mem % 8)
	return enc
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
