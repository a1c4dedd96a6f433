// Package testchain is a timeline chain whose whole cothority lives in one process:
// real blocks, forward links and timestamps signed with real keys (chaintest's
// deterministic rosters), but no network between the members and no rebuilds. It
// serves the chain over HTTP in the layout of package api, as a node or a static
// mirror does, so that updater and monitor tests run against the real encodings.
//
// Links and timestamps are signed when first asked for, so a chain of 10⁵ blocks
// with a roster of 128 costs only the signatures a client really reads. What the
// chain shows can be limited to a prefix (SetVisible), to replay a chain growing.
package testchain

import (
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/cosi"
	"github.com/chainiac/chainiac/internal/testrand"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/skipchain/chaintest"
	"github.com/chainiac/chainiac/timeline"
)

// Product is the product of a test chain unless Options.Product says otherwise.
const Product = "test-browser"

// Chain is a timeline chain with its signers. It is safe for concurrent use.
type Chain struct {
	mu      sync.Mutex
	devs    []*release.Signer
	blocks  []*skipchain.Block
	signers []*chaintest.Signers // signers of block i's roster
	state   *timeline.State
	links   map[skipchain.LinkPosition]*skipchain.ForwardLink
	visible uint64
	now     time.Time
	stamp   *timeline.Timestamp
}

// Options shape a new chain.
type Options struct {
	Members int              // roster size (default 4)
	Roster  string           // roster name, which fixes its keys (default "R1")
	Params  skipchain.Params // default skipchain.DefaultParams()
	// Developers sign manifests; the genesis policy needs Threshold of them (default
	// 3 developers, threshold 2).
	Developers int
	Threshold  int
	Now        time.Time // the clock timestamps are signed with (default 2026-01-01)
	Product    string    // default Product
}

// New makes a chain holding its genesis.
func New(t testing.TB, o Options) *Chain {
	t.Helper()
	if o.Members == 0 {
		o.Members = 4
	}
	if o.Roster == "" {
		o.Roster = "R1"
	}
	if o.Params == (skipchain.Params{}) {
		o.Params = skipchain.DefaultParams()
	}
	if o.Developers == 0 {
		o.Developers, o.Threshold = 3, 2
	}
	if o.Product == "" {
		o.Product = Product
	}
	if o.Now.IsZero() {
		o.Now = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	devs := Developers(t, o.Developers)
	keys := make([]release.DeveloperKey, len(devs))
	for i, d := range devs {
		keys[i] = d.Public()
	}
	policy, err := release.NewPolicy(keys, o.Threshold)
	must(t, err)
	s := chaintest.NewSigners(t, o.Roster, o.Members)
	g, err := timeline.NewGenesis(o.Params, s.Roster, o.Product, policy)
	must(t, err)
	state, err := timeline.NewState(g)
	must(t, err)
	return &Chain{devs: devs, blocks: []*skipchain.Block{g}, signers: []*chaintest.Signers{s}, state: state,
		links: map[skipchain.LinkPosition]*skipchain.ForwardLink{}, now: o.Now}
}

// Developers returns n deterministic developer keys (the same n always the same).
func Developers(t testing.TB, n int) []*release.Signer {
	rnd := testrand.New("testchain developers")
	out := make([]*release.Signer, n)
	for i := range out {
		s, err := release.GenerateDeveloperKey(rnd)
		must(t, err)
		out[i] = s
	}
	return out
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("testchain: %v", err)
	}
}

// Devs are the chain's developers, in the order of New's Developers.
func (c *Chain) Devs() []*release.Signer { return c.devs }

// ID is the genesis ID, the one thing an updater pins.
func (c *Chain) ID() skipchain.ID { return c.blocks[0].ID() }

// Block returns block i.
func (c *Chain) Block(i uint64) *skipchain.Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[i]
}

// Head is the newest block (visible or not).
func (c *Chain) Head() *skipchain.Block {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.blocks[len(c.blocks)-1]
}

// Signers returns the signers of block i's roster.
func (c *Chain) Signers(i uint64) *chaintest.Signers {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.signers[i]
}

// SetNow sets the clock of the timestamps signed from now on, and drops the current
// one.
func (c *Chain) SetNow(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, c.stamp = t, nil
}

// SetVisible limits what Handler serves to blocks 0..i (and the links between them).
func (c *Chain) SetVisible(i uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.visible, c.stamp = i, nil
}

