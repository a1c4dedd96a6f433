package client

import (
	"context"
	"crypto/rsa"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/chainiac/chainiac/internal/wire"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

const tagBundle = "chainiac/v1/bundle"

// MaxBundleSegments bounds the proofs in a bundle: one per policy change, plus one.
const MaxBundleSegments = 1024

// MaxBundleSize bounds an encoded bundle.
const MaxBundleSize = 64 << 20

// Bundle is an offline proof that a release was witnessed: with the genesis ID alone
// (no network), VerifyBundle checks a MAR against it.
//
//	tag "chainiac/v1/bundle" ‖ bytes genesis block
//	‖ list of bytes proof (skipchain.Proof with payload: from the genesis to the first
//	  policy change, from there to the next, …, and last to the release block)
//	‖ bytes timestamp (empty, or a timeline.Timestamp of the release block or a later
//	  one, signed by the release block's roster)
//
// Each segment ends at a block whose payload the verifier needs: a policy change,
// verified under the policy before it, and finally the release, whose manifest is
// verified under the policy in force.
type Bundle struct {
	Genesis   *skipchain.Block
	Segments  []*skipchain.Proof
	Timestamp *timeline.Timestamp // may be nil
}

// Encode returns the bundle's encoding.
func (b *Bundle) Encode() []byte {
	e := wire.NewEncoder(tagBundle).Bytes(b.Genesis.Encode()).Count(len(b.Segments))
	for _, s := range b.Segments {
		e.Bytes(s.Encode())
	}
	if b.Timestamp != nil {
		e.Bytes(b.Timestamp.Encode())
	} else {
		e.Bytes(nil)
	}
	return e.Out()
}

// ParseBundle decodes a bundle strictly; nothing in it is trusted before VerifyBundle.
func ParseBundle(b []byte) (*Bundle, error) {
	if len(b) > MaxBundleSize {
		return nil, fmt.Errorf("client: bundle of %d bytes, at most %d", len(b), MaxBundleSize)
	}
	d := wire.NewDecoder(b, tagBundle)
	gb := d.Field("genesis").Bytes(skipchain.MaxBlockSize)
	n := d.Field("segments").Count(MaxBundleSegments, 4)
	segs := make([][]byte, 0, n)
	for i := 0; i < n; i++ {
		segs = append(segs, d.Field(fmt.Sprintf("segment %d", i)).Bytes(skipchain.MaxProofSize))
	}
	tsb := d.Field("timestamp").Bytes(timeline.MaxTimestampSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("client: bundle: %w", err)
	}
	out := &Bundle{}
	var err error
	if out.Genesis, err = skipchain.ParseBlock(gb); err != nil {
		return nil, fmt.Errorf("client: bundle: %w", err)
	}
	if n == 0 {
		return nil, errors.New("client: bundle: no proof")
	}
	for i, sb := range segs {
		p, err := skipchain.ParseProof(sb)
		if err != nil {
			return nil, fmt.Errorf("client: bundle: segment %d: %w", i, err)
		}
		out.Segments = append(out.Segments, p)
	}
	if len(tsb) > 0 {
		if out.Timestamp, err = timeline.ParseTimestamp(tsb); err != nil {
			return nil, fmt.Errorf("client: bundle: %w", err)
		}
	}
	return out, nil
}

// BundleReport is what VerifyBundle established.
type BundleReport struct {
	Release Release `json:"release"`
	Target  Target  `json:"target"`
	// Timestamp is the bundle's timestamp, zero if it has none: the chain was alive
	// then, and its head was at least the release.
	Timestamp time.Time `json:"timestamp"`
}

// VerifyBundle checks, with nothing but the pinned genesis ID, that the bundle proves
// a release and that marFile (of the given size) is one of its targets as Download would
// accept it; keys, if given, are the RSA keys one of which must have signed the MAR.
func VerifyBundle(genesis skipchain.ID, bundle []byte, marFile io.ReaderAt, size int64, keys []*rsa.PublicKey) (*BundleReport, error) {
	b, err := ParseBundle(bundle)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	rel, relHeader, roster, err := b.verify(genesis)
	if err != nil {
		return nil, err
	}
	h := sha512.New()
	if _, err := io.Copy(h, io.NewSectionReader(marFile, 0, size)); err != nil {
		return nil, fmt.Errorf("client: MAR: %w", err)
	}
	sum := release.Hash512(h.Sum(nil))
	u := &Update{Release: rel}
	for _, t := range u.Targets() {
		if t.SignedSHA512 != sum || t.SignedSize != uint64(size) {
			continue
		}
		if err := checkMAR(t, marFile, keys); err != nil {
			return nil, err
		}
		rep := &BundleReport{Release: *rel, Target: t}
		if ts := b.Timestamp; ts != nil {
			if ts.Genesis != genesis {
				return nil, rejectf("bundle timestamp is of chain %s", ts.Genesis.Short())
			}
			if ts.Index < relHeader.Index() || ts.Index == relHeader.Index() && ts.Describes(relHeader) != nil {
				return nil, rejectf("bundle timestamp names block %d, not the release %d or later", ts.Index, relHeader.Index())
			}
			if err := ts.Verify(roster); err != nil {
				return nil, rejectf("bundle timestamp: %v", err)
			}
			rep.Timestamp = ts.Time
		}
		return rep, nil
	}
	return nil, rejectf("the MAR (SHA-512 %x…) is none of release %s's targets", sum[:8], rel.Manifest.Version)
}

// verify follows the segments from the genesis and returns the release they prove.
func (b *Bundle) verify(genesis skipchain.ID) (*Release, *skipchain.Header, *skipchain.Roster, error) {
	if b.Genesis.ID() != genesis || b.Genesis.Index() != 0 {
		return nil, nil, nil, rejectf("bundle is of chain %s, not %s", b.Genesis.ID().Short(), genesis.Short())
	}
	st, err := genesisState(b.Genesis)
	if err != nil {
		return nil, nil, nil, err
	}
	cur, roster := b.Genesis.Header(), b.Genesis.Roster()
	pol, seq, since := st.policy, uint64(0), uint64(0)
	chain := release.ChainID(genesis)
	for i, seg := range b.Segments {
		if seg.FromIndex() != cur.Index() || seg.From() != cur.ID() {
			return nil, nil, nil, rejectf("bundle segment %d starts at block %d, not %d", i, seg.FromIndex(), cur.Index())
		}
		if cur, roster, err = seg.Verify(cur, roster); err != nil {
			return nil, nil, nil, rejectf("bundle segment %d: %v", i, err)
		}
		raw, ok := seg.Payload()
		if !ok || cur.Index() == 0 {
			return nil, nil, nil, rejectf("bundle segment %d carries no payload past the genesis", i)
		}
		p, err := timeline.ParsePayload(cur.PayloadKind(), raw)
		if err != nil {
			return nil, nil, nil, rejectf("bundle segment %d: %v", i, err)
		}
		if p.PolicySince != since {
			return nil, nil, nil, rejectf("block %d points at the policy of block %d, the bundle proves block %d's", cur.Index(), p.PolicySince, since)
		}
		last := i == len(b.Segments)-1
		switch {
		case !last && p.Kind == timeline.KindPolicyChange:
			if pol, err = pol.VerifyChange(p.PolicyChange, chain, seq+1); err != nil {
				return nil, nil, nil, rejectf("policy change in block %d: %v", cur.Index(), err)
			}
			seq, since = seq+1, cur.Index()
		case last && p.Kind == timeline.KindRelease:
			m, err := pol.VerifyManifest(p.Release)
			if err != nil {
				return nil, nil, nil, rejectf("release manifest: %v", err)
			}
			if m.Product != st.product {
				return nil, nil, nil, rejectf("release of product %q on the chain of %q", m.Product, st.product)
			}
			rel := &Release{BlockRef: BlockRef{Index: cur.Index(), ID: cur.ID(), Kind: cur.PayloadKind()}, Manifest: m}
			return rel, cur, roster, nil
		default:
			return nil, nil, nil, rejectf("bundle segment %d ends at a %s block", i, p.Kind)
		}
	}
	return nil, nil, nil, rejectf("bundle proves no release")
}

// Bundle builds the offline proof for the trusted release (run Check first) from the
// first mirror that serves what it needs, and checks it before returning it.
func (c *Client) Bundle(ctx context.Context) (*Bundle, error) {
	t, err := c.state().load()
	if err != nil {
		return nil, err
	}
	if t == nil || t.release == nil {
		return nil, errors.New("client: no verified release yet: run a check first")
	}
	if files, err := c.state().pendingEvidence(); err != nil || len(files) > 0 {
		return nil, fmt.Errorf("%w: evidence in the state directory must be looked at first (%v)", ErrEvidence, err)
	}
	var failures []error
	for _, base := range c.cfg.Mirrors {
		m := c.newMirror(base, &Stats{})
		m.params = t.genesis.Header().Params()
		b, err := c.bundleFrom(ctx, m, t)
		if err == nil {
			return b, nil
		}
		failures = append(failures, &MirrorError{Mirror: base, Err: err})
	}
	return nil, c.allFailed(failures)
}

func (c *Client) bundleFrom(ctx context.Context, m *mirror, t *trusted) (*Bundle, error) {
	s := &session{c: c, m: m, from: t, params: t.genesis.Header().Params(),
		verified: map[uint64]*skipchain.Header{t.head.Index(): t.head, t.release.Index(): t.release}, seen: newStatementLog()}
	// The policy changes before the release, newest first, through back-links.
	rp, err := timeline.ParsePayload(t.release.PayloadKind(), t.releasePayload)
	if err != nil {
		return nil, err
	}
	ends := []uint64{t.release.Index()}
	for idx := rp.PolicySince; idx > 0; {
		h, err := s.headerAt(ctx, t.release, idx)
		if err != nil {
			return nil, err
		}
		pp, _, err := s.payloadOf(ctx, h)
		if err != nil {
			return nil, err
		}
		if pp.Kind != timeline.KindPolicyChange || pp.PolicySince >= idx || len(ends) >= MaxBundleSegments {
			return nil, rejectf("block %d is not a policy change before %d", idx, ends[len(ends)-1])
		}
		ends = append(ends, idx)
		idx = pp.PolicySince
	}
	b := &Bundle{Genesis: t.genesis}
	from := uint64(0)
	for i := len(ends) - 1; i >= 0; i-- {
		r := &mirrorReader{ctx: ctx, m: m, target: ends[i], rosterAt: map[skipchain.ID]uint64{}}
		for from < ends[i] {
			p, err := skipchain.BuildProof(r, from, true)
			if err != nil {
				return nil, err
			}
			if p.Head().Index() == from {
				return nil, rejectf("no progress from block %d", from)
			}
			if p.Head().Index() < ends[i] {
				return nil, rejectf("the proof to block %d is too long for one segment", ends[i])
			}
			b.Segments = append(b.Segments, p)
			from = p.Head().Index()
		}
	}
	if ts := t.timestamp; ts != nil && ts.RosterID == t.release.RosterID() {
		b.Timestamp = ts
	}
	if _, _, _, err := b.verify(c.cfg.Genesis); err != nil {
		return nil, err
	}
	return b, nil
}

// mirrorReader is a skipchain.Reader over one mirror, cut at block target, for
// BuildProof. It trusts nothing: the proof it helps build is verified afterwards.
type mirrorReader struct {
	ctx      context.Context
	m        *mirror
	target   uint64
	rosterAt map[skipchain.ID]uint64 // roster ID → a block that has it, from the links read
}

func (r *mirrorReader) Head() (*skipchain.Header, error) { return r.Header(r.target) }

func (r *mirrorReader) Header(index uint64) (*skipchain.Header, error) {
	if index > r.target {
		return nil, fmt.Errorf("%w: %d", skipchain.ErrUnknownBlock, index)
	}
	return r.m.anyHeader(r.ctx, index)
}

func (r *mirrorReader) Block(index uint64) (*skipchain.Block, error) {
	h, err := r.Header(index)
	if err != nil {
		return nil, err
	}
	return r.m.block(r.ctx, index, h.ID())
}

func (r *mirrorReader) Link(from uint64, level int) (*skipchain.ForwardLink, error) {
	l, err := r.m.link(r.ctx, from, level)
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("%w: %v", skipchain.ErrUnknownLink, err)
	}
	if err != nil {
		return nil, err
	}
	r.rosterAt[l.RosterID()] = l.ToIndex()
	return l, nil
}

func (r *mirrorReader) Roster(id skipchain.ID) (*skipchain.Roster, error) {
	at, ok := r.rosterAt[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", skipchain.ErrUnknownRoster, id.Short())
	}
	b, err := r.Block(at)
	if err != nil {
		return nil, err
	}
	if b.Roster().ID() != id {
		return nil, rejectf("block %d does not have roster %s", at, id.Short())
	}
	return b.Roster(), nil
}

// VerifyBundleFile is VerifyBundle on files.
func VerifyBundleFile(genesis skipchain.ID, bundlePath, marPath string, keys []*rsa.PublicKey) (*BundleReport, error) {
	bb, err := readLimited(bundlePath, MaxBundleSize)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(marPath)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return VerifyBundle(genesis, bb, f, st.Size(), keys)
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: over %d bytes", path, max)
	}
	return b, nil
}
