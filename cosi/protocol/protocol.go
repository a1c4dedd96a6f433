package protocol

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"go.dedis.ch/onet/v3"
)

// announceWait is how long a non-root instance waits for its announcement.
const announceWait = 10 * time.Second

// DefaultTimeout is the whole round's budget when the request names none. It is
// generous because a node's first round includes fetching the tree and opening
// connections; a healthy round takes milliseconds and never waits for it.
const DefaultTimeout = 20 * time.Second

// Budget split: a node gives its children childShare of its own budget, waits for them
// until waitShare, then asks the children of silent children directly, and replies at
// replyShare at the latest, leaving the rest for the reply's trip.
const (
	childShare = 0.6
	waitShare  = 0.7
	replyShare = 0.95
	checkShare = 0.9
	// descentShare bounds how long a root that has its threshold still waits for the
	// members it asked again after a bad sum, to name the senders of bad shares: a
	// faulty member silent when asked again holds a round at most this long.
	descentShare = 0.1
)

// Request is what the root asks the tree to sign.
type Request struct {
	RosterRef []byte
	Message   []byte
	Data      []byte
	Policy    cosi.Policy
	Timeout   time.Duration // DefaultTimeout if zero
	// Round names this round in every refusal. It must be fresh for every round; a
	// proposer who wants proof that a refusal is fresh chooses it. If zero, the root
	// draws one from crypto/rand.
	Round cosi.RoundID
	// Linger keeps the root gathering for up to this long after the outcome is known
	// (the threshold reached, or out of reach), never past the round's deadline, so
	// that the members still checking are reported too: their signatures join the
	// aggregate and their refusals reach the caller. Zero ends the round at once.
	Linger time.Duration
	// CheckAtSubLeaders makes every sub-leader verify its subtree's partial signatures
	// before forwarding them, as this package did before optimistic aggregation. By
	// default only the root verifies: one pairing check for the whole round when
	// everyone is honest, and a descent into the subtrees whose sum fails otherwise.
	CheckAtSubLeaders bool
}

// Result is the outcome of a round that reached its threshold.
type Result struct {
	Signature *cosi.Signature
	Round     cosi.RoundID // what the refusals sign, with the roster and the message
	Refusals  []Refusal
	Failures  []Failure
}

// RoundError is a round that did not reach its threshold: who refused and why, and who
// failed.
type RoundError struct {
	Signed, Needed int
	Round          cosi.RoundID // what the refusals sign, with the roster and the message
	Refusals       []Refusal
	Failures       []Failure
}

func (e *RoundError) Error() string {
	s := fmt.Sprintf("protocol: %d signed, %d needed", e.Signed, e.Needed)
	for i, r := range e.Refusals {
		if i == maxListed {
			s += fmt.Sprintf("; and %d more refusals", len(e.Refusals)-maxListed)
			break
		}
		s += fmt.Sprintf("; member %d refused: %s", r.Member, r.Reason)
	}
	// Failures are many when a subtree is lost: group them by reason.
	byReason := map[string][]int{}
	var reasons []string
	for _, f := range e.Failures {
		if _, seen := byReason[f.Reason]; !seen {
			reasons = append(reasons, f.Reason)
		}
		byReason[f.Reason] = append(byReason[f.Reason], f.Member)
	}
	for i, reason := range reasons {
		if i == maxListed {
			// Reasons differ when they name an address: keep the message short.
			more := 0
			for _, r := range reasons[i:] {
				more += len(byReason[r])
			}
			s += fmt.Sprintf("; and %d more members failed for %d other reasons", more, len(reasons)-i)
			break
		}
		members := byReason[reason]
		if len(members) == 1 {
			s += fmt.Sprintf("; member %d failed: %s", members[0], reason)
			continue
		}
		list := fmt.Sprint(members)
		if len(members) > maxListed {
			list = fmt.Sprint(members[:maxListed])
			list = list[:len(list)-1] + " …]"
		}
		s += fmt.Sprintf("; %d members failed (%s): %s", len(members), reason, list)
	}
	return s
}

// maxListed bounds how many members an error message names per kind.
const maxListed = 10

func (e *RoundError) Unwrap() error { return ErrUnreachable }

// Protocol is one node's instance of a signing round. The root's caller sets Request,
// calls Start and then Wait.
type Protocol struct {
	*onet.TreeNodeInstance
	env Env

	Request Request

	announces  chan announceMsg // the first announcement of each ancestor
	started    chan struct{}
	stop       chan struct{}
	stopOnce   sync.Once
	done       chan struct{} // closed when the root has an outcome
	finishOnce sync.Once
	relay      bool // set on a relay instance before it starts: it only receives replies
	result     *Result
	err        error

	mu          sync.Mutex
	in          *inbox                   // where replies go: the round's, shared with its relays
	announcedBy map[onet.TreeNodeID]bool // ancestors whose announcement was taken
}

var _ onet.ProtocolInstance = (*Protocol)(nil)

// New creates an instance; onet calls it through Register's factory, and services may
// call it from their NewProtocol.
func New(n *onet.TreeNodeInstance, env Env) (*Protocol, error) {
	if err := env.validate(); err != nil {
		return nil, err
	}
	p := &Protocol{
		TreeNodeInstance: n,
		env:              env,
		started:          make(chan struct{}),
		stop:             make(chan struct{}),
		done:             make(chan struct{}),
		in:               newInbox(),
		announcedBy:      map[onet.TreeNodeID]bool{},
	}
	// Messages arrive through handlers that never block onet's dispatcher and keep one
	// message per sender, so that nobody can flood an honest message out: onet drops
	// what does not fit an instance's channel. announces has room for one
	// announcement from each ancestor, the only ones kept.
	ancestors := 0
	for a := n.TreeNode().Parent; a != nil; a = a.Parent {
		ancestors++
	}
	p.announces = make(chan announceMsg, ancestors)
	if err := n.RegisterHandlers(p.onAnnounce, p.onReply); err != nil {
		return nil, err
	}
	return p, nil
}