// Manifest returns a valid manifest of version on channel with one target per platform
// (default linux-x86_64), its hashes derived from the version.
func Manifest(version, channel string, platforms ...string) *release.Manifest {
	if len(platforms) == 0 {
		platforms = []string{"linux-x86_64"}
	}
	m := &release.Manifest{Product: Product, Version: version, Channel: channel,
		SourceDateEpoch: 1764547200, Recipe: "reference/v2", GitCommit: release.GitCommit{1}, SourceSHA256: release.Hash256{1}}
	for i, p := range platforms {
		m.Targets = append(m.Targets, release.Target{Platform: p, Locale: "en-US",
			UnsignedSHA256: release.Hash256{byte(i + 1), 2}, UnsignedSize: 1000,
			SignedSHA512: release.Hash512{byte(i + 1), 3}, SignedSize: 1400,
			URL: fmt.Sprintf("https://cdn.test/%s/%s.mar", version, p)})
	}
	return m
}

// Sign has the given developers (default: as many as the threshold, first first) sign m.
func (c *Chain) Sign(t testing.TB, m *release.Manifest, devs ...*release.Signer) *release.SignedManifest {
	t.Helper()
	sm, err := release.NewSignedManifest(m)
	must(t, err)
	if len(devs) == 0 {
		devs = c.devs[:c.state.Policy().Threshold()]
	}
	for _, d := range devs {
		must(t, d.SignManifest(sm))
	}
	return sm
}

// Release appends a release of version on channel "release" and returns its block.
func (c *Chain) Release(t testing.TB, version string) *skipchain.Block {
	t.Helper()
	return c.Append(t, c.Sign(t, Manifest(version, "release")), nil)
}

// Releases appends n releases, versions 1.0.first … 1.0.first+n−1.
func (c *Chain) Releases(t testing.TB, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		c.Release(t, fmt.Sprintf("1.0.%d", i))
	}
}

// ChangeRoster appends a roster change to a roster of n members named name, signed
// by the developers.
func (c *Chain) ChangeRoster(t testing.TB, name string, n int) *skipchain.Block {
	t.Helper()
	next := chaintest.NewSigners(t, name, n)
	rc, err := release.NewRosterChange(c.state.ChainID(), c.state.RosterChanges()+1,
		release.RosterID(c.state.Roster().ID()), release.RosterID(next.Roster.ID()))
	must(t, err)
	for _, d := range c.devs[:c.state.Policy().Threshold()] {
		must(t, d.SignRosterChange(rc))
	}
	return c.Append(t, rc, next)
}

// ChangePolicy appends a policy change to the given developers and threshold, signed
// under the policy in force.
func (c *Chain) ChangePolicy(t testing.TB, devs []*release.Signer, threshold int) *skipchain.Block {
	t.Helper()
	keys := make([]release.DeveloperKey, len(devs))
	for i, d := range devs {
		keys[i] = d.Public()
	}
	next, err := release.NewPolicy(keys, threshold)
	must(t, err)
	pc, err := release.NewPolicyChange(c.state.ChainID(), c.state.PolicyChanges()+1, c.state.Policy(), next)
	must(t, err)
	signed := 0
	for _, d := range c.devs {
		if c.state.Policy().Contains(d.Public()) && signed < c.state.Policy().Threshold() {
			must(t, d.SignPolicyChange(pc))
			signed++
		}
	}
	b := c.Append(t, pc, nil)
	c.devs = devs
	return b
}

// Append makes the next block with body (a signed manifest, roster change or policy
// change), checked by the chain's rules; next is the new roster for a roster change.
func (c *Chain) Append(t testing.TB, body any, next *chaintest.Signers) *skipchain.Block {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	signers := c.signers[len(c.signers)-1]
	if next != nil {
		signers = next
	}
	b, err := c.state.NewBlock(c.back(uint64(len(c.blocks))), signers.Roster, body)
	must(t, err)
	_, err = c.state.Apply(b)
	must(t, err)
	c.blocks = append(c.blocks, b)
	c.signers = append(c.signers, signers)
	c.visible, c.stamp = b.Index(), nil
	return b
}

func (c *Chain) back(index uint64) []*skipchain.Header {
	var out []*skipchain.Header
	for _, pos := range c.blocks[0].Header().Params().LinksInto(index) {
		out = append(out, c.blocks[pos.From].Header())
	}
	return out
}

// SignLink returns the forward link from block from at level, signed by the from
// block's roster (its threshold of members), or an error wrapping
// skipchain.ErrUnknownLink if it leaves the visible chain.
func (c *Chain) SignLink(from uint64, level int) (*skipchain.ForwardLink, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.link(from, level)
}

