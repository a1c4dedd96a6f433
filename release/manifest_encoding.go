package release

import (
	"crypto/sha256"
	"fmt"
	"slices"

	"github.com/chainiac/chainiac/internal/wire"
)

// Domain tags of the release messages. Each encoding starts with its tag, so bytes
// made for one purpose never parse, hash or verify as another.
const (
	TagManifest = "chainiac/v1/manifest"
)

// minTargetEncoding is the size of a target whose strings have one byte each: a list
// count that claims more targets than the remaining input could hold is refused before
// anything is allocated.
const minTargetEncoding = (4 + 1) + (4 + 1) + 32 + 8 + 64 + 8 + (4 + 1)

// Encode returns the canonical encoding, with targets in canonical (Key) order
// whatever their order in m. It does not validate: ParseManifest rejects what
// Validate rejects, so call Validate first (NewSignedManifest does).
//
//	tag "chainiac/v1/manifest"
//	string product, string version, string channel
//	u64 source_date_epoch
//	string recipe
//	fixed[20] git_commit, fixed[32] source_sha256
//	u32 count, then per target:
//	  string platform, string locale,
//	  fixed[32] unsigned_sha256, u64 unsigned_size,
//	  fixed[64] signed_sha512, u64 signed_size,
//	  string url
func (m *Manifest) Encode() []byte {
	e := wire.NewEncoder(TagManifest).
		String(m.Product).String(m.Version).String(m.Channel).
		Uint64(m.SourceDateEpoch).
		String(m.Recipe).
		Fixed(m.GitCommit[:]).Fixed(m.SourceSHA256[:])
	targets := m.sortedTargets()
	e.Count(len(targets))
	for _, t := range targets {
		e.String(t.Platform).String(t.Locale).
			Fixed(t.UnsignedSHA256[:]).Uint64(t.UnsignedSize).
			Fixed(t.SignedSHA512[:]).Uint64(t.SignedSize).
			String(t.URL)
	}
	return e.Out()
}

func (m *Manifest) sortedTargets() []Target {
	targets := slices.Clone(m.Targets)
	slices.SortStableFunc(targets, func(a, b Target) int {
		switch {
		case a.Key().Less(b.Key()):
			return -1
		case b.Key().Less(a.Key()):
			return 1
		}
		return 0
	})
	return targets
}

// Hash is the SHA-256 of the canonical encoding: the manifest's identity in a block.
func (m *Manifest) Hash() Hash256 { return sha256.Sum256(m.Encode()) }

// ParseManifest decodes and validates a canonical manifest encoding. It accepts only
// the one encoding Encode produces: targets strictly in Key order, no trailing bytes.
// A manifest from anyone but a trusted local file must be verified first: use
// Policy.VerifyManifest, which parses only after the signatures check out.
func ParseManifest(b []byte) (*Manifest, error) {
	if len(b) > MaxManifestSize {
		return nil, fmt.Errorf("release: manifest: %d bytes, at most %d", len(b), MaxManifestSize)
	}
	m := new(Manifest)
	d := wire.NewDecoder(b, TagManifest)
	m.Product = d.Field("product").String(MaxProductLen)
	m.Version = d.Field("version").String(MaxVersionLen)
	m.Channel = d.Field("channel").String(MaxChannelLen)
	m.SourceDateEpoch = d.Field("source date epoch").Uint64()
	m.Recipe = d.Field("recipe").String(MaxRecipeLen)
	d.Field("git commit").Fixed(m.GitCommit[:])
	d.Field("source sha-256").Fixed(m.SourceSHA256[:])
	n := d.Field("targets").Count(MaxTargets, minTargetEncoding)
	if n > 0 {
		m.Targets = make([]Target, n)
	}
	for i := range m.Targets {
		t := &m.Targets[i]
		d.Field(fmt.Sprintf("target %d", i))
		t.Platform = d.String(MaxPlatformLen)
		t.Locale = d.String(MaxLocaleLen)
		d.Fixed(t.UnsignedSHA256[:])
		t.UnsignedSize = d.Uint64()
		d.Fixed(t.SignedSHA512[:])
		t.SignedSize = d.Uint64()
		t.URL = d.String(MaxURLLen)
		if d.Err() == nil && i > 0 && !m.Targets[i-1].Key().Less(t.Key()) {
			d.Fail(fmt.Errorf("%w: %s not after %s (targets must be sorted and unique)",
				ErrInvalidManifest, t.Key(), m.Targets[i-1].Key()))
		}
	}
	if err := d.Finish(); err != nil {
		return nil, fmt.Errorf("release: manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return m, nil
}
