package protocol

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/log"
)

// round is one node's part of a signing round: its own check, its children, and the
// gathering of their answers, driven by one select loop in Dispatch's goroutine.
type round struct {
	p      *Protocol
	ann    Announce
	roster *cosi.Roster
	key    *cosi.PrivateKey
	me     int
	g      *gather
	policy *cosi.Policy  // set at the root only
	linger time.Duration // at the root: how long to keep gathering past the threshold

	lingerUntil time.Time        // set when the threshold was first reached
	lingerC     <-chan time.Time // fires at lingerUntil; nil until then

	start, replyAt time.Time
	// waitTimer fires at waitAt, the earliest time at which an ask not answered yet
	// is given up (see askedNode.waitUntil); nil while nothing is armed.
	waitTimer *time.Timer
	waitAt    time.Time

	pending     map[askKey]askedNode   // asks not answered yet
	nodes       map[int]*onet.TreeNode // every member's tree node, built on first use
	provisional map[int]string         // failures reported by another member, being checked
	parent      *onet.TreeNode         // who asked us; nil at the root
	relays      []*Protocol            // instances through which we asked again
	checked     bool
	// descents are the nodes asked again because a sum they were part of did not
	// verify; the root waits for them (never past the deadline) so that the round
	// names every member whose share was bad, not only those that answered before
	// the threshold was reached.
	descents map[askKey]bool
	// descentUntil is how long a round whose threshold is reached waits for descents
	// (set at the first descent); descentC fires then.
	descentUntil time.Time
	descentC     <-chan time.Time
	// unreachable reports the announcements that could not be sent; over is closed
	// when the round ends, so that no sender waits on it. Both nil until the first ask.
	unreachable chan unreachable
	over        chan struct{}
}

type askedNode struct {
	node    *onet.TreeNode
	allowed map[int]bool // the members this node answers for: its subtree
	// waitUntil is when the node is given up and its children asked directly: as
	// long after the ask as the round's first wait is after its start, for the budget
	// this ask gave. Each ask has its own, so that a node asked late (after a bad sum
	// just before the first wait ended) still has the time its budget promised.
	waitUntil time.Time
}

func (p *Protocol) newRound(a Announce) (*round, error) {
	roster, err := p.env.Roster(a.RosterRef)
	if err != nil {
		return nil, fmt.Errorf("protocol: roster: %w", err)
	}
	if n := len(p.Tree().Roster.List); n != roster.Len() {
		return nil, fmt.Errorf("protocol: tree of %d nodes for a roster of %d", n, roster.Len())
	}
	key, err := p.env.Key(p.ServerIdentity())
	if err != nil {
		return nil, fmt.Errorf("protocol: signing key: %w", err)
	}
	me := p.TreeNode().RosterIndex
	if !roster.Key(me).Equal(key.Public()) {
		return nil, fmt.Errorf("protocol: tree node %d is not this server's roster key", me)
	}
	budget := time.Duration(a.BudgetMs) * time.Millisecond
	now := time.Now()
	g := newGather(roster, a.round(), a.Message)
	g.descend = !a.CheckPartials
	return &round{
		p: p, ann: a, roster: roster, key: key, me: me,
		g:           g,
		start:       now,
		replyAt:     now.Add(scale(budget, replyShare)),
		pending:     map[askKey]askedNode{},
		provisional: map[int]string{},
	}, nil
}

func scale(d time.Duration, f float64) time.Duration { return time.Duration(float64(d) * f) }

