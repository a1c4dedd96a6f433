package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// session is one Check against one mirror: it starts from the trusted state and
// returns the next one, or an error that says why the mirror was not believed.
type session struct {
	c        *Client
	m        *mirror
	from     *trusted
	params   skipchain.Params
	verified map[uint64]*skipchain.Header // headers verified in this session, by index
	policies map[uint64]*release.Policy   // policies verified in this session, by block
	seen     *statementLog
}

// position is a block reached through signatures: its ID, index and roster.
type position struct {
	index  uint64
	id     skipchain.ID
	roster *skipchain.Roster
}

func (s *session) run(ctx context.Context) (*trusted, error) {
	t := s.from
	ts, err := s.m.timestamp(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkTimestampBounds(ts); err != nil {
		return nil, err
	}
	if ts.Index == t.head.Index() {
		next, err := s.sameHead(ts)
		if err != nil {
			return nil, err
		}
		return next, s.frozen(ts)
	}
	head, roster, err := s.reach(ctx, ts)
	if err != nil {
		return nil, err
	}
	if err := s.frozen(ts); err != nil {
		return nil, err
	}
	s.verified[head.Index()] = head
	if s.c.cfg.VerifyAncestry {
		if err := s.checkAncestry(ctx, head, ts); err != nil {
			return nil, err
		}
	}
	next, err := s.resolve(ctx, head, roster)
	if err != nil {
		return nil, err
	}
	next.timestamp = ts
	return next, nil
}

// checkTimestampBounds refuses, before any signature work, a timestamp of another
// chain, one behind the trusted head or the trusted timestamp, and one from the
// future.
func (s *session) checkTimestampBounds(ts *timeline.Timestamp) error {
	t, cfg := s.from, s.c.cfg
	now := cfg.Clock()
	switch {
	case ts.Genesis != cfg.Genesis:
		return rejectf("timestamp of chain %s, not %s", ts.Genesis, cfg.Genesis) // in full: they may share a short prefix
	case ts.Index < t.head.Index():
		return rejectf("rollback: timestamp names block %d, the client already trusts block %d", ts.Index, t.head.Index())
	case t.timestamp != nil && ts.Time.Before(t.timestamp.Time):
		return rejectf("replayed timestamp: %s is older than the trusted %s", ts.Time.Format(timeFormat), t.timestamp.Time.Format(timeFormat))
	case ts.Age(now) < -cfg.MaxClockSkew:
		return rejectf("timestamp of %s is %s in the future", ts.Time.Format(timeFormat), (-ts.Age(now)).Round(1e9))
	}
	return nil
}

const timeFormat = "2006-01-02T15:04:05Z"

// frozen is ErrFrozen for a verified timestamp older than MaxAge: decided only once
// its signature checked out, so that a mirror without keys cannot pass for a frozen
// chain (it is rejected for its signature instead).
func (s *session) frozen(ts *timeline.Timestamp) error {
	if age := ts.Age(s.c.cfg.Clock()); age > s.c.cfg.MaxAge {
		return fmt.Errorf("%w: %w: the newest timestamp (%s) is %s old, at most %s", ErrRejected, ErrFrozen,
			ts.Time.Format(timeFormat), age.Round(time.Second), s.c.cfg.MaxAge)
	}
	return nil
}

// sameHead handles a timestamp of the trusted head's index: fresher news of the same
// block, or, if it names another block and the trusted roster signed it, a fork.
func (s *session) sameHead(ts *timeline.Timestamp) (*trusted, error) {
	t := s.from
	if err := s.verifyTimestamp(ts, t.roster); err != nil {
		return nil, err
	}
	if ts.Head != t.head.ID() {
		return nil, s.timestampFork(t.timestamp, ts, "two timestamps name different blocks at index %d", ts.Index)
	}
	next := *t
	next.timestamp = ts
	return &next, nil
}

func (s *session) verifyTimestamp(ts *timeline.Timestamp, r *skipchain.Roster) error {
	s.m.stats.SignatureChecks++
	if err := ts.Verify(r); err != nil {
		return rejectf("%v", err)
	}
	return s.seen.timestamp(s, ts)
}

// reach verifies the block the timestamp names and returns its header and roster.
func (s *session) reach(ctx context.Context, ts *timeline.Timestamp) (*skipchain.Header, *skipchain.Roster, error) {
	t := s.from
	cur := position{t.head.Index(), t.head.ID(), t.roster}
	if s.c.cfg.Mode == Express {
		var named *skipchain.Header // the header the timestamp names, not yet trusted
		if ts.RosterID != cur.roster.ID() {
			// The roster changed: go by links to the newest roster change (as the
			// named head says; if it lies, the timestamp will not verify there).
			h, err := s.m.anyHeader(ctx, ts.Index)
			if err != nil {
				return nil, nil, err
			}
			if err := ts.Describes(h); err != nil {
				return nil, nil, rejectf("%v", err)
			}
			named = h
			if r := h.RosterSince(); r > cur.index && r <= ts.Index {
				if cur, err = s.forward(ctx, cur, r); err != nil {
					return nil, nil, err
				}
			}
		}
		if ts.RosterID == cur.roster.ID() {
			if err := s.verifyTimestamp(ts, cur.roster); err != nil {
				return nil, nil, err
			}
			h := named
			if h == nil {
				var err error
				if h, err = s.m.anyHeader(ctx, ts.Index); err != nil {
					return nil, nil, err
				}
			}
			if err := ts.Describes(h); err != nil {
				return nil, nil, rejectf("%v", err)
			}
			if cur.index == ts.Index && cur.id != h.ID() {
				return nil, nil, s.timestampFork(nil, ts, "a link reached block %d %s, the timestamp names %s", cur.index, cur.id.Short(), h.ID().Short())
			}
			return h, cur.roster, nil
		}
		// An honest head's "roster since" leads to its roster; this one did not.
		return nil, nil, rejectf("the timestamp's roster %s is not the roster reached at block %d (%s)",
			ts.RosterID.Short(), cur.index, cur.roster.ID().Short())
	}
	cur, err := s.forward(ctx, cur, ts.Index)
	if err != nil {
		return nil, nil, err
	}
	h, err := s.m.header(ctx, ts.Index, cur.id)
	if err != nil {
		return nil, nil, err
	}
	if ts.RosterID != cur.roster.ID() {
		return nil, nil, rejectf("timestamp signed by roster %s, the links reached roster %s", ts.RosterID.Short(), cur.roster.ID().Short())
	}
	if err := s.verifyTimestamp(ts, cur.roster); err != nil {
		return nil, nil, err
	}
	if ts.Head != cur.id {
		return nil, nil, s.timestampFork(nil, ts, "links reached block %d %s, the timestamp names %s", cur.index, cur.id.Short(), ts.Head.Short())
	}
	if err := ts.Describes(h); err != nil {
		return nil, nil, rejectf("%v", err)
	}
	return h, cur.roster, nil
}

// forward follows forward links from cur to block target, each checked with the
// roster in force at its from block: at each block the highest link that does not
// pass the target, a lower one when the mirror has not got it.
func (s *session) forward(ctx context.Context, cur position, target uint64) (position, error) {
	for cur.index < target {
		if s.m.stats.Hops >= s.c.cfg.MaxHops { // each mirror has its own stats
			return cur, rejectf("more than %d hops to block %d", s.c.cfg.MaxHops, target)
		}
		level := 0
		for h := int(s.params.Height(cur.index)); level+1 < h && s.params.Span(level+1) <= target-cur.index; level++ {
		}
		var l *skipchain.ForwardLink
		for ; level >= 0; level-- {
			var err error
			l, err = s.m.link(ctx, cur.index, level)
			if err == nil {
				break
			}
			if !errors.Is(err, errNotFound) {
				return cur, err
			}
		}
		if l == nil {
			return cur, rejectf("no forward link leaves block %d", cur.index)
		}
		if l.From() != cur.id || l.FromIndex() != cur.index || l.ToIndex() != cur.index+s.params.Span(level) {
			return cur, rejectf("link %d level %d: leaves %d %s for %d, want %d %s for %d", cur.index, level,
				l.FromIndex(), l.From().Short(), l.ToIndex(), cur.index, cur.id.Short(), cur.index+s.params.Span(level))
		}
		s.m.stats.SignatureChecks++
		if err := skipchain.VerifyLinkSignature(cur.roster, l); err != nil {
			return cur, rejectf("%v", err)
		}
		if err := s.seen.link(ctx, s, l, level); err != nil {
			return cur, err
		}
		next := position{l.ToIndex(), l.To(), cur.roster}
		if l.RosterID() != cur.roster.ID() {
			b, err := s.m.block(ctx, l.ToIndex(), l.To())
			if err != nil {
				return cur, err
			}
			if b.Roster().ID() != l.RosterID() {
				return cur, rejectf("block %d has roster %s, its link names %s", b.Index(), b.Roster().ID().Short(), l.RosterID().Short())
			}
			if err := timeline.CheckRoster(b.Roster()); err != nil {
				return cur, rejectf("block %d: %v", b.Index(), err)
			}
			next.roster = b.Roster()
			s.verified[b.Index()] = b.Header()
		}
		s.m.stats.Hops++
		cur = next
	}
	return cur, nil
}

// headerAt returns the header at index q, reached from a verified header through
// back-links (hashes only), fetching what the session has not verified yet.
func (s *session) headerAt(ctx context.Context, from *skipchain.Header, q uint64) (*skipchain.Header, error) {
	c := from
	for c.Index() > q {
		if h, ok := s.verified[q]; ok {
			return h, nil
		}
		back, diff := c.BackLinks(), c.Index()-q
		if len(back) == 0 {
			return nil, rejectf("block %d has no back-links", c.Index())
		}
		level := 0
		for level+1 < len(back) && level+1 < int(s.params.MaxHeight) && s.params.Span(level+1) <= diff {
			level++
		}
		idx := c.Index() - s.params.Span(level)
		h, ok := s.verified[idx]
		if ok && h.ID() != back[level] {
			return nil, rejectf("block %d links back to %s at %d, the client verified %s", c.Index(), back[level].Short(), idx, h.ID().Short())
		}
		if !ok {
			var err error
			if h, err = s.m.header(ctx, idx, back[level]); err != nil {
				return nil, err
			}
			s.verified[idx] = h
		}
		c = h
	}
	return c, nil
}

// checkAncestry walks back-links from the new head to the trusted head's index.
func (s *session) checkAncestry(ctx context.Context, head *skipchain.Header, ts *timeline.Timestamp) error {
	t := s.from
	delete(s.verified, t.head.Index()) // fetch what the new head links to, not what we trust
	h, err := s.headerAt(ctx, head, t.head.Index())
	s.verified[t.head.Index()] = t.head
	if err != nil {
		return err
	}
	if h.ID() != t.head.ID() {
		return s.timestampFork(t.timestamp, ts, "block %d links back to %s at index %d, the client trusts %s",
			head.Index(), h.ID().Short(), t.head.Index(), t.head.ID().Short())
	}
	return nil
}

// payloadOf fetches and decodes the payload of a verified non-genesis header.
func (s *session) payloadOf(ctx context.Context, h *skipchain.Header) (*timeline.Payload, []byte, error) {
	b, err := s.m.payload(ctx, h)
	if err != nil {
		return nil, nil, err
	}
	p, err := timeline.ParsePayload(h.PayloadKind(), b)
	if err != nil {
		return nil, nil, rejectf("block %d: %v", h.Index(), err)
	}
	return p, b, nil
}

// resolve completes the state at a verified head: the developer policy in force
// (every change since the trusted one verified in order) and the newest release,
// whose manifest must carry the developer signatures that policy requires.
func (s *session) resolve(ctx context.Context, head *skipchain.Header, roster *skipchain.Roster) (*trusted, error) {
	t := s.from
	next := &trusted{genesis: t.genesis, head: head, roster: roster, product: t.product}
	p, payload, err := s.payloadOf(ctx, head)
	if err != nil {
		return nil, err
	}
	if err := s.resolvePolicy(ctx, next, head, p); err != nil {
		return nil, err
	}
	relIndex := p.PreviousRelease
	if p.Kind == timeline.KindRelease {
		relIndex = head.Index()
	}
	channel := s.c.cfg.Channel
	for steps := 0; ; steps++ {
		switch {
		case t.release != nil && relIndex == t.release.Index(),
			channel != "" && relIndex <= t.head.Index():
			// Nothing newer (on the channel) since the trusted head.
			next.release, next.releasePayload = t.release, t.releasePayload
			return next, nil
		case relIndex == 0 && t.release == nil:
			return next, nil
		case relIndex <= t.head.Index():
			return nil, rejectf("block %d says the newest release is block %d, the client holds another", head.Index(), relIndex)
		case steps >= s.c.cfg.MaxHops:
			return nil, rejectf("more than %d releases on other channels", s.c.cfg.MaxHops)
		}
		rel, relPayload, rp := head, payload, p
		if relIndex != head.Index() {
			if rel, err = s.headerAt(ctx, head, relIndex); err != nil {
				return nil, err
			}
			if rp, relPayload, err = s.payloadOf(ctx, rel); err != nil {
				return nil, err
			}
		}
		if rp.Kind != timeline.KindRelease {
			return nil, rejectf("block %d, named as a release, is a %s", relIndex, rp.Kind)
		}
		m, err := s.manifestOf(rel.Index(), rp, next)
		if err != nil {
			return nil, err
		}
		if channel == "" || m.Channel == channel {
			next.release, next.releasePayload = rel, relPayload
			return next, nil
		}
		if rp.PreviousRelease >= relIndex {
			return nil, rejectf("release %d points back at release %d", relIndex, rp.PreviousRelease)
		}
		relIndex = rp.PreviousRelease
	}
}

// manifestOf checks a release payload's manifest against the policy that was in
// force for it.
func (s *session) manifestOf(index uint64, rp *timeline.Payload, next *trusted) (*release.Manifest, error) {
	// The policy in force at the release is the newest verified one before it.
	inForce := uint64(0)
	for k := range s.policies {
		if k < index && k >= inForce {
			inForce = k
		}
	}
	pol, ok := s.policies[rp.PolicySince]
	if !ok || rp.PolicySince != inForce {
		return nil, rejectf("release %d points at the policy of block %d, the policy in force is block %d's", index, rp.PolicySince, inForce)
	}
	m, err := pol.VerifyManifest(rp.Release)
	if err != nil {
		return nil, rejectf("release manifest: %v", err)
	}
	if m.Product != next.product {
		return nil, rejectf("release of product %q on the chain of %q", m.Product, next.product)
	}
	return m, nil
}

// resolvePolicy verifies every policy change from the trusted policy to the one in
// force at head, oldest first, each under the policy before it.
func (s *session) resolvePolicy(ctx context.Context, next *trusted, head *skipchain.Header, p *timeline.Payload) error {
	t := s.from
	s.policies = map[uint64]*release.Policy{t.policySince: t.policy}
	type change struct {
		index uint64
		pc    *release.PolicyChange
	}
	var changes []change // newest first
	if p.Kind == timeline.KindPolicyChange {
		changes = append(changes, change{head.Index(), p.PolicyChange})
	}
	for idx := p.PolicySince; idx != t.policySince; {
		if idx < t.policySince || idx <= t.head.Index() && idx != t.policySince {
			return rejectf("the policy chain reaches block %d, the client's policy is from block %d", idx, t.policySince)
		}
		h, err := s.headerAt(ctx, head, idx)
		if err != nil {
			return err
		}
		pp, _, err := s.payloadOf(ctx, h)
		if err != nil {
			return err
		}
		if pp.Kind != timeline.KindPolicyChange || pp.PolicySince >= idx {
			return rejectf("block %d, named as a policy change, is a %s pointing at %d", idx, pp.Kind, pp.PolicySince)
		}
		changes = append(changes, change{idx, pp.PolicyChange})
		idx = pp.PolicySince
	}
	pol, seq, since := t.policy, t.policyChanges, t.policySince
	chain := release.ChainID(t.genesis.ID())
	for i := len(changes) - 1; i >= 0; i-- {
		np, err := pol.VerifyChange(changes[i].pc, chain, seq+1)
		if err != nil {
			return rejectf("policy change in block %d: %v", changes[i].index, err)
		}
		pol, seq, since = np, seq+1, changes[i].index
		s.policies[since] = pol
	}
	next.policy, next.policyChanges, next.policySince = pol, seq, since
	return nil
}
