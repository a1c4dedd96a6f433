package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

func newReleaseCheckCmd() *cobra.Command {
	var manifestFile, rebuiltDir, signedDir, policyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check --manifest MANIFEST --rebuilt DIR --signed DIR [--policy POLICY] [--json]",
		Short: "Check rebuilt and signed MARs against a manifest, as a node does before it cosigns",
		Example: `  chainiac release check --manifest manifest.bin --rebuilt out --signed signed
  chainiac release check --manifest signed-2.0.bin --rebuilt out --signed signed --policy policy.toml --json`,
		Long: `Check a release's MAR files against its manifest (or signed manifest), as a node
does before it cosigns: every rebuilt MAR has the manifest's unsigned SHA-256 and size,
every signed MAR its signed SHA-512 and size and at least one signature, both carry
the manifest's channel and version, and each signed MAR without its signatures is
its rebuilt MAR byte for byte. Both directories hold <platform>/<locale>.mar, one
file per manifest target and no others.

With --policy (the chain's developer policy in force) the manifest's developer
signatures are checked too, as every node checks them, and each signature that
does not count is named; without it they are not checked. The RSA signatures in
the MARs are never verified here (use mar verify with the release keys).
Exit status 3 when a check fails.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sm, signedFile, err := readManifestFile(manifestFile)
			if err != nil {
				return fmt.Errorf("release check: %w", err)
			}
			m, err := release.ParseManifest(sm.Manifest)
			if err != nil {
				return fmt.Errorf("release check: %s: %w", manifestFile, err)
			}
			policy, err := optionalPolicy(policyFile)
			if err != nil {
				return fmt.Errorf("release check: %w", err)
			}
			rebuilt, err := build.FindMARs(rebuiltDir)
			if err != nil {
				return fmt.Errorf("release check: --rebuilt: %w", err)
			}
			signed, err := build.FindMARs(signedDir)
			if err != nil {
				return fmt.Errorf("release check: --signed: %w", err)
			}
			r := newRebuildReport(m)
			r.LocalFiles = true
			sigErr := r.checkSignatures(policy, sm, signedFile)
			rebuildErr := build.CheckRebuild(m, rebuilt, signed)
			r.Rebuilt = rebuildErr == nil
			return r.finish(cmd.OutOrStdout(), "release check", manifestFile, asJSON, policy, rebuildErr, sigErr,
				fmt.Sprintf("%s %s (manifest %s): %d targets rebuilt identically; each signed MAR is its rebuilt MAR plus signatures",
					m.Product, m.Version, m.Hash(), len(m.Targets)))
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifestFile, "manifest", "", "manifest or signed manifest")
	f.StringVar(&rebuiltDir, "rebuilt", "", "directory of rebuilt unsigned MARs, <platform>/<locale>.mar")
	f.StringVar(&signedDir, "signed", "", "directory of signed MARs, <platform>/<locale>.mar")
	f.StringVar(&policyFile, "policy", "", "developer policy in force: also check the manifest's developer signatures")
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	for _, name := range []string{"manifest", "rebuilt", "signed"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// rebuildReport is what `release check --json` and `release rebuild --json` print:
// the release, whether its MARs matched, and, with --policy, what each developer
// signature is worth. ok is true only when every check made passed;
// signatures_checked says whether the signatures were among them.
type rebuildReport struct {
	OK                bool                    `json:"ok"`
	ManifestHash      string                  `json:"manifest_hash"`
	Product           string                  `json:"product"`
	Version           string                  `json:"version"`
	Channel           string                  `json:"channel"`
	Targets           []string                `json:"targets"`
	Rebuilt           bool                    `json:"rebuilt"`
	Seconds           float64                 `json:"seconds,omitempty"` // rebuild only: the recipe's run
	LocalFiles        bool                    `json:"local_files"`       // source or signed MARs not fetched from their URLs
	SignaturesChecked bool                    `json:"signatures_checked"`
	Threshold         int                     `json:"threshold,omitempty"`
	Signatures        *release.SignatureCheck `json:"signatures"` // null when not checked
	Error             string                  `json:"error,omitempty"`
}

func newRebuildReport(m *release.Manifest) *rebuildReport {
	r := &rebuildReport{ManifestHash: m.Hash().String(), Product: m.Product, Version: m.Version, Channel: m.Channel, Targets: []string{}}
	for _, t := range m.Targets {
		r.Targets = append(r.Targets, t.Key().String())
	}
	return r
}

// optionalPolicy reads --policy if it was given.
func optionalPolicy(path string) (*release.Policy, error) {
	if path == "" {
		return nil, nil
	}
	return readPolicy(path)
}

// checkSignatures checks the manifest's developer signatures under policy, if any,
// with the check every node makes (Policy.VerifyManifest), and records what each
// signature is worth.
func (r *rebuildReport) checkSignatures(policy *release.Policy, sm *release.SignedManifest, signedFile bool) error {
	if policy == nil {
		return nil
	}
	c := policy.CheckSignatures(sm.Manifest, sm.Signatures)
	r.SignaturesChecked, r.Threshold, r.Signatures = true, policy.Threshold(), nonNilCheck(c)
	if !signedFile {
		return fmt.Errorf("%w: an unsigned manifest: have developers sign it (release sign)", release.ErrThreshold)
	}
	_, err := policy.VerifyManifest(sm)
	return err
}

// nonNilCheck makes empty lists [] rather than null in JSON.
func nonNilCheck(c release.SignatureCheck) *release.SignatureCheck {
	for _, l := range []*[]release.DeveloperKey{&c.Valid, &c.Unknown, &c.Invalid} {
		if *l == nil {
			*l = []release.DeveloperKey{}
		}
	}
	return &c
}

// finish prints the report and returns the command's error: the rebuild's failure
// first, then the signatures'. passed describes the rebuild when it passed.
func (r *rebuildReport) finish(w io.Writer, command, manifestFile string, asJSON bool, policy *release.Policy, rebuildErr, sigErr error, passed string, notes ...string) error {
	var err error
	switch {
	case rebuildErr != nil:
		err = fmt.Errorf("%s: %w: %w", command, errRefused, rebuildErr)
	case sigErr != nil:
		err = fmt.Errorf("%s: %s: %w: %w", command, manifestFile, errRefused, sigErr)
	}
	r.OK = err == nil
	if err != nil {
		r.Error = err.Error()
	}
	if asJSON {
		if werr := writeJSON(w, r); werr != nil {
			return werr
		}
		return err
	}
	if r.Rebuilt {
		verdict := "ok"
		if !r.OK {
			verdict = "rebuilt"
		}
		fmt.Fprintf(w, "%s: %s\n", verdict, passed)
	}
	switch {
	case !r.SignaturesChecked:
		fmt.Fprintln(w, "developer signatures not checked: give --policy with the chain's policy in force to check them as every node does")
	default:
		fmt.Fprintf(w, "developer signatures: %d of the %d policy keys signed validly, %d needed", len(r.Signatures.Valid), len(policy.Keys()), r.Threshold)
		if sigErr == nil {
			fmt.Fprint(w, ": every node with this policy accepts them")
		}
		fmt.Fprintln(w)
		for _, k := range r.Signatures.Unknown {
			fmt.Fprintf(w, "does not count: %s is not a key of the policy\n", k)
		}
		for _, k := range r.Signatures.Invalid {
			fmt.Fprintf(w, "does not count: the signature by %s does not verify\n", k)
		}
	}
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	return err
}
