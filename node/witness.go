package node

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// A node is asked to sign two kinds of message, told apart by their domain tag:
//
//   - a forward link into a proposed block (skipchain.LinkMessage). It signs only if
//     the block follows its own head by the skipchain and timeline rules, its own
//     rebuild of a release matches, the roster asked to sign is the from-block's, and
//     it never signed another block at that position.
//   - a timestamp (timeline.Timestamp.Message). It first stores the block the round
//     carries, if it does not have it yet, with the links into it (verified); then
//     signs only if the timestamp names its own head, with that block's roster, at a
//     time within MaxClockSkew of its clock. A timestamp round that reaches the
//     threshold therefore also proves that a threshold stored the block.
//
// A genesis is created by a timestamp round over it: each member checks the genesis
// by the timeline rules, and that it is a member, before storing it.
func (n *Node) check(ctx context.Context, req protocol.CheckRequest, treeKeys []cosi.PublicKey) (err error) {
	defer func() {
		if err != nil {
			n.metrics.refusals.WithLabelValues(reasonClass(err)).Inc()
			n.log.Info("refusing to sign", "kind", roundKind(req.Message), "reason", err)
		}
	}()
	data, err := parseRoundData(n.rosters.blocks, req.Data)
	if err != nil {
		return err
	}
	switch roundKind(req.Message) {
	case "link":
		return n.checkLink(ctx, req.Message, data, treeKeys)
	case "timestamp":
		return n.checkTimestamp(ctx, req.Message, data, treeKeys)
	}
	return errors.New("a message that is neither a forward link nor a timestamp")
}

// sameKeys reports whether the tree's keys are exactly the roster's, in order.
func sameKeys(r *skipchain.Roster, keys []cosi.PublicKey) bool {
	if r.Len() != len(keys) {
		return false
	}
	for i, k := range r.Keys() {
		if !k.Equal(keys[i]) {
			return false
		}
	}
	return true
}

