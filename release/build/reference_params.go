package build

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/mar"
)

// ReferenceParams are the inputs of a reference build besides the source tree: what
// the runner passes in the environment (see Environment).
type ReferenceParams struct {
	Product string // must equal the source's build description
	Version string // written into every MAR's product information and platform.ini
	Channel string // written into every MAR's product information and platform.ini
	// SourceDateEpoch becomes platform.ini's BuildID; nothing else reads a clock.
	SourceDateEpoch uint64
	Targets         []release.TargetKey // one MAR each
}

// ReferenceParamsFromManifest gives the parameters a rebuild of m uses.
func ReferenceParamsFromManifest(m *release.Manifest) ReferenceParams {
	p := ReferenceParams{Product: m.Product, Version: m.Version, Channel: m.Channel,
		SourceDateEpoch: m.SourceDateEpoch}
	for _, t := range m.Targets {
		p.Targets = append(p.Targets, t.Key())
	}
	return p
}

// ReferenceParamsFromEnv reads the parameters from the variables the runner sets:
// CHAINIAC_PRODUCT, CHAINIAC_VERSION, CHAINIAC_CHANNEL, CHAINIAC_TARGETS and
// SOURCE_DATE_EPOCH. All are required; an empty variable counts as unset. getenv is
// os.Getenv in a real build.
func ReferenceParamsFromEnv(getenv func(string) string) (ReferenceParams, error) {
	vars := map[string]string{}
	for _, name := range []string{"CHAINIAC_PRODUCT", "CHAINIAC_VERSION", "CHAINIAC_CHANNEL", "CHAINIAC_TARGETS", "SOURCE_DATE_EPOCH"} {
		v := getenv(name)
		if v == "" {
			return ReferenceParams{}, fmt.Errorf("build: reference: environment variable %s is not set", name)
		}
		vars[name] = v
	}
	p := ReferenceParams{Product: vars["CHAINIAC_PRODUCT"], Version: vars["CHAINIAC_VERSION"], Channel: vars["CHAINIAC_CHANNEL"]}
	epoch, err := strconv.ParseUint(vars["SOURCE_DATE_EPOCH"], 10, 64)
	if err != nil {
		return ReferenceParams{}, fmt.Errorf("build: reference: SOURCE_DATE_EPOCH %q is not a decimal number of seconds", vars["SOURCE_DATE_EPOCH"])
	}
	p.SourceDateEpoch = epoch
	if p.Targets, err = ParseTargets(vars["CHAINIAC_TARGETS"]); err != nil {
		return ReferenceParams{}, fmt.Errorf("build: reference: CHAINIAC_TARGETS: %w", err)
	}
	return p, p.Validate()
}

// maxTargetListLen bounds a target list: MaxTargets keys of maximal length, each with
// its slash and a separator.
const maxTargetListLen = release.MaxTargets * (release.MaxPlatformLen + release.MaxLocaleLen + 2)

// ParseTargets reads a list of "platform/locale" keys separated by spaces or commas,
// the form of CHAINIAC_TARGETS ("linux-x86_64/en-US windows-x86_64/de"). Every key
// must be valid and appear once.
func ParseTargets(s string) ([]release.TargetKey, error) {
	if len(s) > maxTargetListLen {
		return nil, fmt.Errorf("build: target list of %d bytes, at most %d", len(s), maxTargetListLen)
	}
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' })
	if len(fields) == 0 {
		return nil, errors.New("build: empty target list")
	}
	if len(fields) > release.MaxTargets {
		return nil, fmt.Errorf("build: %d targets, at most %d", len(fields), release.MaxTargets)
	}
	keys := make([]release.TargetKey, 0, len(fields))
	seen := make(map[release.TargetKey]bool, len(fields))
	for _, f := range fields {
		platform, locale, ok := strings.Cut(f, "/")
		if !ok {
			return nil, fmt.Errorf("build: target %q: want platform/locale", f)
		}
		k := release.TargetKey{Platform: platform, Locale: locale}
		if err := k.Validate(); err != nil {
			return nil, fmt.Errorf("build: target %q: %w", f, err)
		}
		if seen[k] {
			return nil, fmt.Errorf("build: target %s listed twice", k)
		}
		seen[k] = true
		keys = append(keys, k)
	}
	return keys, nil
}

// Validate checks that the parameters fit both a manifest and a MAR's product
// information block: product as a manifest product, version and channel within the
// MAR's 31 and 63 bytes, a source date epoch before the year 10000, and 1 to
// release.MaxTargets valid, distinct targets.
func (p ReferenceParams) Validate() error {
	if err := release.ValidateProduct(p.Product); err != nil {
		return fmt.Errorf("build: reference: product: %w", err)
	}
	if err := release.ValidateVersion(p.Version); err != nil {
		return fmt.Errorf("build: reference: version: %w", err)
	}
	if len(p.Version) > mar.MaxVersionLen {
		return fmt.Errorf("build: reference: version %q: a MAR holds at most %d bytes", p.Version, mar.MaxVersionLen)
	}
	if err := release.ValidateChannel(p.Channel); err != nil {
		return fmt.Errorf("build: reference: channel: %w", err)
	}
	if len(p.Channel) > mar.MaxChannelLen {
		return fmt.Errorf("build: reference: channel %q: a MAR holds at most %d bytes", p.Channel, mar.MaxChannelLen)
	}
	if p.SourceDateEpoch > release.MaxSourceDateEpoch {
		return fmt.Errorf("build: reference: source date epoch %d after year 9999", p.SourceDateEpoch)
	}
	if len(p.Targets) == 0 || len(p.Targets) > release.MaxTargets {
		return fmt.Errorf("build: reference: %d targets, want 1 to %d", len(p.Targets), release.MaxTargets)
	}
	seen := make(map[release.TargetKey]bool, len(p.Targets))
	for _, k := range p.Targets {
		if err := k.Validate(); err != nil {
			return fmt.Errorf("build: reference: target %s: %w", k, err)
		}
		if seen[k] {
			return fmt.Errorf("build: reference: target %s listed twice", k)
		}
		seen[k] = true
	}
	return nil
}
