package build

import (
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/release"
)

// Sentinels for what callers branch on. A node reports each as a distinct refusal
// reason.
var (
	// ErrSourceMismatch: the fetched source does not have the manifest's SHA-256.
	ErrSourceMismatch = errors.New("build: source does not match the manifest")
	// ErrUnsafeSource: the archive or directory tries to escape its root, holds
	// special files, or exceeds the size limits.
	ErrUnsafeSource = errors.New("build: unsafe source")
	// ErrTimeLimit: the build ran out of time and was killed.
	ErrTimeLimit = errors.New("build: time limit exceeded")
	// ErrBuildFailed: the build command exited with an error.
	ErrBuildFailed = errors.New("build: build command failed")
	// ErrOutput: the produced files break the recipe's rules (limits, names, types).
	ErrOutput = errors.New("build: bad build output")
)

// SourceMismatchError carries both digests.
type SourceMismatchError struct {
	Want, Got release.Hash256
}

func (e *SourceMismatchError) Error() string {
	return fmt.Sprintf("build: source sha-256 is %s, manifest says %s", e.Got, e.Want)
}

// Unwrap lets errors.Is(err, ErrSourceMismatch) match.
func (e *SourceMismatchError) Unwrap() error { return ErrSourceMismatch }

// BuildError is a build that ran and failed or timed out; it keeps the end of the log
// as evidence for the refusal.
type BuildError struct {
	Recipe     string
	Cause      error // ErrTimeLimit, ErrBuildFailed, or the context's error
	ExitCode   int   // -1 when the build did not exit by itself (killed, or never started)
	Log        []byte
	LogDropped int64
}

func (e *BuildError) Error() string {
	if e.ExitCode >= 0 {
		return fmt.Sprintf("build: recipe %q: exit status %d: %v", e.Recipe, e.ExitCode, e.Cause)
	}
	return fmt.Sprintf("build: recipe %q: did not exit normally: %v", e.Recipe, e.Cause)
}

// Unwrap exposes the cause for errors.Is.
func (e *BuildError) Unwrap() error { return e.Cause }
