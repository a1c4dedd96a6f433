package build

import (
	"errors"
	"fmt"

	"github.com/chainiac/chainiac/release"
)

// ErrRebuildMismatch is wrapped by every *RebuildError: the files do not match the
// manifest, or the signed MAR is not the rebuilt MAR plus signatures. A node refuses
// to cosign with this as the reason. Errors that do not wrap it (a file that cannot
// be read) are the checker's own trouble, not evidence against the release.
var ErrRebuildMismatch = errors.New("build: rebuild does not match the release")

// RebuildCheck names one of CheckRebuild's checks. The constants are listed in the
// order CheckRebuild makes them.
type RebuildCheck string

const (
	// CheckMissing: a manifest target has no rebuilt or no signed MAR.
	CheckMissing RebuildCheck = "missing target"
	// CheckExtra: a rebuilt or signed MAR for a target the manifest does not list.
	CheckExtra RebuildCheck = "extra target"
	// CheckUnsignedSize: the rebuilt MAR's size differs from the manifest's.
	CheckUnsignedSize RebuildCheck = "unsigned size"
	// CheckUnsignedSHA256: the rebuilt MAR's SHA-256 differs from the manifest's.
	CheckUnsignedSHA256 RebuildCheck = "unsigned sha-256"
	// CheckUnsignedFormat: the rebuilt MAR is not a well-formed unsigned MAR.
	CheckUnsignedFormat RebuildCheck = "unsigned format"
	// CheckUnsignedProductInfo: the rebuilt MAR's channel or version is not the
	// manifest's.
	CheckUnsignedProductInfo RebuildCheck = "unsigned product information"
	// CheckSignedSize: the signed MAR's size differs from the manifest's.
	CheckSignedSize RebuildCheck = "signed size"
	// CheckSignedSHA512: the signed MAR's SHA-512 differs from the manifest's.
	CheckSignedSHA512 RebuildCheck = "signed sha-512"
	// CheckSignedFormat: the signed MAR is not a well-formed MAR.
	CheckSignedFormat RebuildCheck = "signed format"
	// CheckSignature: the signed MAR has no signature, or one with an algorithm
	// Mozilla did not define.
	CheckSignature RebuildCheck = "signature block"
	// CheckSignedProductInfo: the signed MAR's channel or version is not the
	// manifest's.
	CheckSignedProductInfo RebuildCheck = "signed product information"
	// CheckStripped: the signed MAR, stripped of its signatures, differs from the
	// rebuilt MAR.
	CheckStripped RebuildCheck = "stripped equals rebuilt"
)

// RebuildError is the evidence of a failed CheckRebuild: which target and which check,
// and for CheckStripped where the first difference lies.
type RebuildError struct {
	Target release.TargetKey
	Check  RebuildCheck
	// Offset is the first differing byte, in the rebuilt (unsigned) MAR's
	// coordinates, and Region the part of the rebuilt MAR holding it ("header",
	// "additional sections", "entry", "gap", "index" or "end of file"); Entry names
	// the entry when Region is "entry". They are set for CheckStripped only; Offset
	// is -1 otherwise.
	Offset int64
	Region string
	Entry  string
	// Detail says what was expected and what was found.
	Detail string
	// Err is the underlying error where there is one (a *mar.MismatchError,
	// mar.ErrFormat, mar.ErrUnsigned, ...), or nil.
	Err error
}

func (e *RebuildError) Error() string {
	return fmt.Sprintf("build: rebuild check: target %s: %s: %s", e.Target, e.Check, e.Detail)
}

// Unwrap lets errors.Is match ErrRebuildMismatch and the underlying error.
func (e *RebuildError) Unwrap() []error {
	if e.Err == nil {
		return []error{ErrRebuildMismatch}
	}
	return []error{ErrRebuildMismatch, e.Err}
}

func mismatch(k release.TargetKey, check RebuildCheck, cause error, format string, args ...any) *RebuildError {
	return &RebuildError{Target: k, Check: check, Offset: -1, Detail: fmt.Sprintf(format, args...), Err: cause}
}
