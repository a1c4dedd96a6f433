package cosi

import "fmt"

// Verify checks a collective signature on msg by roster r under policy p. It returns
// nil only if the bitmap covers the roster, at least p.Threshold members signed, and
// the aggregate verifies against the sum of their weighted keys. The error says which
// check failed and wraps ErrBitmapLength, ErrThreshold, ErrPolicy or
// ErrInvalidSignature.
//
// Cost: one hash to the curve and one pairing check (two Miller loops, one final
// exponentiation), plus one point addition per signer missing from a mostly full
// mask: flat in the roster size.
func Verify(r *Roster, msg []byte, sig *Signature, p Policy) error {
	if err := p.Check(r.Len()); err != nil {
		return err
	}
	if sig.mask.n != r.Len() {
		return fmt.Errorf("bitmap of %d members for a roster of %d: %w", sig.mask.n, r.Len(), ErrBitmapLength)
	}
	if c := sig.mask.Count(); c < p.Threshold {
		return fmt.Errorf("%d of %d members signed, policy needs %d: %w", c, r.Len(), p.Threshold, ErrThreshold)
	}
	return VerifyPartial(r, msg, sig)
}

// VerifyPartial checks that sig is a valid aggregate of the members its mask names,
// whatever their number. Tree protocols use it to check a subtree's contribution.
func VerifyPartial(r *Roster, msg []byte, sig *Signature) error {
	if sig.mask.n != r.Len() {
		return fmt.Errorf("bitmap of %d members for a roster of %d: %w", sig.mask.n, r.Len(), ErrBitmapLength)
	}
	if sig.mask.Count() == 0 {
		return fmt.Errorf("no signers: %w", ErrThreshold)
	}
	if sig.point == nil || isIdentityG1(sig.point) {
		return fmt.Errorf("aggregate is the identity: %w", ErrInvalidSignature)
	}
	if !pairingCheck(sig.point, hashToG1(msg), r.aggregateKey(sig.mask)) {
		return ErrInvalidSignature
	}
	return nil
}