// onAnnounce keeps the first announcement of each ancestor; only an ancestor may ask
// us, since whoever asks sets our deadline.
func (p *Protocol) onAnnounce(m announceMsg) error {
	if !p.fromAncestor(m.TreeNode) {
		return nil
	}
	p.mu.Lock()
	first := !p.announcedBy[m.TreeNode.ID]
	p.announcedBy[m.TreeNode.ID] = true
	p.mu.Unlock()
	if first {
		p.announces <- m // room for every ancestor: never blocks
	}
	return nil
}

// onReply hands a reply to the inbox of the round this instance serves.
func (p *Protocol) onReply(m replyMsg) error {
	p.inbox().put(p, m)
	return nil
}

func (p *Protocol) inbox() *inbox {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.in
}

// relayFor makes p, a fresh instance at the node running round in, a relay: its
// replies go to in.
func (p *Protocol) relayFor(in *inbox) {
	p.mu.Lock()
	p.in = in
	p.mu.Unlock()
	p.relay = true
	close(p.started)
}

// Start begins the round at the root.
func (p *Protocol) Start() error {
	if !p.IsRoot() {
		return errors.New("protocol: Start on a non-root node")
	}
	close(p.started)
	return nil
}

// Wait returns the root's outcome: a Result, or a *RoundError, or ctx's error.
func (p *Protocol) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-p.done:
		return p.result, p.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Shutdown stops the dispatch loop; onet calls it when the instance is done or the
// server closes.
func (p *Protocol) Shutdown() error {
	p.stopOnce.Do(func() { close(p.stop) })
	return nil
}

// Dispatch runs the node's whole round in onet's goroutine for this instance.
func (p *Protocol) Dispatch() error {
	defer p.Done()
	if p.IsRoot() {
		return p.dispatchRoot()
	}
	// onet creates this instance when the first message for it arrives, which is the
	// announcement in every honest round: anything else is not worth waiting long for.
	expire := time.NewTimer(announceWait)
	defer expire.Stop()
	for {
		select {
		case a := <-p.announces:
			return p.runSubtree(a)
		case <-p.stop:
			return nil
		case <-expire.C:
			return nil // nobody announced: release the instance
		}
	}
}

// fromAncestor reports whether n is above this node in the tree: the parent, or an
// ancestor asking directly because the nodes between us went silent.
func (p *Protocol) fromAncestor(n *onet.TreeNode) bool {
	if n == nil {
		return false // onet could not find the sender in the tree
	}
	for a := p.TreeNode().Parent; a != nil; a = a.Parent {
		if a.ID == n.ID {
			return true
		}
	}
	return false
}

func (p *Protocol) dispatchRoot() (err error) {
	// Whatever happens, Wait must return: a panic becomes the round's error.
	defer func() {
		if r := recover(); r != nil {
			p.finish(nil, fmt.Errorf("protocol: internal error: %v", r))
		}
	}()
	select {
	case <-p.started:
	case <-p.stop:
		p.finish(nil, errors.New("protocol: stopped before start"))
		return nil
	}
	if p.relay {
		<-p.stop // replies go straight to the round's inbox, until it shuts us down
		return nil
	}
	req := p.Request
	if req.Timeout == 0 {
		req.Timeout = DefaultTimeout
	}
	if req.Round == (cosi.RoundID{}) {
		id, err := cosi.NewRoundID(rand.Reader)
		if err != nil {
			p.finish(nil, fmt.Errorf("protocol: %w", err))
			return nil
		}
		req.Round = id
	}
	a := Announce{RosterRef: req.RosterRef, Round: req.Round[:], Message: req.Message, Data: req.Data,
		BudgetMs: req.Timeout.Milliseconds(), CheckPartials: req.CheckAtSubLeaders}
	if err := a.validate(); err != nil {
		p.finish(nil, fmt.Errorf("protocol: request: %w", err))
		return nil
	}
	r, err := p.newRound(a)
	if err != nil {
		p.finish(nil, err)
		return nil
	}
	if err := req.Policy.Check(r.roster.Len()); err != nil {
		p.finish(nil, err)
		return nil
	}
	r.policy = &req.Policy
	r.linger = req.Linger
	p.finish(r.run())
	return nil
}

func (p *Protocol) finish(res *Result, err error) {
	p.finishOnce.Do(func() {
		p.result, p.err = res, err
		close(p.done)
	})
}

func (p *Protocol) runSubtree(a announceMsg) error {
	if err := a.Announce.validate(); err != nil {
		return fmt.Errorf("protocol: announcement from %s: %w", a.TreeNode.ServerIdentity, err)
	}
	r, err := p.newRound(a.Announce)
	if err != nil {
		// We cannot take part: say so at once rather than make the parent wait.
		me := int32(p.TreeNode().RosterIndex)
		reply := Reply{Failures: []FailureMsg{{Member: me, Reason: truncateReason(err.Error())}}}
		if sendErr := p.SendTo(a.TreeNode, &reply); sendErr != nil {
			return fmt.Errorf("%w; and the reply failed: %v", err, sendErr)
		}
		return err
	}
	r.parent = a.TreeNode
	_, err = r.run()
	return err
}
