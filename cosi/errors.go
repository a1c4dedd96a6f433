package cosi

import "errors"

// Conditions callers branch on. Errors returned by this package wrap one of these with
// the details (how many signers, which member, which roster size).
var (
	// ErrBitmapLength: a participation mask does not match the roster's size.
	ErrBitmapLength = errors.New("cosi: participation bitmap does not match the roster")
	// ErrThreshold: fewer signers than the policy requires.
	ErrThreshold = errors.New("cosi: too few signers")
	// ErrMalformed: the encoding of a signature or point is invalid.
	ErrMalformed = errors.New("cosi: malformed signature")
	// ErrInvalidSignature: the aggregate does not verify against the signers' keys.
	ErrInvalidSignature = errors.New("cosi: signature does not verify")
	// ErrOverlap: two partial signatures share a signer, who would count twice.
	ErrOverlap = errors.New("cosi: partial signatures overlap")
	// ErrPolicy: a threshold outside 1..n.
	ErrPolicy = errors.New("cosi: invalid policy")
	// ErrNotMember: a key is not in the roster.
	ErrNotMember = errors.New("cosi: key is not in the roster")
)