// run drives the round to its end. At the root it returns the outcome; elsewhere it
// replies to whoever asked and returns.
func (r *round) run() (*Result, error) {
	budget := time.Duration(r.ann.BudgetMs) * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), scale(budget, checkShare))
	defer cancel()
	checkDone := make(chan error, 1) // buffered: the check never blocks on a finished round
	go func() {
		checkDone <- r.p.env.Check(ctx, CheckRequest{RosterRef: r.ann.RosterRef, Message: r.ann.Message, Data: r.ann.Data})
	}()

	for _, c := range r.p.Children() {
		r.ask(c, scale(budget, childShare))
	}

	defer r.closeRelays()
	defer func() {
		if r.over != nil {
			close(r.over)
		}
	}()
	defer func() {
		if r.waitTimer != nil {
			r.waitTimer.Stop()
		}
	}()
	replyTimer := time.NewTimer(time.Until(r.replyAt))
	defer replyTimer.Stop()
	for {
		if res, err, over := r.progress(); over {
			return res, err
		}
		select {
		case err := <-checkDone:
			r.ownAnswer(err)
		case <-r.p.in.ready:
			for _, m := range r.p.in.take() {
				r.onReply(m)
			}
		case u := <-r.unreachable:
			r.onUnreachable(u)
		case <-r.p.announces:
			// Honest ancestors ask again through a fresh instance (see askAgain).
		case <-r.lingerC:
			// Lingering is over: progress ends the round.
		case <-r.descentC:
			// The wait for descents is over: progress may end the round.
		case <-r.waitC():
			r.giveUpOnExpired()
		case <-replyTimer.C:
			r.giveUpOnSilent("no reply before the deadline")
			if !r.checked {
				r.checked = true
				r.g.fail(r.me, "own check did not finish in time")
			}
			for m := range r.pending {
				delete(r.pending, m)
			}
		case <-r.p.stop:
			return nil, fmt.Errorf("protocol: stopped")
		}
	}
}

// ask sends the announcement to n, which will answer for its whole subtree. A node
// that cannot be reached is replaced by its children.
func (r *round) ask(n *onet.TreeNode, budget time.Duration) {
	r.askThrough(r.p, n, budget)
}

func (r *round) askThrough(via *Protocol, n *onet.TreeNode, budget time.Duration) (askKey, bool) {
	a := r.ann
	a.BudgetMs = budget.Milliseconds()
	if a.BudgetMs < 1 {
		r.g.fail(n.RosterIndex, "no time left to ask")
		r.failSubtree(n, "no time left to ask")
		return askKey{}, false
	}
	key := askKey{via: via, id: n.ID}
	waitUntil := time.Now().Add(scale(budget, waitShare/childShare))
	if waitUntil.After(r.replyAt) {
		waitUntil = r.replyAt
	}
	r.pending[key] = askedNode{node: n, allowed: subtreeMembers(n), waitUntil: waitUntil}
	r.armWait(waitUntil)
	target := n
	if via != r.p {
		target = via.Tree().Search(n.ID)
	}
	// Sent from a goroutine of its own: onet retries a refused connection for about
	// 80 ms (and a dial to a vanished host for seconds) before it fails, and a dead
	// child must not hold up the announcement to the others.
	if r.unreachable == nil {
		r.unreachable = make(chan unreachable, len(subtreeMembers(r.p.TreeNode())))
		r.over = make(chan struct{})
	}
	go func() {
		if err := via.SendTo(target, &a); err != nil {
			select {
			case r.unreachable <- unreachable{key: key, err: err}:
			case <-r.over:
			}
		}
	}()
	return key, true
}

// unreachable is an announcement that could not be sent.
type unreachable struct {
	key askKey
	err error
}

// onUnreachable replaces a node that could not be reached, if it is still awaited.
func (r *round) onUnreachable(u unreachable) {
	if _, waiting := r.pending[u.key]; waiting {
		r.replace(u.key, fmt.Sprintf("unreachable: %v", u.err))
	}
}

// askAgain asks nodes below our children directly, each for its whole subtree. It
// cannot do so in this onet instance: a node that already answered its own parent has
// finished it, and onet drops messages for finished instances. So it opens a fresh
// instance on a relay tree (us, then the nodes with their subtrees), whose replies it
// takes as its own. Node IDs depend only on the node's key, so they match ours.
// It returns the asks it sent.
func (r *round) askAgain(nodes []*onet.TreeNode, budget time.Duration) []askKey {
	if len(nodes) == 0 {
		return nil
	}
	via, err := r.openRelay(relayTree(r.p.Tree().Roster, r.me, nodes))
	if err != nil {
		for _, n := range nodes {
			r.failSubtree(n, fmt.Sprintf("could not ask again: %v", err))
		}
		return nil
	}
	var keys []askKey
	for _, n := range nodes {
		if key, ok := r.askThrough(via, n, budget); ok {
			keys = append(keys, key)
		}
	}
	return keys
}

func (r *round) openRelay(tree *onet.Tree) (*Protocol, error) {
	pi, err := r.p.CreateProtocol(r.p.ProtocolName(), tree)
	if err != nil {
		return nil, err
	}
	relay, ok := pi.(*Protocol)
	if !ok {
		return nil, fmt.Errorf("protocol %s is not this protocol", r.p.ProtocolName())
	}
	relay.relayFor(r.p.in)
	r.relays = append(r.relays, relay)
	return relay, nil
}

