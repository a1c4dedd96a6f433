package release

import (
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
)

// Domain tags of a roster change: the statement developers sign, and the envelope that
// carries it with the signatures.
const (
	TagRosterChange       = "chainiac/v1/roster-change"
	TagSignedRosterChange = "chainiac/v1/signed-roster-change"
)

// RosterID names a cothority roster by the SHA-256 of its encoding (skipchain.ID).
// The release package treats it as 32 opaque bytes.
type RosterID [32]byte

func (r RosterID) String() string                { return Hash256(r).String() }
func (r RosterID) IsZero() bool                  { return r == RosterID{} }
func (r RosterID) MarshalText() ([]byte, error)  { return hexText(r[:]), nil }
func (r *RosterID) UnmarshalText(b []byte) error { return unhexInto(r[:], b, "roster id") }

// RosterChange is the developers' consent to replace the cothority roster. The roster
// itself authorises the change too (the old roster signs the forward link into the
// block that introduces the new one); this statement adds that the people who sign
// releases agree, so that a cothority cannot replace itself alone.
//
// Statement encoding (what each developer signs with Ed25519):
//
//	tag "chainiac/v1/roster-change"
//	fixed[32] chain ID (the genesis block ID), never all zeros
//	u64 sequence (1 for the first roster change after genesis, then 2, ...), never 0
//	fixed[32] previous roster ID, never all zeros
//	fixed[32] next roster ID, never all zeros, never the previous one
//
// The chain ID and sequence number stop a change from being replayed on another chain
// or, when rosters cycle (A → B → A), a second time; the previous roster ID stops it
// from applying to another roster.
type RosterChange struct {
	Statement  []byte
	Signatures []Signature
}

// NewRosterChange starts an unsigned change from roster prev to roster next, the
// sequence-th roster change on the chain whose genesis block ID is chain.
func NewRosterChange(chain ChainID, sequence uint64, prev, next RosterID) (*RosterChange, error) {
	st := rosterStatement{chain: chain, sequence: sequence, prev: prev, next: next}
	if err := st.check(); err != nil {
		return nil, err
	}
	return &RosterChange{Statement: st.encode()}, nil
}

// Encode returns the canonical envelope:
//
//	tag "chainiac/v1/signed-roster-change"
//	bytes statement
//	u32 count, then per signature (ascending by key): fixed[32] key, fixed[64] signature
func (c *RosterChange) Encode() []byte {
	return encodeEnvelope(TagSignedRosterChange, c.Statement, c.Signatures)
}

const rosterStatementSize = 1 + len(TagRosterChange) + 32 + 8 + 32 + 32

// ParseRosterChange decodes the envelope only; Policy.VerifyRosterChange checks the
// signatures and then the statement.
func ParseRosterChange(b []byte) (*RosterChange, error) {
	body, sigs, err := decodeEnvelope(b, TagSignedRosterChange, "roster change", rosterStatementSize)
	if err != nil {
		return nil, err
	}
	return &RosterChange{Statement: body, Signatures: sigs}, nil
}

// VerifyRosterChange checks that at least p's threshold of distinct keys of p signed
// the statement, and only then that it names this chain, this sequence number (the
// number of roster changes the chain will have made once this one applies) and the
// change from roster prev to roster next. A validly signed statement for another
// position wraps ErrChangeMismatch.
func (p *Policy) VerifyRosterChange(c *RosterChange, chain ChainID, sequence uint64, prev, next RosterID) error {
	want := rosterStatement{chain: chain, sequence: sequence, prev: prev, next: next}
	if err := want.check(); err != nil {
		return err
	}
	if len(c.Statement) > rosterStatementSize {
		return fmt.Errorf("release: roster change: statement of %d bytes, at most %d", len(c.Statement), rosterStatementSize)
	}
	if err := p.verifySignatures("roster change", c.Statement, c.Signatures); err != nil {
		return err
	}
	got, err := parseRosterStatement(c.Statement)
	if err != nil {
		return err
	}
	switch {
	case got.chain != chain:
		return fmt.Errorf("%w: roster change for chain %s, not this chain %s", ErrChangeMismatch, got.chain, chain)
	case got.sequence != sequence:
		return fmt.Errorf("%w: roster change number %d, expected number %d", ErrChangeMismatch, got.sequence, sequence)
	case got.prev != prev:
		return fmt.Errorf("%w: roster change replaces roster %s, not this roster %s", ErrChangeMismatch, got.prev, prev)
	case got.next != next:
		return fmt.Errorf("%w: roster change to roster %s, not to the proposed roster %s", ErrChangeMismatch, got.next, next)
	}
	return nil
}

// SignRosterChange checks that the statement parses and adds this developer's
// signature.
func (s *Signer) SignRosterChange(c *RosterChange) error {
	if _, err := parseRosterStatement(c.Statement); err != nil {
		return fmt.Errorf("release: refusing to sign: %w", err)
	}
	c.Signatures = withSignature(c.Signatures, s.sign(c.Statement))
	return nil
}

type rosterStatement struct {
	chain      ChainID
	sequence   uint64
	prev, next RosterID
}

func (st rosterStatement) check() error {
	switch {
	case st.chain.IsZero():
		return errors.New("release: roster change: chain id is all zeros")
	case st.sequence == 0:
		return errors.New("release: roster change: sequence 0 (the first change is 1)")
	case st.prev.IsZero() || st.next.IsZero():
		return errors.New("release: roster change: roster id is all zeros")
	case st.prev == st.next:
		return errors.New("release: roster change: the next roster is the previous one")
	}
	return nil
}

func (st rosterStatement) encode() []byte {
	return wire.NewEncoder(TagRosterChange).
		Fixed(st.chain[:]).
		Uint64(st.sequence).
		Fixed(st.prev[:]).
		Fixed(st.next[:]).
		Out()
}

func parseRosterStatement(b []byte) (rosterStatement, error) {
	var st rosterStatement
	d := wire.NewDecoder(b, TagRosterChange)
	d.Field("chain id").Fixed(st.chain[:])
	st.sequence = d.Field("sequence").Uint64()
	d.Field("previous roster").Fixed(st.prev[:])
	d.Field("next roster").Fixed(st.next[:])
	if err := d.Finish(); err != nil {
		return st, fmt.Errorf("release: roster change statement: %w", err)
	}
	return st, st.check()
}
