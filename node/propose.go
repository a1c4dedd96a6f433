package node

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"go.dedis.ch/onet/v3"
	"go.dedis.ch/onet/v3/network"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// errBusy is returned when MaxProposals proposals are already in flight.
var errBusy = errors.New("node: too many proposals in flight; retry later")

// takeProposalSlot takes one of MaxProposals slots, or fails at once with errBusy.
func (n *Node) takeProposalSlot() (release func(), err error) {
	select {
	case n.busy <- struct{}{}:
		return func() { <-n.busy }, nil
	default:
		n.metrics.proposalsBusy.Inc()
		return nil, errBusy
	}
}

// round runs one signing round led by this node over roster and reports it. The
// signature is verified before it is returned.
func (n *Node) round(ctx context.Context, roster *skipchain.Roster, what string, msg []byte, data *roundData, linger time.Duration) (*protocol.Result, api.RoundReport) {
	start := time.Now()
	rep := api.RoundReport{What: what, Members: roster.Len(), Needed: roster.Threshold(), Message: hex.EncodeToString(msg)}
	res, err := n.sign(ctx, roster, msg, data, linger)
	rep.Seconds = time.Since(start).Seconds()
	kind := roundKind(msg)
	var re *protocol.RoundError
	switch {
	case err == nil:
		rep.OK, rep.Signers = true, res.Signature.Mask().Count()
		rep.Round = res.Round.String()
		rep.Refusals, rep.Failures = reportRefusals(res.Refusals), reportFailures(res.Failures)
		n.metrics.round(kind, "signed", time.Since(start))
	case errors.As(err, &re):
		rep.Signers, rep.Round = re.Signed, re.Round.String()
		rep.Refusals, rep.Failures = reportRefusals(re.Refusals), reportFailures(re.Failures)
		rep.Error = err.Error()
		n.metrics.round(kind, "refused", time.Since(start))
	default:
		rep.Error = err.Error()
		n.metrics.round(kind, "error", time.Since(start))
	}
	n.history.add(roundRecord{Report: rep, At: n.clock(), Genesis: data.genesis()})
	if err != nil {
		return nil, rep
	}
	return res, rep
}

// roundKind names what a round signs, by decoding it: "link", "timestamp", or "".
func roundKind(msg []byte) string {
	if _, _, _, _, err := skipchain.ParseLinkMessage(msg); err == nil {
		return "link"
	}
	if _, err := timeline.ParseTimestampMessage(msg); err == nil {
		return "timestamp"
	}
	return ""
}

func (d *roundData) genesis() skipchain.ID {
	if d.Block == nil {
		if d.Timestamp != nil {
			return d.Timestamp.Genesis
		}
		return skipchain.ID{}
	}
	if d.Block.Index() == 0 {
		return d.Block.ID()
	}
	return d.Block.Header().Genesis()
}

func (n *Node) sign(ctx context.Context, roster *skipchain.Roster, msg []byte, data *roundData, linger time.Duration) (*protocol.Result, error) {
	me := -1
	ids := make([]*network.ServerIdentity, roster.Len())
	for i, m := range roster.Members() {
		if m.Key.Equal(n.key.Public()) {
			me = i
		}
		si, err := identity(m)
		if err != nil {
			return nil, err
		}
		ids[i] = si
	}
	if me < 0 {
		return nil, fmt.Errorf("node: this node is not a member of roster %s and cannot lead its round", roster.ID().Short())
	}
	tree, err := protocol.NewTreeAt(onet.NewRoster(ids), protocol.DefaultSubtrees(len(ids)), me)
	if err != nil {
		return nil, err
	}
	pi, err := n.svc.ctx.CreateProtocol(protocolName, tree)
	if err != nil {
		return nil, err
	}
	p := pi.(*protocol.Protocol)
	id := roster.ID()
	p.Request = protocol.Request{
		RosterRef: id[:], Message: msg, Data: data.encode(),
		Policy: roster.Policy(), Timeout: n.cfg.RoundTimeout.Duration, Linger: linger,
	}
	if err := p.Start(); err != nil {
		return nil, err
	}
	res, err := p.Wait(ctx)
	if err != nil {
		return nil, err
	}
	if err := roster.Verify(msg, res.Signature); err != nil {
		return nil, fmt.Errorf("node: round produced an invalid signature: %w", err)
	}
	return res, nil
}

func reportRefusals(rs []protocol.Refusal) []api.Refusal {
	out := make([]api.Refusal, len(rs))
	for i, r := range rs {
		out[i] = api.Refusal{Member: r.Member, Key: r.Key.String(), Reason: r.Reason, Signature: hex.EncodeToString(r.Signature.Encode())}
	}
	return out
}

func reportFailures(fs []protocol.Failure) []api.Failure {
	out := make([]api.Failure, len(fs))
	for i, f := range fs {
		out[i] = api.Failure{Member: f.Member, Reason: f.Reason}
	}
	return out
}