func (c *Chain) link(from uint64, level int) (*skipchain.ForwardLink, error) {
	p := c.blocks[0].Header().Params()
	pos := skipchain.LinkPosition{From: from, Level: level}
	if l, ok := c.links[pos]; ok && l.ToIndex() <= c.visible {
		return l, nil
	}
	if from > c.visible || level < 0 || level >= int(p.Height(from)) || from+p.Span(level) > c.visible {
		return nil, fmt.Errorf("%w: from %d at level %d", skipchain.ErrUnknownLink, from, level)
	}
	fromH, to := c.blocks[from].Header(), c.blocks[from+p.Span(level)].Header()
	s := c.signers[from]
	sig, err := sign(s, skipchain.LinkMessage(fromH.ID(), to.ID(), to.Index(), to.RosterID()), s.Roster.Threshold())
	if err != nil {
		return nil, err
	}
	l, err := skipchain.NewForwardLink(fromH, to, sig)
	if err != nil {
		return nil, err
	}
	c.links[pos] = l
	return l, nil
}

// Timestamp returns the cosigned timestamp of the visible head at the chain's clock.
func (c *Chain) Timestamp() (*timeline.Timestamp, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stamp == nil {
		h := c.blocks[c.visible].Header()
		ts, err := StampWith(c.signers[c.visible], h, c.now)
		if err != nil {
			return nil, err
		}
		c.stamp = ts
	}
	return c.stamp, nil
}

// StampWith signs a timestamp over h at time at with s (a threshold of its members),
// whatever h's roster: for tests that need a timestamp the chain would never make.
func StampWith(s *chaintest.Signers, h *skipchain.Header, at time.Time) (*timeline.Timestamp, error) {
	ts := timeline.NewTimestamp(h, at)
	ts.RosterID = s.Roster.ID()
	sig, err := sign(s, ts.Message(), s.Roster.Threshold())
	if err != nil {
		return nil, err
	}
	ts.Signature = sig
	return ts, nil
}

// LinkWith signs a forward link from one header to another with s, whatever the
// chain says: for tests that forge links.
func LinkWith(s *chaintest.Signers, from, to *skipchain.Header, count int) (*skipchain.ForwardLink, error) {
	sig, err := sign(s, skipchain.LinkMessage(from.ID(), to.ID(), to.Index(), to.RosterID()), count)
	if err != nil {
		return nil, err
	}
	return skipchain.NewForwardLink(from, to, sig)
}

// sign is the collective signature on msg by the first count members of s.
func sign(s *chaintest.Signers, msg []byte, count int) (*cosi.Signature, error) {
	if count <= 0 || count > len(s.Keys) {
		count = len(s.Keys)
	}
	weights, err := s.Roster.Cosi()
	if err != nil {
		return nil, err
	}
	shares := make([]*cosi.Signature, count)
	for i := range shares {
		if shares[i], err = s.Keys[i].Sign(weights, msg); err != nil {
			return nil, err
		}
	}
	return cosi.Aggregate(shares...)
}

// Handler serves the visible chain at the paths of package api, in their binary
// encodings, as a node does (without proposals).
func (c *Chain) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := c.Serve(r.URL.Path)
		switch {
		case errors.Is(err, errNotFound):
			http.Error(w, "not found", http.StatusNotFound)
		case err != nil:
			http.Error(w, err.Error(), http.StatusInternalServerError)
		default:
			w.Header().Set("Content-Type", api.MediaBinary)
			_, _ = w.Write(body)
		}
	})
}

var errNotFound = errors.New("testchain: not found")

// Serve returns the bytes served at an api path, or an error wrapping errNotFound.
func (c *Chain) Serve(path string) ([]byte, error) {
	p, err := api.ParsePath(path)
	if err != nil || p.Genesis != c.ID() {
		return nil, errNotFound
	}
	if p.Resource == api.ResTimestamp {
		ts, err := c.Timestamp()
		if err != nil {
			return nil, err
		}
		return ts.Encode(), nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p.Resource != api.ResLatest && p.Index > c.visible {
		return nil, errNotFound
	}
	switch p.Resource {
	case api.ResLatest:
		h := c.blocks[c.visible].Header()
		return (&api.LatestRecord{Index: h.Index(), ID: h.ID()}).Encode(), nil
	case api.ResHeader:
		return c.blocks[p.Index].Header().Encode(), nil
	case api.ResPayload:
		return c.blocks[p.Index].Payload(), nil
	case api.ResLink:
		l, err := c.link(p.Index, p.Level)
		if errors.Is(err, skipchain.ErrUnknownLink) {
			return nil, errNotFound
		}
		if err != nil {
			return nil, err
		}
		return l.Encode(), nil
	case api.ResBlock:
		sb := &api.ServedBlock{Block: c.blocks[p.Index]}
		for level := 0; level < int(c.blocks[p.Index].Header().Height()); level++ {
			l, err := c.link(p.Index, level)
			if err != nil {
				break
			}
			sb.Links = append(sb.Links, l)
		}
		return sb.Encode(), nil
	}
	return nil, errNotFound
}
