package release

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"

	"github.com/chainiac/chainiac/internal/wire"
)

// TagPolicy is the domain tag of a policy encoding.
const TagPolicy = "chainiac/v1/developer-policy"

// MaxPolicyKeys bounds a policy; release teams are a handful of people.
const MaxPolicyKeys = 64

// ErrInvalidPolicy is wrapped by every error about a policy's content.
var ErrInvalidPolicy = errors.New("release: invalid developer policy")

// Policy is the set of developer keys that may sign releases and how many distinct keys
// must sign. It is fixed in the genesis block; changing it takes a PolicyChange signed
// by a threshold of the old keys.
type Policy struct {
	keys      []DeveloperKey // sorted, unique
	threshold int
}

// NewPolicy validates the keys and threshold: 1 ≤ threshold ≤ len(keys), no duplicate
// keys, at most MaxPolicyKeys. Key order does not matter.
func NewPolicy(keys []DeveloperKey, threshold int) (*Policy, error) {
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no keys", ErrInvalidPolicy)
	}
	if len(keys) > MaxPolicyKeys {
		return nil, fmt.Errorf("%w: %d keys, at most %d", ErrInvalidPolicy, len(keys), MaxPolicyKeys)
	}
	if threshold < 1 || threshold > len(keys) {
		return nil, fmt.Errorf("%w: threshold %d outside 1..%d", ErrInvalidPolicy, threshold, len(keys))
	}
	sorted := slices.Clone(keys)
	slices.SortFunc(sorted, compareKeys)
	for i := 1; i < len(sorted); i++ {
		if sorted[i] == sorted[i-1] {
			return nil, fmt.Errorf("%w: duplicate key %s", ErrInvalidPolicy, sorted[i])
		}
	}
	for _, k := range sorted {
		if err := checkPublicKey(k); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInvalidPolicy, err)
		}
	}
	return &Policy{keys: sorted, threshold: threshold}, nil
}

// Keys returns the policy's keys in canonical (bytewise) order.
func (p *Policy) Keys() []DeveloperKey { return slices.Clone(p.keys) }

// Threshold is the number of distinct keys that must sign.
func (p *Policy) Threshold() int { return p.threshold }

// Contains reports whether k is one of the policy's keys.
func (p *Policy) Contains(k DeveloperKey) bool {
	_, found := slices.BinarySearchFunc(p.keys, k, compareKeys)
	return found
}

// Encode returns the canonical encoding:
//
//	tag "chainiac/v1/developer-policy"
//	u32 threshold
//	u32 count, then per key (ascending bytewise): fixed[32] ed25519 public key
func (p *Policy) Encode() []byte {
	e := wire.NewEncoder(TagPolicy).Uint32(uint32(p.threshold)).Count(len(p.keys))
	for _, k := range p.keys {
		e.Fixed(k[:])
	}
	return e.Out()
}

// Hash is the SHA-256 of the encoding: the policy's identity, named by a PolicyChange.
func (p *Policy) Hash() Hash256 { return sha256.Sum256(p.Encode()) }

// Equal reports whether both policies have the same keys and threshold.
func (p *Policy) Equal(o *Policy) bool {
	return p.threshold == o.threshold && slices.Equal(p.keys, o.keys)
}

// maxPolicySize is the largest valid policy encoding.
const maxPolicySize = 1 + len(TagPolicy) + 4 + 4 + MaxPolicyKeys*32

// ParsePolicy decodes a canonical policy encoding: keys strictly ascending (so no
// duplicates), threshold within 1..len(keys), nothing trailing.
func ParsePolicy(b []byte) (*Policy, error) {
	if len(b) > maxPolicySize {
		return nil, fmt.Errorf("release: policy: %d bytes, at most %d", len(b), maxPolicySize)
	}
	d := wire.NewDecoder(b, TagPolicy)
	threshold := d.Field("threshold").Uint32()
	n := d.Field("keys").Count(MaxPolicyKeys, 32)
	keys := make([]DeveloperKey, n)
	for i := range keys {
		d.Field(fmt.Sprintf("key %d", i)).Fixed(keys[i][:])
		if d.Err() == nil && i > 0 && compareKeys(keys[i-1], keys[i]) >= 0 {
			d.Fail(fmt.Errorf("%w: keys not in ascending order", ErrInvalidPolicy))
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("release: policy: %w", err)
	}
	if uint64(threshold) > MaxPolicyKeys {
		return nil, fmt.Errorf("%w: threshold %d outside 1..%d", ErrInvalidPolicy, threshold, len(keys))
	}
	return NewPolicy(keys, int(threshold))
}

func compareKeys(a, b DeveloperKey) int { return bytes.Compare(a[:], b[:]) }