// CreateChain has the genesis's roster cosign it: each member checks it and stores
// it, and the round's signature is the chain's first timestamp.
func (n *Node) CreateChain(ctx context.Context, g *skipchain.Block) (*api.ProposalResult, error) {
	if _, err := timeline.NewState(g); err != nil {
		return nil, err
	}
	release, err := n.takeProposalSlot()
	if err != nil {
		return nil, err
	}
	defer release()
	out := &api.ProposalResult{Kind: timeline.KindGenesis, Index: 0, ID: g.ID().String()}
	ts := timeline.NewTimestamp(g.Header(), n.clock())
	data := &roundData{Block: g, CatchUp: n.baseURL()}
	res, rep := n.round(ctx, g.Roster(), "genesis", ts.Message(), data, n.cfg.Linger.Duration)
	out.Rounds = append(out.Rounds, rep)
	if res == nil {
		out.Error = "the genesis roster did not cosign the genesis: " + rep.Error
		return out, nil
	}
	ts.Signature = res.Signature
	c, err := n.adoptGenesis(g, ts)
	if err != nil {
		out.Error = "the genesis was cosigned but this node could not store it: " + err.Error()
		return out, nil
	}
	if _, err := n.keepTimestamp(c, ts); err != nil {
		return nil, err
	}
	// A second timestamp, which members sign only once they stored the genesis (the
	// first one proves to them that the roster cosigned it): "accepted" means that a
	// threshold of the roster keeps the chain.
	stored := timeline.NewTimestamp(g.Header(), n.clock())
	data = &roundData{Block: g, CatchUp: n.baseURL(), Timestamp: ts}
	res, rep = n.round(ctx, g.Roster(), "timestamp 0 (stored)", stored.Message(), data, n.cfg.Linger.Duration)
	out.Rounds = append(out.Rounds, rep)
	if res == nil {
		out.Error = "the genesis is cosigned but fewer than a threshold of its roster stored it: " + rep.Error
		return out, nil
	}
	stored.Signature = res.Signature
	if _, err := n.keepTimestamp(c, stored); err != nil {
		return nil, err
	}
	n.notify(g.Roster(), stored)
	out.Accepted = true
	return out, nil
}

// Propose makes the block a proposal asks for and has the roster sign it: the links
// into it, each by the roster of the block it leaves, then a timestamp by the new
// block's roster, which every signer gives only once it stored the block. The
// proposal is accepted when the level-0 link and the timestamp reached their
// thresholds; higher links that could not be signed are left out (update proofs
// then take a lower level there).
func (n *Node) Propose(ctx context.Context, genesis skipchain.ID, p *api.Proposal, body any) (*api.ProposalResult, error) {
	c := n.chainOf(genesis)
	if c == nil {
		return nil, fmt.Errorf("%w %s", errUnknownChain, genesis.Short())
	}
	release, err := n.takeProposalSlot()
	if err != nil {
		return nil, err
	}
	defer release()
	// One proposal at a time per chain at this node; the chain's own lock is left to
	// the members' checks (this node's included) while the rounds run.
	if err := lockCtx(ctx, &c.propMu); err != nil {
		return nil, err
	}
	defer c.propMu.Unlock()

	b, back, err := n.buildBlock(ctx, c, p, body)
	if err != nil {
		return nil, err
	}
	out := &api.ProposalResult{Kind: p.Kind, Index: b.Index(), ID: b.ID().String()}
	data := &roundData{Block: b, Source: p.Source, CatchUp: n.baseURL(), Timestamp: c.newestTimestamp()}
	var links []*skipchain.ForwardLink
	for level, from := range back {
		fromBlock, err := c.store.Block(from.Index())
		if err != nil {
			return nil, err
		}
		msg := skipchain.LinkMessage(from.ID(), b.ID(), b.Index(), b.Header().RosterID())
		what := fmt.Sprintf("link %d→%d level %d", from.Index(), b.Index(), level)
		res, rep := n.round(ctx, fromBlock.Roster(), what, msg, data, n.cfg.Linger.Duration)
		out.Rounds = append(out.Rounds, rep)
		if res == nil {
			if level == 0 {
				out.Error = "the roster did not sign the block: " + rep.Error
				return out, nil
			}
			n.log.Warn("higher link left out", "from", from.Index(), "to", b.Index(), "reason", rep.Error)
			continue
		}
		l, err := skipchain.NewForwardLink(from, b.Header(), res.Signature)
		if err != nil {
			return nil, err
		}
		links = append(links, l)
	}
	// This node keeps the block before asking others to, so the timestamp round's
	// catch-up source has it even if this node is not in the new roster.
	if err := c.lock(ctx); err != nil {
		return nil, err
	}
	err = n.store(c, b, links)
	c.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("node: storing the signed block: %w", err)
	}
	ts := timeline.NewTimestamp(b.Header(), n.clock())
	data = &roundData{Block: b, Links: links, CatchUp: n.baseURL(), Timestamp: c.newestTimestamp()}
	res, rep := n.round(ctx, b.Roster(), fmt.Sprintf("timestamp %d (stored)", b.Index()), ts.Message(), data, n.cfg.Linger.Duration)
	out.Rounds = append(out.Rounds, rep)
	if res == nil {
		out.Error = "the block is signed but fewer than a threshold of its roster stored it: " + rep.Error
		return out, nil
	}
	ts.Signature = res.Signature
	if _, err := n.keepTimestamp(c, ts); err != nil {
		return nil, err
	}
	n.notify(b.Roster(), ts)
	out.Accepted = true
	return out, nil
}

