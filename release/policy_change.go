package release

import (
	"fmt"

	"github.com/chainiac/chainiac/internal/wire"
)

// Domain tags of a policy change: the statement developers sign, and the envelope that
// carries it with the signatures.
const (
	TagPolicyChange       = "chainiac/v1/policy-change"
	TagSignedPolicyChange = "chainiac/v1/signed-policy-change"
)

// PolicyChange replaces a developer policy. Its Statement names the policy it replaces
// by hash, so a change signed for one policy cannot be applied to another; it takes
// signatures from a threshold of the replaced policy's keys.
//
// Statement encoding (what each developer signs with Ed25519):
//
//	tag "chainiac/v1/policy-change"
//	fixed[32] previous policy hash (SHA-256 of its encoding)
//	bytes next policy (its encoding)
type PolicyChange struct {
	Statement  []byte
	Signatures []Signature
}

// NewPolicyChange starts an unsigned change from prev to next.
func NewPolicyChange(prev, next *Policy) (*PolicyChange, error) {
	if prev.Equal(next) {
		return nil, fmt.Errorf("%w: policy change to the same policy", ErrInvalidPolicy)
	}
	h := prev.Hash()
	st := wire.NewEncoder(TagPolicyChange).Fixed(h[:]).Bytes(next.Encode()).Out()
	return &PolicyChange{Statement: st}, nil
}

// Encode returns the canonical envelope:
//
//	tag "chainiac/v1/signed-policy-change"
//	bytes statement
//	u32 count, then per signature (ascending by key): fixed[32] key, fixed[64] signature
func (c *PolicyChange) Encode() []byte {
	return encodeEnvelope(TagSignedPolicyChange, c.Statement, c.Signatures)
}

const maxStatementSize = 1 + len(TagPolicyChange) + 32 + 4 + maxPolicySize

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
// signed the statement and the statement names p as the policy it replaces.
func (p *Policy) VerifyChange(c *PolicyChange) (*Policy, error) {
	if len(c.Statement) > maxStatementSize {
		return nil, fmt.Errorf("release: policy change: statement of %d bytes, at most %d", len(c.Statement), maxStatementSize)
	}
	if err := p.verifySignatures("policy change", c.Statement, c.Signatures); err != nil {
		return nil, err
	}
	prev, next, err := parseChangeStatement(c.Statement)
	if err != nil {
		return nil, err
	}
	if prev != p.Hash() {
		return nil, fmt.Errorf("%w: policy change replaces policy %s, not this policy %s", ErrInvalidPolicy, prev, p.Hash())
	}
	if p.Equal(next) {
		return nil, fmt.Errorf("%w: policy change to the same policy", ErrInvalidPolicy)
	}
	return next, nil
}

func parseChangeStatement(b []byte) (Hash256, *Policy, error) {
	var prev Hash256
	d := wire.NewDecoder(b, TagPolicyChange)
	d.Field("previous policy").Fixed(prev[:])
	enc := d.Field("next policy").Bytes(maxPolicySize)
	if err := d.Finish(); err != nil {
		return Hash256{}, nil, fmt.Errorf("release: policy change statement: %w", err)
	}
	next, err := ParsePolicy(enc)
	if err != nil {
		return Hash256{}, nil, fmt.Errorf("release: policy change statement: next %w", err)
	}
	return prev, next, nil
}
