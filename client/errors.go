package client

import (
	"errors"
	"fmt"
)

// The error classes of Check and Download; use errors.Is.
var (
	// ErrRejected: a mirror served something that does not verify.
	ErrRejected = errors.New("client: rejected")
	// ErrFrozen: the newest timestamp is older than Config.MaxAge (the chain, or the
	// mirrors, stopped moving). It also wraps ErrRejected.
	ErrFrozen = errors.New("client: newest timestamp too old")
	// ErrUnreachable: no mirror could be reached.
	ErrUnreachable = errors.New("client: no mirror reachable")
	// ErrEvidence: two validly signed statements conflict; see Evidence.
	ErrEvidence = errors.New("client: fork evidence")
)

// rejectf is an error wrapping ErrRejected.
func rejectf(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrRejected, fmt.Sprintf(format, args...))
}

// MirrorError is one mirror's failure, as Check logs it and reports it when every
// mirror failed.
type MirrorError struct {
	Mirror string
	Err    error
}

func (e *MirrorError) Error() string { return e.Mirror + ": " + e.Err.Error() }
func (e *MirrorError) Unwrap() error { return e.Err }

// unreachable marks a transport failure: nothing was learned about the mirror's
// honesty.
type unreachable struct{ err error }

func (u *unreachable) Error() string   { return u.err.Error() }
func (u *unreachable) Unwrap() []error { return []error{ErrUnreachable, u.err} }
