package release

import (
	"errors"
	"fmt"
	"strings"
)

// ErrThreshold is wrapped when too few distinct policy keys signed validly. The
// concrete error is a *ThresholdError carrying the evidence.
var ErrThreshold = errors.New("release: developer signature threshold not met")

// ThresholdError says how many distinct policy keys signed validly, how many were
// needed, and which signatures did not count.
type ThresholdError struct {
	What    string // "manifest" or "policy change"
	Valid   int    // distinct policy keys with a valid signature
	Needed  int    // the policy threshold
	Unknown []DeveloperKey
	Invalid []DeveloperKey // policy keys whose signature did not verify
}

func (e *ThresholdError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "release: %s: %d valid developer signatures of %d needed", e.What, e.Valid, e.Needed)
	if len(e.Unknown) > 0 {
		fmt.Fprintf(&b, "; keys not in policy: %s", joinKeys(e.Unknown))
	}
	if len(e.Invalid) > 0 {
		fmt.Fprintf(&b, "; invalid signatures by: %s", joinKeys(e.Invalid))
	}
	return b.String()
}

// Unwrap lets errors.Is(err, ErrThreshold) match.
func (e *ThresholdError) Unwrap() error { return ErrThreshold }

func joinKeys(keys []DeveloperKey) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = k.String()
	}
	return strings.Join(s, ", ")
}
