package release

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Limits of a manifest. They bound what a node decodes from an untrusted proposal and
// keep every field safe to use as a file name or a log line.
const (
	MaxProductLen  = 64
	MaxVersionLen  = 64
	MaxChannelLen  = 64
	MaxRecipeLen   = 64
	MaxPlatformLen = 64
	MaxLocaleLen   = 35 // the longest BCP 47 tag in practice, e.g. "ja-JP-mac" fits easily
	MaxURLLen      = 1024
	MaxTargets     = 512
	// MaxMARSize bounds both the unsigned and the signed MAR of a target (500 MiB;
	// full Firefox MARs are around 80 MiB).
	MaxMARSize = 500 << 20
	// MaxSourceDateEpoch is 9999-12-31T23:59:59Z: later values are not timestamps.
	MaxSourceDateEpoch = 253402300799
	// MaxManifestSize bounds a whole manifest encoding; MaxTargets targets with
	// maximal fields fit.
	MaxManifestSize = 1 << 20
)

// ErrInvalidManifest is wrapped by every error about a manifest's content (as opposed to
// its encoding), so callers can tell a bad proposal from a transport problem.
var ErrInvalidManifest = errors.New("release: invalid manifest")

// Manifest is what a release block binds: which source was built how, and which files
// that build produced and will be shipped. It is signed by developers (SignedManifest)
// and then rebuilt and cosigned by the cothority.
type Manifest struct {
	Product string // e.g. "tor-browser"
	Version string // e.g. "14.0.1"
	Channel string // MAR channel, e.g. "release"
	// SourceDateEpoch is the build's SOURCE_DATE_EPOCH (seconds since 1970 UTC), fixed
	// by the release so that every rebuilder sets the same clock.
	SourceDateEpoch uint64
	// Recipe names a build recipe, such as "reference/v2", that each node maps to its
	// configured build command.
	Recipe string
	// GitCommit is the commit the source archive was made from (informative: nodes
	// check SourceSHA256, the bytes they actually build).
	GitCommit GitCommit
	// SourceSHA256 is the SHA-256 of the source archive (or the tree digest of a source
	// directory, see release/build).
	SourceSHA256 Hash256
	// Targets are the MAR files of the release, one per (platform, locale). The
	// encoding orders them by Key.
	Targets []Target
}

// Target is one MAR file of a release.
type Target struct {
	Platform string // e.g. "linux-x86_64"
	Locale   string // e.g. "en-US", or "ALL" for a multi-locale build
	// UnsignedSHA256 and UnsignedSize identify the MAR as the build produced it:
	// what a rebuilder must reproduce byte for byte.
	UnsignedSHA256 Hash256
	UnsignedSize   uint64
	// SignedSHA512 and SignedSize identify the shipped MAR: the unsigned MAR plus the
	// release signatures.
	SignedSHA512 Hash512
	SignedSize   uint64
	URL          string // where updaters download the signed MAR (http or https)
}

// TargetKey identifies a target within a manifest.
type TargetKey struct {
	Platform string
	Locale   string
}

// Key returns the target's (platform, locale).
func (t Target) Key() TargetKey { return TargetKey{t.Platform, t.Locale} }

// String renders the key as "platform/locale", the path convention of release/build.
func (k TargetKey) String() string { return k.Platform + "/" + k.Locale }

// Less orders keys by platform, then locale, bytewise: the canonical target order.
func (k TargetKey) Less(o TargetKey) bool {
	if k.Platform != o.Platform {
		return k.Platform < o.Platform
	}
	return k.Locale < o.Locale
}

// Validate checks the platform and locale rules: 1..64 and 1..35 ASCII letters,
// digits and a few separators, starting with a letter or digit, so that both are safe
// as file names (release/build maps out/<platform>/<locale>.mar to a key).
func (k TargetKey) Validate() error {
	if err := checkIdent(k.Platform, MaxPlatformLen, isNameRune); err != nil {
		return fmt.Errorf("platform: %w", err)
	}
	if err := checkIdent(k.Locale, MaxLocaleLen, isLocaleRune); err != nil {
		return fmt.Errorf("locale: %w", err)
	}
	return nil
}

// Target returns the target with the given key.
func (m *Manifest) Target(k TargetKey) (Target, bool) {
	for _, t := range m.Targets {
		if t.Key() == k {
			return t, true
		}
	}
	return Target{}, false
}

// Validate checks every field. Targets may be in any order (the encoding sorts them)
// but must be unique by key.
func (m *Manifest) Validate() error {
	if err := m.validateHeader(); err != nil {
		return err
	}
	if len(m.Targets) == 0 {
		return fmt.Errorf("%w: no targets", ErrInvalidManifest)
	}
	if len(m.Targets) > MaxTargets {
		return fmt.Errorf("%w: %d targets, at most %d", ErrInvalidManifest, len(m.Targets), MaxTargets)
	}
	seen := make(map[TargetKey]bool, len(m.Targets))
	for i, t := range m.Targets {
		if err := t.validate(); err != nil {
			return fmt.Errorf("%w: target %d: %w", ErrInvalidManifest, i, err)
		}
		if seen[t.Key()] {
			return fmt.Errorf("%w: target %d: duplicate %s", ErrInvalidManifest, i, t.Key())
		}
		seen[t.Key()] = true
	}
	return nil
}

