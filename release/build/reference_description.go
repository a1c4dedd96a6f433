package build

import (
	"fmt"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/chainiac/chainiac/release"
)

// The build description a reference source tree carries at its root.
const (
	// ReferenceDescriptionFile is the description's name at the root of the tree.
	ReferenceDescriptionFile = "chainiac-build.toml"
	// ReferenceFormat is the value of the description's format field: the rules of
	// this version of the reference builder.
	ReferenceFormat = "chainiac-reference/v1"
	// MaxReferenceDescriptionSize bounds the description file.
	MaxReferenceDescriptionSize = 64 << 10
)

// referenceDescription is the parsed chainiac-build.toml:
//
//	format = "chainiac-reference/v1"
//	product = "demo-browser"
//	platforms = ["linux-x86_64", "windows-x86_64"]
//	locales = ["en-US", "de"]
//
// platforms and locales are what the source supports; a build may ask for any
// (platform, locale) pair of them.
type referenceDescription struct {
	Format    string   `toml:"format"`
	Product   string   `toml:"product"`
	Platforms []string `toml:"platforms"`
	Locales   []string `toml:"locales"`
}

// parseReferenceDescription decodes and checks a build description. It is strict:
// unknown fields, a missing field, another format, duplicates and names that are not
// valid platforms or locales are errors.
func parseReferenceDescription(b []byte) (*referenceDescription, error) {
	if len(b) > MaxReferenceDescriptionSize {
		return nil, fmt.Errorf("build: %s: %d bytes, at most %d", ReferenceDescriptionFile, len(b), MaxReferenceDescriptionSize)
	}
	var d referenceDescription
	md, err := toml.Decode(string(b), &d)
	if err != nil {
		return nil, fmt.Errorf("build: %s: %w", ReferenceDescriptionFile, err)
	}
	if extra := md.Undecoded(); len(extra) > 0 {
		names := make([]string, len(extra))
		for i, k := range extra {
			names[i] = k.String()
		}
		return nil, fmt.Errorf("build: %s: unknown fields %s", ReferenceDescriptionFile, strings.Join(names, ", "))
	}
	for _, field := range []string{"format", "product", "platforms", "locales"} {
		if !md.IsDefined(field) {
			return nil, fmt.Errorf("build: %s: missing field %q", ReferenceDescriptionFile, field)
		}
	}
	if d.Format != ReferenceFormat {
		return nil, fmt.Errorf("build: %s: format %q, this builder reads %q", ReferenceDescriptionFile, d.Format, ReferenceFormat)
	}
	if err := release.ValidateProduct(d.Product); err != nil {
		return nil, fmt.Errorf("build: %s: product: %w", ReferenceDescriptionFile, err)
	}
	// A valid key with a known-good other half checks one half by the manifest's
	// own rule.
	platformRule := func(p string) error { return release.TargetKey{Platform: p, Locale: "ALL"}.Validate() }
	localeRule := func(l string) error { return release.TargetKey{Platform: "any", Locale: l}.Validate() }
	if err := checkList("platforms", d.Platforms, platformRule); err != nil {
		return nil, err
	}
	if err := checkList("locales", d.Locales, localeRule); err != nil {
		return nil, err
	}
	return &d, nil
}

func checkList(field string, values []string, rule func(string) error) error {
	if len(values) == 0 || len(values) > release.MaxTargets {
		return fmt.Errorf("build: %s: %s: want 1 to %d names", ReferenceDescriptionFile, field, release.MaxTargets)
	}
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		if err := rule(v); err != nil {
			return fmt.Errorf("build: %s: %s: %w", ReferenceDescriptionFile, field, err)
		}
		if seen[v] {
			return fmt.Errorf("build: %s: %s: %q listed twice", ReferenceDescriptionFile, field, v)
		}
		seen[v] = true
	}
	return nil
}

func (d *referenceDescription) supports(k release.TargetKey) error {
	for _, p := range d.Platforms {
		if p == k.Platform {
			for _, l := range d.Locales {
				if l == k.Locale {
					return nil
				}
			}
			return fmt.Errorf("build: reference: target %s: locale %q is not in %s (locales %s)",
				k, k.Locale, ReferenceDescriptionFile, strings.Join(d.Locales, ", "))
		}
	}
	return fmt.Errorf("build: reference: target %s: platform %q is not in %s (platforms %s)",
		k, k.Platform, ReferenceDescriptionFile, strings.Join(d.Platforms, ", "))
}
