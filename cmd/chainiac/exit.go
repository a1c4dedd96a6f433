package main

import (
	"errors"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/nodeclient"
)

// Exit codes, documented in docs/updater-integration.md; scripts rely on them.
const (
	exitOK          = 0
	exitFailure     = 1 // anything else: a missing file, a write that failed
	exitUsage       = 2 // a bad flag or argument
	exitRejected    = 3 // verification failed: an attack, a frozen chain, fork evidence
	exitUnreachable = 4 // no mirror or node could be reached
)

// errRefused is wrapped when the cothority refused what was proposed.
var errRefused = errors.New("refused")

// usageError marks a mistake in the command line.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// exitCode maps an error to the process's exit status. A rejection wins over
// unreachability: one lying mirror among dead ones is an attack, not an outage.
func exitCode(err error) int {
	var u usageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &u):
		return exitUsage
	case errors.Is(err, client.ErrRejected), errors.Is(err, client.ErrEvidence), errors.Is(err, errRefused):
		return exitRejected
	case errors.Is(err, client.ErrUnreachable), errors.Is(err, nodeclient.ErrUnreachable):
		return exitUnreachable
	}
	return exitFailure
}
