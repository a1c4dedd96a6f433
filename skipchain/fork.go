package skipchain

import (
	"bytes"
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
)

const forkTag = "chainiac/v1/fork-evidence"

// MaxForkEvidenceSize bounds encoded fork evidence.
const MaxForkEvidenceSize = 1 + len(forkTag) + 4*4 + MaxHeaderSize + MaxRosterEncodedSize + 2*MaxLinkSize

// ForkError is evidence that a roster misbehaved: two forward links from the same
// block at the same level, both validly signed by that block's roster, that name
// different successors (or different rosters for the same successor). An honest
// roster signs one successor per position, so the pair proves that a threshold of
// its members signed conflicting statements. It carries everything needed to check
// that, with nothing but the evidence itself: see Verify and Encode.
//
// Verify (and ParseForkEvidence) prove only that the roster named in the carried
// header signed two conflicting links; the header itself could be any block signed
// into any chain, or never signed into one at all. A monitor that raises an alarm
// about a chain must use VerifyAgainst with that chain, which also checks that the
// carried header is the block stored at its index (or compare From.ID() with the
// chain's block itself).
type ForkError struct {
	From   *Header      // the block both links leave
	Roster *Roster      // its roster, which signed both
	A, B   *ForwardLink // the conflicting links, A's encoding sorting first
}

// NewForkError orders the two links canonically and checks the evidence.
func NewForkError(from *Block, a, b *ForwardLink) (*ForkError, error) {
	if bytes.Compare(a.Encode(), b.Encode()) > 0 {
		a, b = b, a
	}
	e := &ForkError{From: from.header, Roster: from.roster, A: a, B: b}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *ForkError) Error() string {
	return fmt.Sprintf("skipchain: fork: roster %s of block %d signed links to block %d as both %s (roster %s) and %s (roster %s)",
		e.Roster.ID().Short(), e.From.index, e.A.toIndex, e.A.to.Short(), e.A.rosterID.Short(), e.B.to.Short(), e.B.rosterID.Short())
}

// Verify checks the evidence: the roster is the block's, both links leave the block
// at the same level, they say different things, and both signatures verify.
func (e *ForkError) Verify() error {
	if e.Roster.ID() != e.From.rosterID {
		return fmt.Errorf("%w: roster %s, block %d names %s", ErrInvalidEvidence, e.Roster.ID().Short(), e.From.index, e.From.rosterID.Short())
	}
	if err := e.checkLinks(); err != nil {
		return err
	}
	for _, l := range []*ForwardLink{e.A, e.B} {
		if err := VerifyLinkSignature(e.Roster, l); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEvidence, err)
		}
	}
	return nil
}

// VerifyAgainst checks the evidence (Verify) and that it is about the chain r holds:
// the block both links leave is the block stored at its index in r, same ID. It
// fails with ErrInvalidEvidence if r holds another block at that index (the
// evidence concerns some other chain, or a block this chain never accepted), and with
// r's error, such as ErrUnknownBlock, if r cannot say. r must hold a verified chain
// (a Store does).
func (e *ForkError) VerifyAgainst(r Reader) error {
	h, err := r.Header(e.From.index)
	if err != nil {
		return fmt.Errorf("skipchain: fork evidence: block %d of the chain: %w", e.From.index, err)
	}
	if h.ID() != e.From.ID() {
		return fmt.Errorf("%w: evidence about block %d %s, the chain's block %d is %s",
			ErrInvalidEvidence, e.From.index, e.From.ID().Short(), h.index, h.ID().Short())
	}
	return e.Verify()
}

// checkLinks checks everything but the roster and the signatures.
func (e *ForkError) checkLinks() error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidEvidence, fmt.Sprintf(format, args...))
	}
	if bytes.Compare(e.A.Encode(), e.B.Encode()) >= 0 {
		return fail("links not in canonical order")
	}
	for _, l := range []*ForwardLink{e.A, e.B} {
		if l.from != e.From.ID() || l.fromIndex != e.From.index {
			return fail("a link leaves block %d (%s), not block %d", l.fromIndex, l.from.Short(), e.From.index)
		}
		if _, err := l.Level(e.From.params); err != nil {
			return fmt.Errorf("%w: %w", ErrInvalidEvidence, err)
		}
	}
	if e.A.toIndex != e.B.toIndex {
		return fail("links reach blocks %d and %d, not the same position", e.A.toIndex, e.B.toIndex)
	}
	if e.A.sameStatement(e.B) {
		return fail("both links say the same thing")
	}
	return nil
}

// Encode returns the evidence for publication:
//
//	tag "chainiac/v1/fork-evidence" ‖ bytes header ‖ bytes roster ‖ bytes link A ‖ bytes link B
func (e *ForkError) Encode() []byte {
	return wire.NewEncoder(forkTag).Bytes(e.From.encoded).Bytes(e.Roster.encoded).Bytes(e.A.Encode()).Bytes(e.B.Encode()).Out()
}

// ParseForkEvidence decodes and verifies published fork evidence on its own terms;
// VerifyAgainst then ties it to a chain. What costs nothing is checked first: sizes,
// the header, the links against the header, the roster's hash, and each signature's
// signer count against the threshold and size the roster's encoding states. Only
// evidence that can still be valid has its roster's keys decoded and weighted.
func ParseForkEvidence(b []byte) (*ForkError, error) { return parseForkEvidence(b, nil) }

func parseForkEvidence(b []byte, cache *RosterCache) (*ForkError, error) {
	if len(b) > MaxForkEvidenceSize {
		return nil, fmt.Errorf("%w: fork evidence of %d bytes exceeds %d", ErrMalformed, len(b), MaxForkEvidenceSize)
	}
	d := wire.NewDecoder(b, forkTag)
	hb := d.Field("header").Bytes(MaxHeaderSize)
	rb := d.Field("roster").Bytes(MaxRosterEncodedSize)
	ab := d.Field("link A").Bytes(MaxLinkSize)
	bb := d.Field("link B").Bytes(MaxLinkSize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("%w: fork evidence: %w", ErrMalformed, err)
	}
	h, err := ParseHeader(hb)
	if err != nil {
		return nil, fmt.Errorf("fork evidence: %w", err)
	}
	la, err := ParseForwardLink(ab)
	if err != nil {
		return nil, fmt.Errorf("fork evidence: %w", err)
	}
	lb, err := ParseForwardLink(bb)
	if err != nil {
		return nil, fmt.Errorf("fork evidence: %w", err)
	}
	if hashOf(rb) != h.rosterID {
		return nil, fmt.Errorf("%w: roster bytes do not match block %d's roster ID", ErrInvalidEvidence, h.index)
	}
	// Check the links against the header before parsing the roster, which validates
	// every key.
	if err := (&ForkError{From: h, A: la, B: lb}).checkLinks(); err != nil {
		return nil, err
	}
	threshold, n, err := rosterShape(rb)
	if err != nil {
		return nil, fmt.Errorf("fork evidence: %w", err)
	}
	for _, l := range []*ForwardLink{la, lb} {
		if m := l.sig.Mask(); m.Len() != n || m.Count() < threshold {
			return nil, fmt.Errorf("%w: link %d→%d signed by %d of %d members, the roster has %d and needs %d",
				ErrInvalidEvidence, l.fromIndex, l.toIndex, m.Count(), m.Len(), n, threshold)
		}
	}
	r, err := cache.parseRosterWithID(rb, h.rosterID)
	if err != nil {
		return nil, fmt.Errorf("fork evidence: %w", err)
	}
	e := &ForkError{From: h, Roster: r, A: la, B: lb}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	return e, nil
}