// buildBlock turns a proposal into the block after the head and checks it as any
// member would (before any round), so obvious refusals come back at once.
func (n *Node) buildBlock(ctx context.Context, c *chain, p *api.Proposal, body any) (*skipchain.Block, []*skipchain.Header, error) {
	if err := c.lock(ctx); err != nil {
		return nil, nil, err
	}
	defer c.mu.Unlock()
	roster := c.state.Roster()
	if p.Kind == timeline.KindRosterChange {
		var err error
		if roster, err = skipchain.ParseRoster(p.Roster); err != nil {
			return nil, nil, err
		}
	}
	next := c.state.Head().Index() + 1
	back, err := c.back(next)
	if err != nil {
		return nil, nil, err
	}
	b, err := c.state.NewBlock(back, roster, body)
	if err != nil {
		return nil, nil, err
	}
	if err := c.validate(b); err != nil {
		return nil, nil, err
	}
	return b, back, nil
}

// notify sends a finished timestamp to every member of roster but this node.
func (n *Node) notify(roster *skipchain.Roster, ts *timeline.Timestamp) {
	msg := &timestampNotice{Timestamp: ts.Encode()}
	for _, m := range roster.Members() {
		if m.Key.Equal(n.key.Public()) {
			continue
		}
		si, err := identity(m)
		if err != nil {
			continue
		}
		if err := n.svc.ctx.SendRaw(si, msg); err != nil {
			n.log.Debug("timestamp notice not delivered", "member", m.Address, "err", err)
		}
	}
}

// acceptTimestamp keeps a timestamp another node sent, if it verifies here.
func (n *Node) acceptTimestamp(b []byte) {
	ts, err := timeline.ParseTimestamp(b)
	if err != nil {
		return
	}
	c := n.chainOf(ts.Genesis)
	if c == nil && ts.Index == 0 {
		if g := n.pending.get(ts.Genesis); g != nil {
			if c, err = n.adoptGenesis(g, ts); err != nil {
				n.log.Debug("genesis not adopted", "err", err)
			}
		}
	}
	if c != nil {
		if _, err := n.keepTimestamp(c, ts); err != nil {
			n.log.Debug("timestamp notice refused", "err", err)
		}
	}
}

// timestampLoop renews every chain's timestamp when it is older than the interval.
// Only the roster's first member renews, so the roster does not race itself; a
// stopped first member leaves timestamps to age, which monitors and updaters see.
func (n *Node) timestampLoop() {
	defer n.wg.Done()
	tick := time.NewTicker(timestampCheckEvery(n.cfg.TimestampInterval.Duration))
	defer tick.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-tick.C:
		}
		// Each chain renews on its own, so a roster that does not answer delays only
		// its own chain; a renewal still running is not started twice (propMu).
		for _, c := range n.chainList() {
			n.wg.Add(1)
			go func() {
				defer n.wg.Done()
				n.renewTimestamp(c)
			}()
		}
	}
}

func timestampCheckEvery(interval time.Duration) time.Duration {
	return min(max(interval/10, 50*time.Millisecond), time.Minute)
}

func (n *Node) renewTimestamp(c *chain) {
	if !c.propMu.TryLock() {
		return // a proposal is in flight; it ends with a timestamp of its own
	}
	defer c.propMu.Unlock()
	snap := c.snapshot()
	head, roster := snap.head, snap.roster
	if !roster.Member(0).Key.Equal(n.key.Public()) {
		return
	}
	if ts := c.newestTimestamp(); ts != nil && ts.Index == head.Index() && n.clock().Sub(ts.Time) < n.cfg.TimestampInterval.Duration {
		return
	}
	ts := timeline.NewTimestamp(head, n.clock())
	// The head travels with the round, and the newest timestamp: a member that missed
	// the genesis's notice or blocks since catches up through them.
	data := &roundData{CatchUp: n.baseURL(), Timestamp: c.newestTimestamp()}
	if b, err := c.store.Block(head.Index()); err == nil {
		links, _ := linksInto(c, b)
		data.Block, data.Links = b, links
	}
	res, _ := n.round(n.ctx, roster, fmt.Sprintf("timestamp %d", head.Index()), ts.Message(), data, 0)
	if res == nil {
		return
	}
	ts.Signature = res.Signature
	if _, err := n.keepTimestamp(c, ts); err == nil {
		n.notify(roster, ts)
		n.exportLater(c)
	}
}

// linksInto returns the stored links into b, lowest level first.
func linksInto(c *chain, b *skipchain.Block) ([]*skipchain.ForwardLink, error) {
	var out []*skipchain.ForwardLink
	for _, pos := range b.Header().Params().LinksInto(b.Index()) {
		l, err := c.store.Link(pos.From, pos.Level)
		if err != nil {
			if errors.Is(err, skipchain.ErrUnknownLink) {
				continue
			}
			return nil, err
		}
		out = append(out, l)
	}
	return out, nil
}