func (n *Node) checkLink(ctx context.Context, msg []byte, data *roundData, treeKeys []cosi.PublicKey) error {
	from, to, toIndex, rosterID, err := skipchain.ParseLinkMessage(msg)
	if err != nil {
		return err
	}
	b := data.Block
	if b == nil || b.ID() != to || b.Index() != toIndex || b.Header().RosterID() != rosterID {
		return errors.New("the round's block is not the block the link names")
	}
	c := n.chainOf(b.Header().Genesis())
	if c == nil {
		return fmt.Errorf("%w %s", errUnknownChain, b.Header().Genesis().Short())
	}
	if err := n.checkLinkPosition(ctx, c, b, from, data.CatchUp, treeKeys); err != nil {
		return err
	}
	// The rebuild runs without the chain's lock: it may take minutes, and the node
	// keeps serving and storing meanwhile.
	if b.Header().PayloadKind() == timeline.KindRelease {
		if err := n.verdict(ctx, c, b, data.Source); err != nil {
			return err
		}
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	if c.state.Head().Index()+1 != b.Index() {
		return fmt.Errorf("the chain moved to block %d during the check", c.state.Head().Index())
	}
	return n.intents.record(c.genesis, b.Index(), b.ID())
}

// checkLinkPosition checks, under the chain's lock, everything about a link into b
// but the rebuild: the block follows the head by the chain rules, the link leaves a
// block b links back to, and the round's roster is that block's.
func (n *Node) checkLinkPosition(ctx context.Context, c *chain, b *skipchain.Block, from skipchain.ID, source string, treeKeys []cosi.PublicKey) error {
	if err := n.catchUp(ctx, c, source, b.Index()-1); err != nil {
		return fmt.Errorf("catching up to block %d: %w", b.Index()-1, err)
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	head := c.state.Head()
	if b.Index() != head.Index()+1 {
		return fmt.Errorf("block %d does not follow this node's head %d", b.Index(), head.Index())
	}
	level := -1
	for l, pos := range c.state.Genesis().Params().LinksInto(b.Index()) {
		if h, err := c.store.Header(pos.From); err == nil && h.ID() == from {
			level = l
			break
		}
	}
	if level < 0 {
		return fmt.Errorf("link from %s is not a link into block %d", from.Short(), b.Index())
	}
	fromBlock, err := c.store.Block(b.Index() - c.state.Genesis().Params().Span(level))
	if err != nil {
		return err
	}
	if !sameKeys(fromBlock.Roster(), treeKeys) {
		return fmt.Errorf("the round's roster is not the roster of block %d, which signs this link", fromBlock.Index())
	}
	return c.validate(b)
}

// verdict rebuilds a proposed release from source, once per (block, source): the
// links at several levels into one block reuse the outcome. Only definite outcomes
// are kept, a match or a mismatch; a fetch or build that failed runs again next time.
func (n *Node) verdict(ctx context.Context, c *chain, b *skipchain.Block, source string) error {
	key := verdictKey{b.ID(), source}
	if err, ok := n.verdicts.get(key); ok {
		return err
	}
	err := n.rebuildRelease(ctx, c, b, source)
	if err == nil || isMismatch(err) {
		n.verdicts.put(key, err)
	}
	return err
}

func (n *Node) rebuildRelease(ctx context.Context, c *chain, b *skipchain.Block, source string) error {
	p, err := timeline.ParsePayload(timeline.KindRelease, b.Payload())
	if err != nil {
		return err
	}
	// The developer signatures were checked with the policy in force by validate;
	// here the manifest is only read.
	m, err := release.ParseManifest(p.Release.Manifest)
	if err != nil {
		return err
	}
	start := time.Now()
	err = n.rebuild.rebuild(ctx, m, source)
	n.metrics.rebuildTime.Observe(time.Since(start).Seconds())
	switch {
	case err == nil:
		n.metrics.rebuilds.WithLabelValues("match").Inc()
		n.log.Info("rebuilt release", "version", m.Version, "targets", len(m.Targets), "seconds", time.Since(start).Seconds())
	case isMismatch(err):
		n.metrics.rebuilds.WithLabelValues("mismatch").Inc()
	default:
		n.metrics.rebuilds.WithLabelValues("error").Inc()
	}
	if err != nil {
		return fmt.Errorf("rebuild of %s %s: %w", m.Product, m.Version, err)
	}
	return nil
}

func (n *Node) checkTimestamp(ctx context.Context, msg []byte, data *roundData, treeKeys []cosi.PublicKey) error {
	ts, err := timeline.ParseTimestampMessage(msg)
	if err != nil {
		return fmt.Errorf("timestamp message: %w", err)
	}
	if d := n.clock().Sub(ts.Time); d > n.cfg.MaxClockSkew.Duration || d < -n.cfg.MaxClockSkew.Duration {
		return fmt.Errorf("timestamp time %s is %s from this node's clock, more than %s", ts.Time.Format(time.RFC3339), d.Round(time.Second), n.cfg.MaxClockSkew.Duration)
	}
	c := n.chainOf(ts.Genesis)
	if c == nil {
		switch b := data.Block; {
		case b != nil && b.Index() == 0 && ts.Index == 0 && data.Timestamp == nil:
			// A new chain: checked now, stored only once its roster cosigned it.
			return n.offerGenesis(b, ts, treeKeys)
		case b != nil && b.Index() == 0 && ts.Index == 0:
			// A chain whose genesis its roster already cosigned: store it, then sign
			// as for any chain held.
			if err := n.offerGenesis(b, ts, treeKeys); err != nil {
				return err
			}
			if c, err = n.adoptGenesis(b, data.Timestamp); err != nil {
				return err
			}
		default:
			if c, err = n.joinChain(ctx, ts, data, treeKeys); err != nil {
				return err
			}
		}
	}
	if b := data.Block; b != nil && b.Index() > 0 && b.Index() == ts.Index {
		if err := n.catchUp(ctx, c, data.CatchUp, b.Index()-1); err != nil {
			return fmt.Errorf("catching up to block %d: %w", b.Index()-1, err)
		}
		if err := c.lock(ctx); err != nil {
			return err
		}
		if c.state.Head().Index() == b.Index()-1 {
			err = n.store(c, b, data.Links)
		}
		c.mu.Unlock()
		if err != nil {
			return err
		}
	} else if err := n.catchUp(ctx, c, data.CatchUp, ts.Index); err != nil {
		return fmt.Errorf("catching up to block %d: %w", ts.Index, err)
	}
	if err := c.lock(ctx); err != nil {
		return err
	}
	defer c.mu.Unlock()
	head := c.state.Head()
	if head.Index() != ts.Index || head.ID() != ts.Head {
		return fmt.Errorf("timestamp names block %d %s, this node's head is block %d %s", ts.Index, ts.Head.Short(), head.Index(), head.ID().Short())
	}
	if head.RosterID() != ts.RosterID || !sameKeys(c.state.Roster(), treeKeys) {
		return errors.New("the round's roster is not the roster in force")
	}
	if data.Timestamp != nil {
		_, _ = n.keepTimestamp(c, data.Timestamp)
	}
	return nil
}

// offerGenesis checks a genesis this node is asked to cosign: the timeline rules, this
// node in its roster, the round's roster being that roster. It keeps the genesis as
// pending, in memory, and stores it only when a timestamp over it, signed by a
// threshold of its roster, arrives (the leader's notice, or a later round): a genesis
// whose round fails leaves nothing behind.
func (n *Node) offerGenesis(g *skipchain.Block, ts *timeline.Timestamp, treeKeys []cosi.PublicKey) error {
	if err := ts.Describes(g.Header()); err != nil {
		return err
	}
	if _, err := timeline.NewState(g); err != nil {
		return err
	}
	if !hasKey(g.Roster(), n.key.Public()) {
		return errors.New("this node is not in the genesis roster")
	}
	if !sameKeys(g.Roster(), treeKeys) {
		return errors.New("the round's roster is not the genesis roster")
	}
	n.pending.add(g)
	return nil
}

func hasKey(r *skipchain.Roster, k cosi.PublicKey) bool {
	for _, m := range r.Keys() {
		if m.Equal(k) {
			return true
		}
	}
	return false
}

// adoptGenesis stores a genesis once ts, signed by a threshold of its roster, shows
// that the roster cosigned it.
func (n *Node) adoptGenesis(g *skipchain.Block, ts *timeline.Timestamp) (*chain, error) {
	if err := ts.Describes(g.Header()); err != nil {
		return nil, err
	}
	if err := ts.Verify(g.Roster()); err != nil {
		return nil, err
	}
	return n.addChain(g.ID(), func() (*chain, error) { return createChain(n.chainDir, g) })
}

// addChain registers a chain made by make, unless it is known already or the node
// keeps MaxChains chains.
func (n *Node) addChain(genesis skipchain.ID, make func() (*chain, error)) (*chain, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, errors.New("node: closed")
	}
	if c, ok := n.chains[genesis]; ok {
		return c, nil
	}
	if len(n.chains) >= n.cfg.MaxChains {
		return nil, fmt.Errorf("this node keeps %d chains already, its limit (max_chains)", len(n.chains))
	}
	c, err := make()
	if err != nil {
		return nil, err
	}
	n.chains[genesis] = c
	n.log.Info("keeping chain", "genesis", genesis.String())
	return c, nil
}

// joinChain starts keeping a chain whose roster this node joined: it fetches the
// chain from the round's catch-up source into memory, verifying every block from the
// genesis, stores the round's block too, and keeps the chain only if this node is in
// the roster then in force and that roster is the round's. Nothing is written before
// that; a lying source or a forged block leaves nothing behind.
func (n *Node) joinChain(ctx context.Context, ts *timeline.Timestamp, data *roundData, treeKeys []cosi.PublicKey) (*chain, error) {
	b := data.Block
	if b == nil || b.Index() == 0 || b.Index() != ts.Index || b.ID() != ts.Head {
		return nil, fmt.Errorf("%w %s", errUnknownChain, ts.Genesis.Short())
	}
	if !hasKey(b.Roster(), n.key.Public()) || !sameKeys(b.Roster(), treeKeys) {
		return nil, fmt.Errorf("%w %s, and this node is not in the round's roster", errUnknownChain, ts.Genesis.Short())
	}
	if err := checkSource(data.CatchUp); err != nil {
		return nil, fmt.Errorf("%w %s: %w", errUnknownChain, ts.Genesis.Short(), err)
	}
	sb, err := n.fetchServedBlock(ctx, data.CatchUp, ts.Genesis, 0)
	if err != nil {
		return nil, err
	}
	g := sb.Block
	if g.Index() != 0 || g.ID() != ts.Genesis {
		return nil, fmt.Errorf("%w %s: the genesis offered has ID %s", errUnknownChain, ts.Genesis.Short(), g.ID().Short())
	}
	mem, err := skipchain.NewMemStore(g)
	if err != nil {
		return nil, err
	}
	st, err := timeline.NewState(g)
	if err != nil {
		return nil, err
	}
	tmp := &chain{genesis: g.ID(), store: mem, state: st}
	tmp.takeSnapshot()
	if err := n.catchUp(ctx, tmp, data.CatchUp, b.Index()-1); err != nil {
		return nil, err
	}
	if tmp.state.Head().Index() != b.Index()-1 {
		return nil, fmt.Errorf("%w %s: caught up only to block %d", errUnknownChain, ts.Genesis.Short(), tmp.state.Head().Index())
	}
	if err := tmp.appendBlock(b, data.Links); err != nil {
		return nil, err
	}
	if !hasKey(tmp.state.Roster(), n.key.Public()) || !sameKeys(tmp.state.Roster(), treeKeys) {
		return nil, fmt.Errorf("%w %s, and this node is not in its roster", errUnknownChain, ts.Genesis.Short())
	}
	// Verified: copy it into a store of its own, block by block with the links into
	// each (the store checks them all again).
	return n.addChain(g.ID(), func() (*chain, error) {
		c, err := createChain(n.chainDir, g)
		if err != nil {
			return nil, err
		}
		for i := uint64(1); i <= b.Index(); i++ {
			blk, err := mem.Block(i)
			if err == nil {
				var links []*skipchain.ForwardLink
				if links, err = linksInto(tmp, blk); err == nil {
					err = c.appendBlock(blk, links)
				}
			}
			if err != nil {
				c.store.Close()
				os.Remove(chainFile(n.chainDir, g.ID()))
				return nil, err
			}
		}
		return c, nil
	})
}

// store appends a block with the links into it (verified by the store) and drops the
// intent for its position. Called with c.mu held.
func (n *Node) store(c *chain, b *skipchain.Block, links []*skipchain.ForwardLink) error {
	if err := c.appendBlock(b, links); err != nil {
		return err
	}
	if c.tsPath == "" {
		return nil // a chain being checked before it is kept
	}
	n.intents.forget(c.genesis, b.Index())
	n.log.Info("stored block", "index", b.Index(), "id", b.ID().Short(), "kind", b.Header().PayloadKind())
	n.exportLater(c)
	return nil
}

// isMismatch reports whether a rebuild failed on evidence (the release does not match)
// rather than on an I/O or build error.
func isMismatch(err error) bool {
	return errors.Is(err, build.ErrRebuildMismatch)
}

func reasonClass(err error) string {
	var re *release.ThresholdError
	switch {
	case isMismatch(err):
		return "rebuild_mismatch"
	case errors.As(err, &re):
		return "developer_threshold"
	case errors.Is(err, timeline.ErrRefused), errors.Is(err, timeline.ErrInvalidPayload):
		return "chain_rules"
	case errors.Is(err, skipchain.ErrInvalidBlock), errors.Is(err, skipchain.ErrMalformed):
		return "block"
	case errors.Is(err, errUnknownChain):
		return "unknown_chain"
	case errors.Is(err, errAlreadySigned):
		return "position_taken"
	}
	return "other"
}