func (r *round) closeRelays() {
	for _, relay := range r.relays {
		relay.Shutdown()
	}
}

// relayTree is the tree through which member asker asks nodes again, each with its
// subtree. RecoveryTrees builds the same trees, so that members can pin them.
func relayTree(roster *onet.Roster, asker int, nodes []*onet.TreeNode) *onet.Tree {
	root := onet.NewTreeNode(asker, roster.List[asker])
	for _, n := range nodes {
		root.AddChild(cloneSubtree(n))
	}
	return onet.NewTree(roster, root)
}

func cloneSubtree(n *onet.TreeNode) *onet.TreeNode {
	c := onet.NewTreeNode(n.RosterIndex, n.ServerIdentity)
	for _, child := range n.Children {
		c.AddChild(cloneSubtree(child))
	}
	return c
}

// replace gives up on n (dead or silent) and asks its children directly, so that its
// subtree still takes part.
func (r *round) replace(key askKey, reason string) {
	n := r.pending[key].node
	delete(r.pending, key)
	r.replaceNode(n, reason)
}

func (r *round) replaceNode(n *onet.TreeNode, reason string) {
	r.g.fail(n.RosterIndex, reason)
	r.askAgain(n.Children, scale(time.Until(r.replyAt), childShare))
}

func (r *round) failSubtree(n *onet.TreeNode, reason string) {
	for m := range subtreeMembers(n) {
		r.g.fail(m, reason)
	}
}

// armWait makes the wait timer fire at t, unless it fires earlier already.
func (r *round) armWait(t time.Time) {
	switch {
	case r.waitTimer == nil:
		r.waitTimer = time.NewTimer(time.Until(t))
	case r.waitAt.IsZero() || t.Before(r.waitAt):
		r.waitTimer.Reset(time.Until(t))
	default:
		return
	}
	r.waitAt = t
}

// waitC is the wait timer's channel; nil (never ready) while nothing is armed.
func (r *round) waitC() <-chan time.Time {
	if r.waitTimer == nil || r.waitAt.IsZero() {
		return nil
	}
	return r.waitTimer.C
}

// giveUpOnExpired replaces the asked nodes whose wait is over, and arms the timer for
// the next one.
func (r *round) giveUpOnExpired() {
	r.waitAt = time.Time{}
	now := time.Now()
	var expired []askKey
	for key, a := range r.pending {
		if !a.waitUntil.After(now) {
			expired = append(expired, key)
		}
	}
	for _, key := range expired {
		r.replace(key, "no reply in time")
	}
	for _, a := range r.pending {
		r.armWait(a.waitUntil)
	}
}

// giveUpOnSilent replaces every node that has not answered yet.
func (r *round) giveUpOnSilent(reason string) {
	silent := make([]askKey, 0, len(r.pending))
	for key := range r.pending {
		silent = append(silent, key)
	}
	for _, key := range silent {
		if time.Until(r.replyAt) <= 0 {
			r.failSubtree(r.pending[key].node, reason)
			delete(r.pending, key)
			continue
		}
		r.replace(key, reason)
	}
}

func (r *round) ownAnswer(checkErr error) {
	r.checked = true
	if checkErr == nil {
		share, err := r.key.Sign(r.roster, r.ann.Message)
		if err != nil {
			r.g.fail(r.me, err.Error())
			return
		}
		if err := r.g.addOwn(r.me, share); err != nil {
			r.g.fail(r.me, err.Error())
		}
		return
	}
	reason := truncateReason(checkErr.Error())
	sig, err := r.key.Refuse(r.roster, r.ann.round(), r.ann.Message, reason)
	if err != nil {
		r.g.fail(r.me, err.Error())
		return
	}
	r.g.addOwnRefusal(Refusal{Member: r.me, Key: r.key.Public(), Reason: reason, Signature: sig})
}

func (r *round) onReply(m received) {
	asked, ok := r.pending[m.key()]
	if !ok {
		return // late, after we replaced it, or never asked: ignore
	}
	delete(r.pending, m.key())
	if err := r.accept(asked, m.Reply); err != nil {
		// A defective answer is discarded whole; the sender's subtree is asked
		// directly so that one bad sub-leader does not silence its leaves.
		r.replaceNode(asked.node, err.Error())
	}
}

