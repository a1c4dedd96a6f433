package cosi

import "fmt"

// Policy says how many members of a roster must sign. It is data, checked by Verify
// against the roster it is applied to.
type Policy struct {
	Threshold int
}

// DefaultThreshold is n − ⌊(n−1)/3⌋: enough that any two signed statements share an
// honest signer when at most ⌊(n−1)/3⌋ members are faulty.
func DefaultThreshold(n int) int { return n - (n-1)/3 }

// DefaultPolicy returns the default policy for a roster of n members.
func DefaultPolicy(n int) Policy { return Policy{Threshold: DefaultThreshold(n)} }

// NewPolicy returns a policy for a roster of n members, refusing a threshold below 1
// or above n.
func NewPolicy(n, threshold int) (Policy, error) {
	p := Policy{Threshold: threshold}
	return p, p.Check(n)
}

// Check validates the policy for a roster of n members.
func (p Policy) Check(n int) error {
	if p.Threshold < 1 || p.Threshold > n {
		return fmt.Errorf("threshold %d for %d members: %w", p.Threshold, n, ErrPolicy)
	}
	return nil
}