// ValidateProduct, ValidateVersion and ValidateChannel apply the manifest's rule for
// one field, for tools that take these values before there is a manifest (such as
// release/build's reference builder): 1..64 ASCII letters, digits, '.', '_', '-'
// (and '+' in a version), starting with a letter or digit.
func ValidateProduct(s string) error { return checkIdent(s, MaxProductLen, isNameRune) }

// ValidateVersion applies the manifest's rule for a version; see ValidateProduct.
func ValidateVersion(s string) error { return checkIdent(s, MaxVersionLen, isVersionRune) }

// ValidateChannel applies the manifest's rule for a channel; see ValidateProduct.
func ValidateChannel(s string) error { return checkIdent(s, MaxChannelLen, isNameRune) }

func (m *Manifest) validateHeader() error {
	checks := []struct {
		name, value string
		check       func(string) error
	}{
		{"product", m.Product, ValidateProduct},
		{"version", m.Version, ValidateVersion},
		{"channel", m.Channel, ValidateChannel},
		{"recipe", m.Recipe, func(s string) error { return checkIdent(s, MaxRecipeLen, isRecipeRune) }},
	}
	for _, c := range checks {
		if err := c.check(c.value); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrInvalidManifest, c.name, err)
		}
	}
	if strings.Contains(m.Recipe, "//") || strings.HasSuffix(m.Recipe, "/") {
		return fmt.Errorf("%w: recipe %q: empty path segment", ErrInvalidManifest, m.Recipe)
	}
	if m.SourceDateEpoch > MaxSourceDateEpoch {
		return fmt.Errorf("%w: source date epoch %d after year 9999", ErrInvalidManifest, m.SourceDateEpoch)
	}
	if m.GitCommit.IsZero() {
		return fmt.Errorf("%w: git commit is all zero", ErrInvalidManifest)
	}
	if m.SourceSHA256.IsZero() {
		return fmt.Errorf("%w: source sha-256 is all zero", ErrInvalidManifest)
	}
	return nil
}

func (t Target) validate() error {
	if err := t.Key().Validate(); err != nil {
		return err
	}
	if t.UnsignedSHA256.IsZero() {
		return errors.New("unsigned sha-256 is all zero")
	}
	if t.SignedSHA512.IsZero() {
		return errors.New("signed sha-512 is all zero")
	}
	if err := checkSize(t.UnsignedSize); err != nil {
		return fmt.Errorf("unsigned size: %w", err)
	}
	if err := checkSize(t.SignedSize); err != nil {
		return fmt.Errorf("signed size: %w", err)
	}
	return checkURL(t.URL)
}

func checkSize(n uint64) error {
	if n == 0 {
		return errors.New("zero")
	}
	if n > MaxMARSize {
		return fmt.Errorf("%d bytes, at most %d", n, MaxMARSize)
	}
	return nil
}

// checkIdent accepts 1..max ASCII characters from the allowed set, starting with a
// letter or digit, so that no identifier is ".", ".." or a hidden file name.
func checkIdent(s string, max int, allowed func(rune) bool) error {
	if s == "" {
		return errors.New("empty")
	}
	if len(s) > max {
		return fmt.Errorf("%d bytes, at most %d", len(s), max)
	}
	if !isAlnum(rune(s[0])) {
		return fmt.Errorf("%q must start with a letter or digit", s)
	}
	for _, r := range s {
		if !allowed(r) {
			return fmt.Errorf("%q: character %q not allowed", s, r)
		}
	}
	return nil
}

func checkURL(s string) error {
	if s == "" {
		return errors.New("url: empty")
	}
	if len(s) > MaxURLLen {
		return fmt.Errorf("url: %d bytes, at most %d", len(s), MaxURLLen)
	}
	for _, r := range s {
		if r <= ' ' || r >= 0x7f {
			return fmt.Errorf("url: character %q not allowed (percent-encode it)", r)
		}
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("url: %w", err)
	}
	if u.Scheme != "https" && u.Scheme != "http" {
		return fmt.Errorf("url %q: scheme must be https or http", s)
	}
	if u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("url %q: no host", s)
	}
	if u.User != nil {
		return fmt.Errorf("url %q: credentials not allowed", s)
	}
	return nil
}

func isAlnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

func isNameRune(r rune) bool    { return isAlnum(r) || r == '.' || r == '_' || r == '-' }
func isVersionRune(r rune) bool { return isNameRune(r) || r == '+' }
func isLocaleRune(r rune) bool  { return isAlnum(r) || r == '-' || r == '_' }
func isRecipeRune(r rune) bool  { return isNameRune(r) || r == '/' }
