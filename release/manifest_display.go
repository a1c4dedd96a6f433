package release

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// String renders the manifest for people, one field a line. It is for display only:
// what is hashed and signed is Encode.
func (m *Manifest) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "manifest %s\n", m.Hash())
	fmt.Fprintf(&b, "  product           %s\n", m.Product)
	fmt.Fprintf(&b, "  version           %s\n", m.Version)
	fmt.Fprintf(&b, "  channel           %s\n", m.Channel)
	fmt.Fprintf(&b, "  source date epoch %d (%s)\n", m.SourceDateEpoch, epochUTC(m.SourceDateEpoch))
	fmt.Fprintf(&b, "  recipe            %s\n", m.Recipe)
	fmt.Fprintf(&b, "  git commit        %s\n", m.GitCommit)
	fmt.Fprintf(&b, "  source sha-256    %s\n", m.SourceSHA256)
	for _, t := range m.sortedTargets() {
		fmt.Fprintf(&b, "  target %s\n", t.Key())
		fmt.Fprintf(&b, "    unsigned sha-256 %s  %d bytes\n", t.UnsignedSHA256, t.UnsignedSize)
		fmt.Fprintf(&b, "    signed sha-512   %s  %d bytes\n", t.SignedSHA512, t.SignedSize)
		fmt.Fprintf(&b, "    url              %s\n", t.URL)
	}
	return b.String()
}

func epochUTC(s uint64) string {
	if s > MaxSourceDateEpoch {
		return "out of range"
	}
	return time.Unix(int64(s), 0).UTC().Format(time.RFC3339)
}

// manifestJSON is the display form. Field names are snake_case like the docs; hashes
// are hex through their MarshalText.
type manifestJSON struct {
	Hash            Hash256      `json:"hash"`
	Product         string       `json:"product"`
	Version         string       `json:"version"`
	Channel         string       `json:"channel"`
	SourceDateEpoch uint64       `json:"source_date_epoch"`
	Recipe          string       `json:"recipe"`
	GitCommit       GitCommit    `json:"git_commit"`
	SourceSHA256    Hash256      `json:"source_sha256"`
	Targets         []targetJSON `json:"targets"`
}

type targetJSON struct {
	Platform       string  `json:"platform"`
	Locale         string  `json:"locale"`
	UnsignedSHA256 Hash256 `json:"unsigned_sha256"`
	UnsignedSize   uint64  `json:"unsigned_size"`
	SignedSHA512   Hash512 `json:"signed_sha512"`
	SignedSize     uint64  `json:"signed_size"`
	URL            string  `json:"url"`
}

// MarshalJSON renders the manifest, with its hash, for tools and people. JSON is never
// signed or parsed back: the only signed form is Encode.
func (m *Manifest) MarshalJSON() ([]byte, error) {
	out := manifestJSON{
		Hash: m.Hash(), Product: m.Product, Version: m.Version, Channel: m.Channel,
		SourceDateEpoch: m.SourceDateEpoch, Recipe: m.Recipe,
		GitCommit: m.GitCommit, SourceSHA256: m.SourceSHA256,
		Targets: []targetJSON{},
	}
	for _, t := range m.sortedTargets() {
		out.Targets = append(out.Targets, targetJSON(t))
	}
	return json.Marshal(out)
}
