package timeline

import (
	"errors"
	"fmt"
	"maps"

	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

// ErrRefused is wrapped when a well-formed block breaks a rule of the chain as it
// stands: too few developer signatures, a version already released, a roster change
// the developers did not sign, pointers that do not match the chain.
var ErrRefused = errors.New("timeline: block refused")

// State is what a chain's blocks have established up to its head: the roster and
// developer policy in force, how many changes of each were made, and what was
// released. Check decides on a block without changing anything; Apply moves the state
// forward. A State is not safe for concurrent use: its owner serialises access.
type State struct {
	genesis *skipchain.Header
	head    *skipchain.Header
	roster  *skipchain.Roster
	product string

	policy        *release.Policy
	policySince   uint64
	policyChanges uint64
	rosterChanges uint64
	lastRelease   uint64

	// released maps a channel to the targets released there, by version key.
	released map[string]map[string]map[release.TargetKey]bool
}

// Change is what one block did to the state, for logs and status pages.
type Change struct {
	Kind     string
	Manifest *release.Manifest // for a release
	Roster   *skipchain.Roster // for a roster change: the new roster
	Policy   *release.Policy   // for a policy change: the new policy
}

// NewGenesis makes the genesis block of a chain for product, with the cothority
// roster and the first developer policy. The roster must pass CheckRoster.
func NewGenesis(p skipchain.Params, roster *skipchain.Roster, product string, policy *release.Policy) (*skipchain.Block, error) {
	if err := CheckRoster(roster); err != nil {
		return nil, err
	}
	if err := release.ValidateProduct(product); err != nil {
		return nil, fmt.Errorf("timeline: product: %w", err)
	}
	g := &Genesis{Product: product, Policy: policy}
	return skipchain.NewGenesis(p, roster, KindGenesis, g.Encode())
}

// NewState returns the state of a chain that holds only its genesis block.
func NewState(genesis *skipchain.Block) (*State, error) {
	h := genesis.Header()
	if h.Index() != 0 {
		return nil, fmt.Errorf("%w: block %d is not a genesis", ErrRefused, h.Index())
	}
	decoded, err := PayloadOf(genesis)
	if err != nil {
		return nil, err
	}
	g := decoded.(*Genesis)
	if err := CheckRoster(genesis.Roster()); err != nil {
		return nil, fmt.Errorf("%w: genesis: %w", ErrRefused, err)
	}
	return &State{
		genesis:  h,
		head:     h,
		roster:   genesis.Roster(),
		product:  g.Product,
		policy:   g.Policy,
		released: map[string]map[string]map[release.TargetKey]bool{},
	}, nil
}

// CheckRoster applies the rule every cothority roster obeys: at least one member and
// a threshold of at least n − ⌊(n−1)/3⌋ of its n members, so that the roster tolerates
// ⌊(n−1)/3⌋ faulty members and no two conflicting statements can both reach the
// threshold with fewer. (Keys are valid and distinct by construction of a
// skipchain.Roster.)
func CheckRoster(r *skipchain.Roster) error {
	if r.Len() == 0 {
		return errors.New("timeline: roster has no members")
	}
	if min := cosi.DefaultThreshold(r.Len()); r.Threshold() < min {
		return fmt.Errorf("timeline: roster threshold %d of %d members, at least %d", r.Threshold(), r.Len(), min)
	}
	return nil
}

// Genesis is the chain's genesis header.
func (s *State) Genesis() *skipchain.Header { return s.genesis }

// ChainID is the genesis ID as the release package names chains.
func (s *State) ChainID() release.ChainID { return release.ChainID(s.genesis.ID()) }

// Head is the newest block the state includes.
func (s *State) Head() *skipchain.Header { return s.head }

// Roster is the roster in force: the head's, which signs the links leaving it.
func (s *State) Roster() *skipchain.Roster { return s.roster }

// Product is the product the genesis fixed.
func (s *State) Product() string { return s.product }

// Policy is the developer policy in force.
func (s *State) Policy() *release.Policy { return s.policy }

// PolicySince is the index of the block that set the policy in force.
func (s *State) PolicySince() uint64 { return s.policySince }

// LastRelease is the index of the newest release block, 0 if there is none.
func (s *State) LastRelease() uint64 { return s.lastRelease }

// PolicyChanges and RosterChanges count the changes made since the genesis; the next
// change of each kind carries the count plus one as its sequence number.
func (s *State) PolicyChanges() uint64 { return s.policyChanges }
func (s *State) RosterChanges() uint64 { return s.rosterChanges }

// Released reports whether target k of version was already released on channel.
func (s *State) Released(channel, version string, k release.TargetKey) bool {
	return s.released[channel][versionKey(version)][k]
}

// NewPayload wraps a body (a *release.SignedManifest, *release.RosterChange or
// *release.PolicyChange) in the payload envelope for the block after the head, with
// the pointers the chain requires.
func (s *State) NewPayload(body any) (*Payload, error) {
	p := &Payload{PolicySince: s.policySince, PreviousRelease: s.lastRelease}
	switch b := body.(type) {
	case *release.SignedManifest:
		p.Kind, p.Release = KindRelease, b
	case *release.RosterChange:
		p.Kind, p.RosterChange = KindRosterChange, b
	case *release.PolicyChange:
		p.Kind, p.PolicyChange = KindPolicyChange, b
	default:
		return nil, fmt.Errorf("timeline: no payload kind for %T", body)
	}
	return p, nil
}

// NewBlock makes the block after the head carrying body. back lists the headers the
// new block links back to (skipchain.Params.LinksInto order), back[0] being the head.
// roster is the new block's roster: the one in force, or for a roster change the next
// one. The block still has to pass Check, like any other.
func (s *State) NewBlock(back []*skipchain.Header, roster *skipchain.Roster, body any) (*skipchain.Block, error) {
	if len(back) == 0 || back[0].ID() != s.head.ID() {
		return nil, fmt.Errorf("timeline: new block does not follow the head %d", s.head.Index())
	}
	p, err := s.NewPayload(body)
	if err != nil {
		return nil, err
	}
	return skipchain.NewBlock(s.genesis, back, roster, p.Kind, p.Encode())
}

// Check decides whether b may follow the head: its payload obeys the rules in force.
// It changes nothing; Apply does the same checks and moves the state forward. b must
// be the block after the head, of this chain; whether it is a valid successor in the
// skipchain's sense (back-links, heights, "roster since") and whether its links are
// signed is skipchain's to check. The error wraps ErrInvalidPayload for bytes that do
// not decode and ErrRefused for a rule broken.
func (s *State) Check(b *skipchain.Block) (*Change, error) {
	h := b.Header()
	if h.Index() != s.head.Index()+1 || h.Genesis() != s.genesis.ID() {
		return nil, fmt.Errorf("%w: block %d of chain %s does not follow block %d of chain %s",
			ErrRefused, h.Index(), h.Genesis().Short(), s.head.Index(), s.genesis.ID().Short())
	}
	if len(h.BackLinks()) == 0 || h.BackLinks()[0] != s.head.ID() {
		return nil, fmt.Errorf("%w: block %d does not link back to the head", ErrRefused, h.Index())
	}
	p, err := ParsePayload(h.PayloadKind(), b.Payload())
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", h.Index(), err)
	}
	if p.PolicySince != s.policySince || p.PreviousRelease != s.lastRelease {
		return nil, fmt.Errorf("%w: block %d points at policy %d and release %d, the chain at policy %d and release %d",
			ErrRefused, h.Index(), p.PolicySince, p.PreviousRelease, s.policySince, s.lastRelease)
	}
	if p.Kind != KindRosterChange && h.RosterID() != s.roster.ID() {
		return nil, fmt.Errorf("%w: block %d of kind %s changes the roster", ErrRefused, h.Index(), p.Kind)
	}
	change := &Change{Kind: p.Kind}
	switch p.Kind {
	case KindRelease:
		change.Manifest, err = s.checkRelease(p.Release)
	case KindRosterChange:
		change.Roster, err = s.checkRosterChange(b.Roster(), p.RosterChange)
	case KindPolicyChange:
		change.Policy, err = s.policy.VerifyChange(p.PolicyChange, s.ChainID(), s.policyChanges+1)
		if err != nil {
			err = fmt.Errorf("%w: %w", ErrRefused, err)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("block %d: %w", h.Index(), err)
	}
	return change, nil
}

// Apply checks b like Check and, if it passes, makes it the head. On error the state
// is unchanged.
func (s *State) Apply(b *skipchain.Block) (*Change, error) {
	c, err := s.Check(b)
	if err != nil {
		return nil, err
	}
	s.apply(b.Header(), c)
	return c, nil
}

// Checked is a block that passed Check against a state's head, kept so that Commit
// can make it the head without checking it (its developer signatures above all)
// a second time: for a caller that must store the block between the check and the
// change of state, as a monitor does.
type Checked struct {
	state  *State
	head   skipchain.ID
	block  *skipchain.Block
	change *Change
}

// Change is what the block will do to the state.
func (c *Checked) Change() *Change { return c.change }

// Block is the block that was checked.
func (c *Checked) Block() *skipchain.Block { return c.block }

// ErrNotPrepared is returned by Commit for a Checked made by another state, made
// before the state last moved, or committed already.
var ErrNotPrepared = errors.New("timeline: block not checked against this state's head")

// Prepare is Check, keeping the verdict for Commit.
func (s *State) Prepare(b *skipchain.Block) (*Checked, error) {
	c, err := s.Check(b)
	if err != nil {
		return nil, err
	}
	return &Checked{state: s, head: s.head.ID(), block: b, change: c}, nil
}

// Commit makes a prepared block the head, as Apply would have. It refuses (with
// ErrNotPrepared, the state unchanged) a Checked of another state, one prepared
// before the state last moved, and one already committed.
func (s *State) Commit(c *Checked) (*Change, error) {
	if c == nil || c.state != s || c.head != s.head.ID() {
		return nil, ErrNotPrepared
	}
	s.apply(c.block.Header(), c.change)
	c.state = nil
	return c.change, nil
}

// apply moves the state forward by a block that passed Check.
func (s *State) apply(h *skipchain.Header, c *Change) {
	s.head = h
	switch c.Kind {
	case KindRelease:
		m := c.Manifest
		byVersion := s.released[m.Channel]
		if byVersion == nil {
			byVersion = map[string]map[release.TargetKey]bool{}
			s.released[m.Channel] = byVersion
		}
		key := versionKey(m.Version)
		if byVersion[key] == nil {
			byVersion[key] = map[release.TargetKey]bool{}
		}
		for _, t := range m.Targets {
			byVersion[key][t.Key()] = true
		}
		s.lastRelease = s.head.Index()
	case KindRosterChange:
		s.roster = c.Roster
		s.rosterChanges++
	case KindPolicyChange:
		s.policy = c.Policy
		s.policySince = s.head.Index()
		s.policyChanges++
	}
}

// Clone returns an independent copy, for a caller that wants to try blocks on a copy.
func (s *State) Clone() *State {
	c := *s
	c.released = make(map[string]map[string]map[release.TargetKey]bool, len(s.released))
	for ch, byVersion := range s.released {
		m := make(map[string]map[release.TargetKey]bool, len(byVersion))
		for v, targets := range byVersion {
			m[v] = maps.Clone(targets)
		}
		c.released[ch] = m
	}
	return &c
}

func (s *State) checkRelease(sm *release.SignedManifest) (*release.Manifest, error) {
	m, err := s.policy.VerifyManifest(sm)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	if m.Product != s.product {
		return nil, fmt.Errorf("%w: release of product %q on the chain of %q", ErrRefused, m.Product, s.product)
	}
	seen := s.released[m.Channel][versionKey(m.Version)]
	for _, t := range m.Targets {
		if seen[t.Key()] {
			return nil, fmt.Errorf("%w: version %s of %s was already released on channel %s", ErrRefused, m.Version, t.Key(), m.Channel)
		}
	}
	return m, nil
}

func (s *State) checkRosterChange(next *skipchain.Roster, rc *release.RosterChange) (*skipchain.Roster, error) {
	if next.ID() == s.roster.ID() {
		return nil, fmt.Errorf("%w: roster change to the roster in force", ErrRefused)
	}
	if err := CheckRoster(next); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	err := s.policy.VerifyRosterChange(rc, s.ChainID(), s.rosterChanges+1, release.RosterID(s.roster.ID()), release.RosterID(next.ID()))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRefused, err)
	}
	return next, nil
}
