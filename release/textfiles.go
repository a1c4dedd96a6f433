package release

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
)

// Policy files and key files are small TOML documents that people edit and keep; they
// are never hashed or signed (the policy's signed form is Policy.Encode).
//
// Policy file:
//
//	threshold = 2
//	keys = [
//	  "<64 hex digits: Ed25519 public key>",
//	  ...
//	]
//
// Key file (written with mode 0600):
//
//	public_key = "<64 hex digits>"
//	seed = "<64 hex digits: Ed25519 private seed>"

// MaxTextFileSize bounds a policy or key file.
const MaxTextFileSize = 64 << 10

type policyFile struct {
	Threshold int            `toml:"threshold"`
	Keys      []DeveloperKey `toml:"keys"`
}

// ParsePolicyFile reads a policy from its TOML form. Unknown fields are errors, so a
// misspelt "treshold" cannot silently leave the threshold at zero.
func ParsePolicyFile(b []byte) (*Policy, error) {
	var f policyFile
	if err := decodeTOML(b, &f, "policy file", "threshold", "keys"); err != nil {
		return nil, err
	}
	return NewPolicy(f.Keys, f.Threshold)
}

// MarshalPolicyFile renders p in the TOML form ParsePolicyFile reads.
func (p *Policy) MarshalPolicyFile() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "# chainiac developer policy: a release needs valid signatures from\n")
	fmt.Fprintf(&b, "# %d distinct keys of these %d (policy hash %s).\n", p.threshold, len(p.keys), p.Hash())
	fmt.Fprintf(&b, "threshold = %d\nkeys = [\n", p.threshold)
	for _, k := range p.keys {
		fmt.Fprintf(&b, "  %q,\n", k.String())
	}
	b.WriteString("]\n")
	return b.Bytes()
}

type keyFile struct {
	PublicKey DeveloperKey `toml:"public_key"`
	Seed      string       `toml:"seed"`
}

// ParseKeyFile reads a developer's private key file and checks that its public key
// matches the seed.
func ParseKeyFile(b []byte) (*Signer, error) {
	var f keyFile
	if err := decodeTOML(b, &f, "key file", "public_key", "seed"); err != nil {
		return nil, err
	}
	seed, err := hex.DecodeString(f.Seed)
	if err != nil {
		return nil, fmt.Errorf("release: key file: seed: %w", err)
	}
	s, err := NewSigner(seed)
	if err != nil {
		return nil, fmt.Errorf("release: key file: %w", err)
	}
	if s.Public() != f.PublicKey {
		return nil, fmt.Errorf("release: key file: public_key %s does not match the seed (its key is %s)", f.PublicKey, s.Public())
	}
	return s, nil
}

// MarshalKeyFile renders the private key file. Write it with mode 0600.
func (s *Signer) MarshalKeyFile() []byte {
	return fmt.Appendf(nil, "# chainiac developer signing key (Ed25519). Keep it secret.\npublic_key = %q\nseed = %q\n",
		s.pub.String(), hex.EncodeToString(s.Seed()))
}

func decodeTOML(b []byte, v any, what string, required ...string) error {
	if len(b) > MaxTextFileSize {
		return fmt.Errorf("release: %s: %d bytes, at most %d", what, len(b), MaxTextFileSize)
	}
	md, err := toml.Decode(string(b), v)
	if err != nil {
		return fmt.Errorf("release: %s: %w", what, err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		names := make([]string, len(extra))
		for i, k := range extra {
			names[i] = k.String()
		}
		return fmt.Errorf("release: %s: unknown fields %s", what, strings.Join(names, ", "))
	}
	for _, r := range required {
		if !md.IsDefined(r) {
			return fmt.Errorf("release: %s: missing field %q", what, r)
		}
	}
	return nil
}
