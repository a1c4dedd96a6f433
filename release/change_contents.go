package release

import "fmt"

// RosterChangeContents is what a roster-change statement says: the fields a developer
// approves by signing it. Contents reads them without checking any signature, so that
// a developer can see what they are asked to sign; a node acts only on what
// Policy.VerifyRosterChange accepts.
type RosterChangeContents struct {
	Chain    ChainID  // the genesis block ID of the chain the change is for
	Sequence uint64   // 1 for the chain's first roster change, then 2, ...
	Previous RosterID // the roster it replaces
	Next     RosterID // the roster it brings in
}

// Contents decodes the statement with the strict decoder VerifyRosterChange uses.
func (c *RosterChange) Contents() (RosterChangeContents, error) {
	if len(c.Statement) > rosterStatementSize {
		return RosterChangeContents{}, fmt.Errorf("release: roster change: statement of %d bytes, at most %d", len(c.Statement), rosterStatementSize)
	}
	st, err := parseRosterStatement(c.Statement)
	if err != nil {
		return RosterChangeContents{}, err
	}
	return RosterChangeContents{Chain: st.chain, Sequence: st.sequence, Previous: st.prev, Next: st.next}, nil
}

// PolicyChangeContents is what a policy-change statement says: the fields a developer
// approves by signing it. Like RosterChangeContents it is for display; a node acts
// only on what Policy.VerifyChange accepts.
type PolicyChangeContents struct {
	Chain    ChainID // the genesis block ID of the chain the change is for
	Sequence uint64  // 1 for the chain's first policy change, then 2, ...
	Previous Hash256 // Policy.Hash of the policy it replaces
	Next     *Policy // the policy it brings in
}

// Contents decodes the statement with the strict decoder VerifyChange uses.
func (c *PolicyChange) Contents() (PolicyChangeContents, error) {
	if len(c.Statement) > maxStatementSize {
		return PolicyChangeContents{}, fmt.Errorf("release: policy change: statement of %d bytes, at most %d", len(c.Statement), maxStatementSize)
	}
	st, err := parseChangeStatement(c.Statement)
	if err != nil {
		return PolicyChangeContents{}, err
	}
	return PolicyChangeContents{Chain: st.chain, Sequence: st.sequence, Previous: st.prev, Next: st.next}, nil
}
