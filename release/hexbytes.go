package release

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
)

// Hash256 is a SHA-256 digest: of a manifest encoding, a policy, a source archive or an
// unsigned MAR file.
type Hash256 [32]byte

// Hash512 is a SHA-512 digest of a signed MAR file (the form Mozilla's update metadata
// uses for the file an updater downloads).
type Hash512 [64]byte

// GitCommit is a git object ID in SHA-1 object format. Tor Browser and Firefox
// repositories use SHA-1 object IDs; a repository in SHA-256 object format needs a new
// manifest version (the tag carries "v1").
type GitCommit [20]byte

// DeveloperKey is an Ed25519 public key of a release developer.
type DeveloperKey [ed25519.PublicKeySize]byte

// DeveloperSignature is an Ed25519 signature by a DeveloperKey.
type DeveloperSignature [ed25519.SignatureSize]byte

func (h Hash256) String() string            { return hex.EncodeToString(h[:]) }
func (h Hash512) String() string            { return hex.EncodeToString(h[:]) }
func (c GitCommit) String() string          { return hex.EncodeToString(c[:]) }
func (k DeveloperKey) String() string       { return hex.EncodeToString(k[:]) }
func (s DeveloperSignature) String() string { return hex.EncodeToString(s[:]) }

// IsZero reports whether no digest was set; an all-zero digest is never a real one.
func (h Hash256) IsZero() bool { return h == Hash256{} }

// IsZero reports whether no digest was set.
func (h Hash512) IsZero() bool { return h == Hash512{} }

// IsZero reports whether no commit was set.
func (c GitCommit) IsZero() bool { return c == GitCommit{} }

func (h Hash256) MarshalText() ([]byte, error)            { return hexText(h[:]), nil }
func (h Hash512) MarshalText() ([]byte, error)            { return hexText(h[:]), nil }
func (c GitCommit) MarshalText() ([]byte, error)          { return hexText(c[:]), nil }
func (k DeveloperKey) MarshalText() ([]byte, error)       { return hexText(k[:]), nil }
func (s DeveloperSignature) MarshalText() ([]byte, error) { return hexText(s[:]), nil }

func (h *Hash256) UnmarshalText(b []byte) error { return unhexInto(h[:], b, "sha-256 digest") }
func (h *Hash512) UnmarshalText(b []byte) error { return unhexInto(h[:], b, "sha-512 digest") }
func (c *GitCommit) UnmarshalText(b []byte) error {
	return unhexInto(c[:], b, "git commit (sha-1 object id)")
}
func (k *DeveloperKey) UnmarshalText(b []byte) error {
	return unhexInto(k[:], b, "developer key")
}
func (s *DeveloperSignature) UnmarshalText(b []byte) error {
	return unhexInto(s[:], b, "developer signature")
}

func hexText(b []byte) []byte {
	out := make([]byte, hex.EncodedLen(len(b)))
	hex.Encode(out, b)
	return out
}

// unhexInto decodes exactly len(dst) bytes of lowercase or uppercase hex, and leaves
// dst untouched on error.
func unhexInto(dst []byte, text []byte, what string) error {
	if len(text) != 2*len(dst) {
		return fmt.Errorf("release: %s: %d hex digits, want %d", what, len(text), 2*len(dst))
	}
	tmp := make([]byte, len(dst))
	if _, err := hex.Decode(tmp, text); err != nil {
		return fmt.Errorf("release: %s: %w", what, err)
	}
	copy(dst, tmp)
	return nil
}
