package mar

import (
	"errors"
	"fmt"
)

// Sentinel errors for the conditions callers branch on. Errors returned by
// this package wrap one of them where one applies.
var (
	// ErrFormat: the bytes are not a well-formed MAR within our limits.
	ErrFormat = errors.New("mar: malformed archive")
	// ErrUnsigned: the archive carries no signature.
	ErrUnsigned = errors.New("mar: archive has no signature")
	// ErrSigned: the operation needs an unsigned archive.
	ErrSigned = errors.New("mar: archive is already signed")
	// ErrBadSignature: a signature does not verify with any given key.
	ErrBadSignature = errors.New("mar: signature does not verify")
	// ErrUnknownAlgorithm: a signature uses an algorithm we cannot verify.
	ErrUnknownAlgorithm = errors.New("mar: unknown signature algorithm")
	// ErrTooLarge: decompressed data exceeds the caller's limit.
	ErrTooLarge = errors.New("mar: decompressed data exceeds limit")
	// ErrCompression: an entry is neither valid xz nor bzip2.
	ErrCompression = errors.New("mar: unsupported or corrupt entry compression")
	// ErrUnsafeName: an entry name is absolute, climbs out with "..", or
	// is otherwise not a clean relative slash-separated path.
	ErrUnsafeName = errors.New("mar: unsafe entry name")
	// ErrMismatch: a signed archive, stripped, differs from an unsigned one.
	ErrMismatch = errors.New("mar: stripped archive differs")
)

// formatError wraps ErrFormat with the check that failed.
func formatError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrFormat}, args...)...)
}

// SignatureError says which signature failed and why.
type SignatureError struct {
	Index     int       // position in the signature block, from 0
	Algorithm Algorithm // the algorithm the signature claims
	Err       error     // ErrBadSignature or ErrUnknownAlgorithm
}

func (e *SignatureError) Error() string {
	return fmt.Sprintf("%v: signature %d (%v)", e.Err, e.Index, e.Algorithm)
}

func (e *SignatureError) Unwrap() error { return e.Err }

// MismatchError is the evidence CompareStripped returns: the first offset,
// in the stripped archive's coordinates, at which the two archives differ,
// and the entry (or other region) holding that offset in the unsigned one.
type MismatchError struct {
	Offset int64
	Region string // "header", "additional sections", "entry", "gap", "index" or "end of file"
	Entry  string // entry name when Region is "entry"
}

func (e *MismatchError) Error() string {
	if e.Region == "entry" {
		return fmt.Sprintf("%v: first difference at offset %d, in entry %q", ErrMismatch, e.Offset, e.Entry)
	}
	return fmt.Sprintf("%v: first difference at offset %d, in the %s", ErrMismatch, e.Offset, e.Region)
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }
