package release

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
)

// Domain tags of a policy change: the statement developers sign, and the envelope that
// carries it with the signatures.
const (
	TagPolicyChange       = "chainiac/v1/policy-change"
	TagSignedPolicyChange = "chainiac/v1/signed-policy-change"
)

// ErrChangeMismatch is wrapped when a validly signed policy change was made for another
// chain, another position in the chain's sequence of changes, or another policy: it is
// a replay or a mistake, never a change to apply here.
var ErrChangeMismatch = errors.New("release: policy change does not apply here")

// ChainID names the chain a policy change belongs to: the ID of the chain's genesis
// block. The release package treats it as 32 opaque bytes.
type ChainID [32]byte

func (c ChainID) String() string                { return hex.EncodeToString(c[:]) }
func (c ChainID) IsZero() bool                  { return c == ChainID{} }
func (c ChainID) MarshalText() ([]byte, error)  { return hexText(c[:]), nil }
func (c *ChainID) UnmarshalText(b []byte) error { return unhexInto(c[:], b, "chain id") }

// PolicyChange replaces a developer policy. Its Statement names the chain, the
// change's sequence number on that chain and the policy it replaces by hash; it takes
// signatures from a threshold of the replaced policy's keys. The chain ID stops a change
// from moving to another chain with the same policy; the sequence number stops it from
// being applied again when policies cycle (A → B → A); the previous policy hash stops
// it from applying to another policy with overlapping keys.
//
// Statement encoding (what each developer signs with Ed25519):
//
//	tag "chainiac/v1/policy-change"
//	fixed[32] chain ID (the genesis block ID), never all zeros
//	u64 sequence (1 for the first change after genesis, then 2, ...), never 0
//	fixed[32] previous policy hash (SHA-256 of its encoding)
//	bytes next policy (its encoding)
type PolicyChange struct {
	Statement  []byte
	Signatures []Signature
}

// NewPolicyChange starts an unsigned change from prev to next, the sequence-th policy
// change on the chain whose genesis block ID is chain.
func NewPolicyChange(chain ChainID, sequence uint64, prev, next *Policy) (*PolicyChange, error) {
	if err := checkChangePosition(chain, sequence); err != nil {
		return nil, err
	}
	if prev.Equal(next) {
		return nil, fmt.Errorf("%w: policy change to the same policy", ErrInvalidPolicy)
	}
	h := prev.Hash()
	st := wire.NewEncoder(TagPolicyChange).
		Fixed(chain[:]).
		Uint64(sequence).
		Fixed(h[:]).
		Bytes(next.Encode()).
		Out()
	return &PolicyChange{Statement: st}, nil
}

func checkChangePosition(chain ChainID, sequence uint64) error {
	if chain.IsZero() {
		return errors.New("release: policy change: chain id is all zeros")
	}
	if sequence == 0 {
		return errors.New("release: policy change: sequence 0 (the first change is 1)")
	}
	return nil
}

// Encode returns the canonical envelope:
//
//	tag "chainiac/v1/signed-policy-change"
//	bytes statement
//	u32 count, then per signature (ascending by key): fixed[32] key, fixed[64] signature
func (c *PolicyChange) Encode() []byte {
	return encodeEnvelope(TagSignedPolicyChange, c.Statement, c.Signatures)
}

const maxStatementSize = 1 + len(TagPolicyChange) + 32 + 8 + 32 + 4 + maxPolicySize

// ParsePolicyChange decodes the envelope only; Policy.VerifyChange checks and parses
// the statement.
func ParsePolicyChange(b []byte) (*PolicyChange, error) {
	body, sigs, err := decodeEnvelope(b, TagSignedPolicyChange, "policy change", maxStatementSize)
	if err != nil {
		return nil, err
	}
	return &PolicyChange{Statement: body, Signatures: sigs}, nil
}

// VerifyChange returns the new policy if at least p's threshold of distinct keys of p
// signed the statement and the statement names this chain, this sequence number (the
// number of policy changes the chain will have made once this one applies: 1 for the
// first after genesis) and p as the policy it replaces. A mismatch wraps
// ErrChangeMismatch.
func (p *Policy) VerifyChange(c *PolicyChange, chain ChainID, sequence uint64) (*Policy, error) {
	if err := checkChangePosition(chain, sequence); err != nil {
		return nil, err
	}
	if len(c.Statement) > maxStatementSize {
		return nil, fmt.Errorf("release: policy change: statement of %d bytes, at most %d", len(c.Statement), maxStatementSize)
	}
	if err := p.verifySignatures("policy change", c.Statement, c.Signatures); err != nil {
		return nil, err
	}
	st, err := parseChangeStatement(c.Statement)
	if err != nil {
		return nil, err
	}
	if st.chain != chain {
		return nil, fmt.Errorf("%w: change for chain %s, not this chain %s", ErrChangeMismatch, st.chain, chain)
	}
	if st.sequence != sequence {
		return nil, fmt.Errorf("%w: change number %d, expected number %d", ErrChangeMismatch, st.sequence, sequence)
	}
	if st.prev != p.Hash() {
		return nil, fmt.Errorf("%w: change replaces policy %s, not this policy %s", ErrChangeMismatch, st.prev, p.Hash())
	}
	if p.Equal(st.next) {
		return nil, fmt.Errorf("%w: policy change to the same policy", ErrInvalidPolicy)
	}
	return st.next, nil
}

type changeStatement struct {
	chain    ChainID
	sequence uint64
	prev     Hash256
	next     *Policy
}

func parseChangeStatement(b []byte) (*changeStatement, error) {
	var st changeStatement
	d := wire.NewDecoder(b, TagPolicyChange)
	d.Field("chain id").Fixed(st.chain[:])
	st.sequence = d.Field("sequence").Uint64()
	d.Field("previous policy").Fixed(st.prev[:])
	enc := d.Field("next policy").Bytes(maxPolicySize)
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("release: policy change statement: %w", err)
	}
	if err := checkChangePosition(st.chain, st.sequence); err != nil {
		return nil, err
	}
	next, err := ParsePolicy(enc)
	if err != nil {
		return nil, fmt.Errorf("release: policy change statement: next %w", err)
	}
	st.next = next
	return &st, nil
}
