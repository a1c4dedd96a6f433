package protocol

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"go.dedis.ch/onet/v3"
)

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
)

// Request is what the root asks the tree to sign.
type Request struct {
	RosterRef []byte
	Message   []byte
	Data      []byte
	Policy    cosi.Policy
	Timeout   time.Duration // DefaultTimeout if zero
}

// Result is the outcome of a round that reached its threshold.
type Result struct {
	Signature *cosi.Signature
	Refusals  []Refusal
	Failures  []Failure
}

// RoundError is a round that did not reach its threshold: who refused and why, and who
// failed.
type RoundError struct {
	Signed, Needed int
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
	for _, reason := range reasons {
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

	announces chan announceMsg
	replies   chan replyMsg
	started   chan struct{}
	stop      chan struct{}
	stopOnce  sync.Once
	done      chan struct{} // closed when the root has an outcome
	result    *Result
	err       error
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
	}
	// Room for every member's message so that onet's dispatcher never blocks on us.
	size := len(n.Tree().Roster.List) + 1
	if err := n.RegisterChannelsLength(size, &p.announces, &p.replies); err != nil {
		return nil, err
	}
	return p, nil
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
	select {
	case a := <-p.announces:
		return p.runSubtree(a)
	case <-p.stop:
		return nil
	case <-time.After(MaxBudget):
		return nil // nobody announced: release the instance
	}
}

func (p *Protocol) dispatchRoot() error {
	select {
	case <-p.started:
	case <-p.stop:
		p.finish(nil, errors.New("protocol: stopped before start"))
		return nil
	}
	req := p.Request
	if req.Timeout == 0 {
		req.Timeout = DefaultTimeout
	}
	a := Announce{RosterRef: req.RosterRef, Message: req.Message, Data: req.Data,
		BudgetMs: req.Timeout.Milliseconds()}
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
	p.finish(r.run())
	return nil
}

func (p *Protocol) finish(res *Result, err error) {
	p.result, p.err = res, err
	close(p.done)
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
	r.requesters = []*onet.TreeNode{a.TreeNode}
	_, err = r.run()
	return err
}