// accept checks a reply against the sender's subtree before recording any of it: it
// must account for every member of the subtree exactly once.
func (r *round) accept(asked askedNode, reply Reply) error {
	accounted := map[int]bool{}
	note := func(m int) error {
		if !asked.allowed[m] || accounted[m] {
			return fmt.Errorf("reply names member %d outside its subtree or twice", m)
		}
		accounted[m] = true
		return nil
	}
	var sig *cosi.Signature
	if len(reply.Signature) > 0 {
		var err error
		if sig, err = cosi.ParseSignature(reply.Signature); err != nil {
			return fmt.Errorf("malformed partial signature: %w", err)
		}
		if sig.Mask().Len() != r.roster.Len() {
			return errors.New("partial signature over a different roster")
		}
		for _, m := range sig.Mask().Members() {
			if err := note(m); err != nil {
				return err
			}
		}
	}
	for _, ref := range reply.Refusals {
		if len(ref.Signature) > cosi.MaxSignatureSize {
			return fmt.Errorf("oversized refusal from member %d", ref.Member)
		}
		if err := note(int(ref.Member)); err != nil {
			return err
		}
	}
	for _, f := range reply.Failures {
		if err := note(int(f.Member)); err != nil {
			return err
		}
	}
	if len(accounted) != len(asked.allowed) {
		return fmt.Errorf("reply accounts for %d of %d members", len(accounted), len(asked.allowed))
	}
	// A refusal counts only once it verified under its member's key: a sub-leader that
	// invents refusals for its subtree must not make the threshold look unreachable.
	// A sender's word that someone else in its subtree failed, or a refusal of someone
	// else that does not verify, is hearsay: a lying sub-leader could silence its
	// leaves that way. While there is time, ask them directly.
	sender := asked.node.RosterIndex
	canAsk := func(m int) bool {
		return m != sender && time.Until(r.replyAt) > 0 && r.treeNode(m) != nil
	}
	var refusals []Refusal
	var reported, hearsay []FailureMsg
	for _, ref := range reply.Refusals {
		v, err := r.g.checkRefusal(ref)
		if err == nil {
			refusals = append(refusals, v)
			continue
		}
		f := FailureMsg{Member: ref.Member, Reason: "refusal with an invalid signature"}
		if canAsk(int(ref.Member)) {
			hearsay = append(hearsay, f)
		} else {
			reported = append(reported, f)
		}
	}
	for _, f := range reply.Failures {
		if canAsk(int(f.Member)) {
			hearsay = append(hearsay, f)
			continue
		}
		reported = append(reported, f)
	}
	if err := r.g.addReply(sender, asked.allowed, sig, refusals, reported); err != nil {
		return err
	}
	var again []*onet.TreeNode
	for _, f := range hearsay {
		// The reason stands if the member does not answer us either.
		r.provisional[int(f.Member)] = fmt.Sprintf("%s (reported by member %d)", truncateReason(f.Reason), sender)
		// Asked for itself alone: whatever its subtree said came in this reply.
		again = append(again, alone(r.treeNode(int(f.Member))))
	}
	r.askAgain(again, scale(time.Until(r.replyAt), childShare))
	return nil
}

// confirmHearsay records, for members reported failed by another and still silent,
// the reported reason.
func (r *round) confirmHearsay() {
	for m, reason := range r.provisional {
		r.g.fail(m, reason)
	}
}

// treeNode returns the tree node of a member.
func (r *round) treeNode(member int) *onet.TreeNode {
	if r.nodes == nil {
		r.nodes = map[int]*onet.TreeNode{}
		for _, n := range r.p.Tree().List() {
			r.nodes[n.RosterIndex] = n
		}
	}
	return r.nodes[member]
}

// settle verifies what has been gathered; the subtrees of senders whose partial did
// not verify are asked again directly. In an optimistic round (sub-leaders forward
// unchecked sums) the sender is asked again too, for its own share alone: the bad
// share may be any of its subtree's, and an honest sub-leader must not be lost for a
// faulty leaf. A partial sent for the sender alone blames the sender.
func (r *round) settle() {
	for _, bad := range r.g.settle() {
		node := r.treeNode(bad.sender)
		descend := r.g.descend && !bad.alone
		if node == nil || bad.alone || len(node.Children) == 0 && !descend || time.Until(r.replyAt) <= 0 {
			for m := range bad.members() {
				r.g.fail(m, fmt.Sprintf("answer lost: partial from member %d does not verify", bad.sender))
			}
			continue
		}
		again := node.Children
		if descend {
			again = append([]*onet.TreeNode{alone(node)}, node.Children...)
		}
		if r.descents == nil {
			r.descents = map[askKey]bool{}
			r.descentUntil = time.Now().Add(scale(time.Duration(r.ann.BudgetMs)*time.Millisecond, descentShare))
			if r.descentUntil.After(r.replyAt) {
				r.descentUntil = r.replyAt
			}
			r.descentC = time.After(time.Until(r.descentUntil))
		}
		for _, key := range r.askAgain(again, scale(time.Until(r.replyAt), childShare)) {
			r.descents[key] = true
		}
	}
}

// alone is a copy of n without its children, to ask n for its own answer only.
func alone(n *onet.TreeNode) *onet.TreeNode { return onet.NewTreeNode(n.RosterIndex, n.ServerIdentity) }

// progress decides whether the round is over. Elsewhere than at the root, it is over
// once every child and our own check answered; at the root, as soon as the threshold
// is reached or can no longer be.
func (r *round) progress() (*Result, error, bool) {
	everyone := len(r.pending) == 0 && r.checked
	if r.policy == nil {
		if !everyone {
			return nil, nil, false
		}
		if r.ann.CheckPartials {
			r.settle()
			if len(r.pending) > 0 {
				return nil, nil, false // a bad partial sent us back to its subtree
			}
		} else {
			r.g.forward() // the root verifies, once for the whole round
		}
		r.confirmHearsay()
		reply := r.g.reply()
		r.send(r.parent, &reply)
		return nil, nil, true
	}
	need := r.policy.Threshold
	// Verify before deciding either way: a reply's refusals and failures count only
	// once its partial has verified.
	mayDecide := r.g.signed()+r.g.unverified() >= need ||
		r.roster.Len()-r.g.lost()-r.g.unverifiedLost() < need
	if mayDecide || everyone {
		r.settle()
		everyone = len(r.pending) == 0 && r.checked
	}
	decided := r.g.signed() >= need || r.roster.Len()-r.g.lost() < need
	// A descent (members asked again after a bad sum) may still bring back what the
	// threshold lacks, and names the senders of bad shares; once the threshold is
	// reached the round waits for it only until descentUntil, so that a faulty
	// member silent when asked again cannot hold every round to its deadline.
	if decided && !everyone && r.descending() && (r.g.signed() < need || time.Now().Before(r.descentUntil)) {
		return nil, nil, false
	}
	if decided && !everyone && r.linger > 0 {
		if r.lingerUntil.IsZero() {
			r.lingerUntil = time.Now().Add(r.linger)
			if r.lingerUntil.After(r.replyAt) {
				r.lingerUntil = r.replyAt
			}
			r.lingerC = time.After(time.Until(r.lingerUntil))
		}
		if time.Now().Before(r.lingerUntil) {
			return nil, nil, false
		}
	}
	if r.g.signed() >= need {
		r.confirmHearsay()
		return &Result{Signature: r.g.agg, Round: r.ann.round(), Refusals: r.g.refusals(), Failures: r.g.failures()}, nil, true
	}
	if everyone {
		r.confirmHearsay()
		for m := 0; m < r.roster.Len(); m++ {
			r.g.fail(m, "no answer")
		}
	}
	if r.roster.Len()-r.g.lost() < need || everyone {
		r.confirmHearsay()
		return nil, &RoundError{Signed: r.g.signed(), Needed: need, Round: r.ann.round(),
			Refusals: r.g.refusals(), Failures: r.g.failures()}, true
	}
	return nil, nil, false
}

// descending reports whether a node asked again in a descent has not answered yet.
func (r *round) descending() bool {
	for id := range r.descents {
		if _, waiting := r.pending[id]; waiting {
			return true
		}
		delete(r.descents, id)
	}
	return false
}

func (r *round) send(to *onet.TreeNode, reply *Reply) {
	if err := r.p.SendTo(to, reply); err != nil {
		log.Lvl2(r.p.ServerIdentity(), "reply to", to.ServerIdentity, "failed:", err)
	}
}

// subtreeMembers lists the roster indices under n, n included.
func subtreeMembers(n *onet.TreeNode) map[int]bool {
	out := map[int]bool{}
	var walk func(*onet.TreeNode)
	walk = func(t *onet.TreeNode) {
		out[t.RosterIndex] = true
		for _, c := range t.Children {
			walk(c)
		}
	}
	walk(n)
	return out
}
