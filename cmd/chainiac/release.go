package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
	"github.com/spf13/cobra"
)

// maxReleaseInput bounds every manifest, signed-manifest or policy file the release
// commands read: the largest valid signed manifest is a little over 1 MiB.
const maxReleaseInput = 2 << 20

func newReleaseCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "release",
		Short: "Developer tools: keys, manifests, signatures, verification",
		Long: `Tools for the release team. A release is a manifest (source, recipe, and the
unsigned and signed MAR files of every target) signed by a threshold of developer
keys listed in the developer policy. See docs/release.md.`,
	}
	cmd.AddCommand(newReleaseKeygenCmd(), newReleaseManifestCmd(), newReleaseSignCmd(),
		newReleaseShowCmd(), newReleaseVerifyCmd(), newReleaseCheckCmd(), newReleaseProposeCmd(),
		newReleasePolicyCmd(), newReleaseTreeDigestCmd(), newReleaseRebuildCmd())
	return cmd
}

func newReleaseKeygenCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:     "keygen -o KEYFILE",
		Short:   "Make a developer signing key (file mode 0600) and print its public key",
		Example: `  chainiac release keygen -o alice.key`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := release.GenerateDeveloperKey(rand.Reader)
			if err != nil {
				return err
			}
			if out == "-" {
				return usageError{errors.New("release keygen: a private key is never written to standard output: give a file name")}
			}
			if err := writeNew(out, s.MarshalKeyFile(), 0o600); err != nil {
				return fmt.Errorf("release keygen: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), s.Public())
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "key file to create (never overwritten)")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newReleaseManifestCmd() *cobra.Command {
	var (
		m                   release.Manifest
		commit, source, out string
		targets             []string
		unsignedDir         string
		signedDir, baseURL  string
		force               bool
	)
	cmd := &cobra.Command{
		Use:   "manifest --product P --version V --channel C --source-date-epoch N --recipe R --git-commit HEX --source-sha256 HEX (--target SPEC … | --unsigned DIR --signed DIR --base-url URL) -o manifest.bin",
		Short: "Write an unsigned manifest from the MAR files, refusing what no node would sign",
		Long: `Write the manifest of a release, hashing its MAR files. Targets come either from
--target platform,locale,unsigned.mar,signed.mar,url (repeated), or from two
directories of <platform>/<locale>.mar (as the reference builder writes them) with
each signed MAR's URL being --base-url/<platform>/<locale>.mar.

Every file is opened as a MAR and the release is checked as a node would check
its rebuild: an unsigned MAR must carry no signature and a signed one at least
one, each signed MAR without its signatures must be its unsigned MAR byte for
byte, both must carry --channel and --version, and no file may serve two targets.`,
		Example: `  chainiac release manifest --product demo-browser --version 2.0 --channel release \
      --source-date-epoch 1764547200 --recipe reference/v2 --git-commit 4f3c… --source-sha256 9a1e… \
      --unsigned out --signed signed --base-url https://dist.example/2.0 -o manifest.bin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := m.GitCommit.UnmarshalText([]byte(commit)); err != nil {
				return usageError{fmt.Errorf("release manifest: --git-commit: %w", err)}
			}
			if err := m.SourceSHA256.UnmarshalText([]byte(source)); err != nil {
				return usageError{fmt.Errorf("release manifest: --source-sha256: %w", err)}
			}
			unsigned, signed := map[release.TargetKey]string{}, map[release.TargetKey]string{}
			switch {
			case len(targets) > 0 && (unsignedDir != "" || signedDir != ""):
				return usageError{errors.New("release manifest: --target or --unsigned/--signed, not both")}
			case len(targets) > 0:
				for _, spec := range targets {
					t, u, sg, err := targetFromFiles(spec)
					if err != nil {
						return fmt.Errorf("release manifest: --target %q: %w", spec, err)
					}
					m.Targets = append(m.Targets, t)
					unsigned[t.Key()], signed[t.Key()] = u, sg
				}
			case unsignedDir != "" && signedDir != "" && baseURL != "":
				var err error
				if m.Targets, unsigned, signed, err = targetsFromDirs(unsignedDir, signedDir, baseURL); err != nil {
					return fmt.Errorf("release manifest: %w", err)
				}
			default:
				return usageError{errors.New("release manifest: give --target SPEC (repeated) or --unsigned DIR --signed DIR --base-url URL")}
			}
			if err := m.Validate(); err != nil {
				return fmt.Errorf("release manifest: %w", err)
			}
			if err := checkTargetFiles(&m, unsigned, signed); err != nil {
				return fmt.Errorf("release manifest: %w", err)
			}
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("release manifest: %w", err)
			}
			if err := emit(cmd, out, m.Encode(), "manifest %s written to %s", m.Hash(), out); err != nil {
				return fmt.Errorf("release manifest: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&m.Product, "product", "", "product name, e.g. tor-browser")
	f.StringVar(&m.Version, "version", "", "release version, e.g. 14.0.1")
	f.StringVar(&m.Channel, "channel", "", "MAR channel, e.g. release")
	f.Uint64Var(&m.SourceDateEpoch, "source-date-epoch", 0, "SOURCE_DATE_EPOCH of the build (seconds since 1970 UTC)")
	f.StringVar(&m.Recipe, "recipe", "", "build recipe name nodes rebuild with, e.g. reference/v2")
	f.StringVar(&commit, "git-commit", "", "source git commit (40 hex digits, SHA-1 object ID)")
	f.StringVar(&source, "source-sha256", "", "SHA-256 of the source archive (64 hex digits)")
	f.StringArrayVar(&targets, "target", nil, "platform,locale,unsigned.mar,signed.mar,url (repeat per target)")
	f.StringVar(&unsignedDir, "unsigned", "", "directory of unsigned MARs, <platform>/<locale>.mar")
	f.StringVar(&signedDir, "signed", "", "directory of signed MARs, <platform>/<locale>.mar")
	f.StringVar(&baseURL, "base-url", "", "where updaters download the signed MARs: URL/<platform>/<locale>.mar")
	f.StringVarP(&out, "output", "o", "", "manifest file to write")
	f.BoolVar(&force, "force", false, "replace an existing output file")
	for _, name := range []string{"product", "version", "channel", "source-date-epoch", "recipe", "git-commit", "source-sha256", "output"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

// targetsFromDirs makes one target per signed MAR found under signedDir, with its
// unsigned MAR at the same place under unsignedDir.
func targetsFromDirs(unsignedDir, signedDir, baseURL string) ([]release.Target, map[release.TargetKey]string, map[release.TargetKey]string, error) {
	unsigned, err := build.FindMARs(unsignedDir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--unsigned: %w", err)
	}
	signed, err := build.FindMARs(signedDir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("--signed: %w", err)
	}
	var out []release.Target
	for k, sp := range signed {
		up, ok := unsigned[k]
		if !ok {
			return nil, nil, nil, fmt.Errorf("%s has a signed MAR for %s but %s has no unsigned one", signedDir, k, unsignedDir)
		}
		t, err := targetOf(k, up, sp, strings.TrimSuffix(baseURL, "/")+"/"+k.Platform+"/"+k.Locale+".mar")
		if err != nil {
			return nil, nil, nil, err
		}
		out = append(out, t)
	}
	for k := range unsigned {
		if _, ok := signed[k]; !ok {
			return nil, nil, nil, fmt.Errorf("%s has an unsigned MAR for %s but %s has no signed one", unsignedDir, k, signedDir)
		}
	}
	return out, unsigned, signed, nil
}

// checkTargetFiles refuses what no node would sign, as CheckRebuild (the node's own
// check, with the unsigned MARs standing for its rebuild) finds it, and, as a guard
// against a mix-up that nodes would not notice, one file serving two targets.
func checkTargetFiles(m *release.Manifest, unsigned, signed map[release.TargetKey]string) error {
	seen := map[string]release.TargetKey{}
	for _, t := range m.Targets {
		for _, h := range []string{t.UnsignedSHA256.String(), t.SignedSHA512.String()} {
			if other, dup := seen[h]; dup {
				return fmt.Errorf("targets %s and %s are the same file: a mix-up? (nodes would accept it; two targets need two builds)", other, t.Key())
			}
			seen[h] = t.Key()
		}
	}
	if err := build.CheckRebuild(m, unsigned, signed); err != nil {
		if errors.Is(err, build.ErrRebuildMismatch) {
			return fmt.Errorf("%w: no node would sign this release: %w", errRefused, err)
		}
		return fmt.Errorf("no node would sign this release: %w", err)
	}
	return nil
}

// targetFromFiles parses "platform,locale,unsigned.mar,signed.mar,url" (the URL comes
// last so that it may contain commas) and returns the target with its two files.
func targetFromFiles(spec string) (release.Target, string, string, error) {
	parts := strings.SplitN(spec, ",", 5)
	if len(parts) != 5 {
		return release.Target{}, "", "", errors.New("want platform,locale,unsigned.mar,signed.mar,url")
	}
	t, err := targetOf(release.TargetKey{Platform: parts[0], Locale: parts[1]}, parts[2], parts[3], parts[4])
	return t, parts[2], parts[3], err
}

// targetOf hashes a target's two files.
func targetOf(k release.TargetKey, unsigned, signed, url string) (release.Target, error) {
	t := release.Target{Platform: k.Platform, Locale: k.Locale, URL: url}
	var err error
	if t.UnsignedSize, err = hashFile(unsigned, sha256.New(), t.UnsignedSHA256[:]); err != nil {
		return t, err
	}
	if t.SignedSize, err = hashFile(signed, sha512.New(), t.SignedSHA512[:]); err != nil {
		return t, err
	}
	return t, nil
}

type hasher interface {
	io.Writer
	Sum([]byte) []byte
}

// hashFile hashes a MAR file of at most release.MaxMARSize bytes into dst.
func hashFile(path string, h hasher, dst []byte) (uint64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := io.Copy(h, io.LimitReader(f, release.MaxMARSize+1))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if n > release.MaxMARSize {
		return 0, fmt.Errorf("%s: larger than %d bytes", path, release.MaxMARSize)
	}
	copy(dst, h.Sum(nil))
	return uint64(n), nil
}

func newReleaseSignCmd() *cobra.Command {
	var keyFile, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "sign --key KEYFILE FILE -o SIGNED",
		Short: "Add this developer's signature to a manifest, a roster change or a policy change",
		Long: `Sign a manifest (or add a signature to a signed manifest), a roster-change
statement or a policy-change statement. Signatures from several developers
accumulate; signing twice with one key is refused, so a count is never mistaken.`,
		Example: `  chainiac release sign --key alice.key manifest.bin -o signed.bin
  chainiac release sign --key bob.key signed.bin -o signed.bin
  chainiac release sign --key alice.key roster-change.bin -o roster-change.bin`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keyText, err := readBounded(keyFile, release.MaxTextFileSize)
			if err != nil {
				return fmt.Errorf("release sign: %w", err)
			}
			signer, err := release.ParseKeyFile(keyText)
			if err != nil {
				return fmt.Errorf("release sign: %s: %w", keyFile, err)
			}
			if err := guardOutput(out, force, []string{keyFile}, args[0]); err != nil {
				return fmt.Errorf("release sign: %w", err)
			}
			data, n, err := signFile(args[0], signer)
			if err != nil {
				return fmt.Errorf("release sign: %w", err)
			}
			if err := emit(cmd, out, data, "signed by %s: %d signatures in %s", signer.Public(), n, out); err != nil {
				return fmt.Errorf("release sign: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key", "", "developer key file (from release keygen)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (may be the input)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file other than the input")
	_ = cmd.MarkFlagRequired("key")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// signFile adds signer's signature to the manifest, signed manifest, roster change or
// policy change in path, and returns the new encoding and its signature count.
func signFile(path string, signer *release.Signer) ([]byte, int, error) {
	b, err := readBounded(path, maxReleaseInput)
	if err != nil {
		return nil, 0, err
	}
	// already refuses a second signature by this key; a signature that does not
	// verify is no signature (it is dropped, and said), so a forged entry under
	// someone's key cannot keep them from signing or pass for theirs.
	var dropped int
	already := func(msg []byte, sigs *[]release.Signature) error {
		kept := (*sigs)[:0:0]
		for _, s := range *sigs {
			if !ed25519.Verify(s.Key[:], msg, s.Signature[:]) {
				dropped++
				continue
			}
			if s.Key == signer.Public() {
				return fmt.Errorf("%w: %s already carries the signature of %s: each developer signs once", errRefused, path, signer.Public())
			}
			kept = append(kept, s)
		}
		*sigs = kept
		return nil
	}
	defer func() {
		if dropped > 0 {
			fmt.Fprintf(os.Stderr, "release sign: dropped %d signature(s) in %s that do not verify\n", dropped, path)
		}
	}()
	switch {
	case hasTag(b, release.TagSignedRosterChange):
		rc, err := release.ParseRosterChange(b)
		if err != nil {
			return nil, 0, notValid(path, "roster change", err)
		}
		if err := already(rc.Statement, &rc.Signatures); err != nil {
			return nil, 0, err
		}
		if err := signer.SignRosterChange(rc); err != nil {
			return nil, 0, err
		}
		return rc.Encode(), len(rc.Signatures), nil
	case hasTag(b, release.TagSignedPolicyChange):
		pc, err := release.ParsePolicyChange(b)
		if err != nil {
			return nil, 0, notValid(path, "policy change", err)
		}
		if err := already(pc.Statement, &pc.Signatures); err != nil {
			return nil, 0, err
		}
		if err := signer.SignPolicyChange(pc); err != nil {
			return nil, 0, err
		}
		return pc.Encode(), len(pc.Signatures), nil
	}
	sm, _, err := parseManifestFile(path, b)
	if err != nil {
		return nil, 0, err
	}
	if err := already(sm.Manifest, &sm.Signatures); err != nil {
		return nil, 0, err
	}
	if err := signer.SignManifest(sm); err != nil {
		return nil, 0, err
	}
	return sm.Encode(), len(sm.Signatures), nil
}

// verifyOutput is what `release verify --json` prints.
type verifyOutput struct {
	OK           bool                   `json:"ok"`
	ManifestHash string                 `json:"manifest_hash"`
	Product      string                 `json:"product"`
	Version      string                 `json:"version"`
	Channel      string                 `json:"channel"`
	Threshold    int                    `json:"threshold"`
	Signatures   release.SignatureCheck `json:"signatures"`
}

func newReleaseVerifyCmd() *cobra.Command {
	var policyFile string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify --policy POLICYFILE SIGNED-MANIFEST [--json]",
		Short: "Check that a threshold of policy keys signed the manifest; name every signature that does not count",
		Example: `  chainiac release verify --policy policy.toml signed.bin
  chainiac release verify --policy policy.toml signed.bin --json | jq .signatures`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			policy, err := readPolicy(policyFile)
			if err != nil {
				return fmt.Errorf("release verify: %w", err)
			}
			sm, _, err := readManifestFile(args[0])
			if err != nil {
				return fmt.Errorf("release verify: %w", err)
			}
			check := policy.CheckSignatures(sm.Manifest, sm.Signatures)
			m, verr := policy.VerifyManifest(sm)
			o := verifyOutput{OK: verr == nil, Threshold: policy.Threshold(), Signatures: check}
			if m != nil {
				o.ManifestHash, o.Product, o.Version, o.Channel = m.Hash().String(), m.Product, m.Version, m.Channel
			}
			w := cmd.OutOrStdout()
			if asJSON {
				if err := writeJSON(w, &o); err != nil {
					return err
				}
			} else {
				if verr == nil {
					fmt.Fprintf(w, "ok: manifest %s (%s %s, channel %s) signed by %d of the %d policy keys, %d needed\n",
						m.Hash(), m.Product, m.Version, m.Channel, len(check.Valid), len(policy.Keys()), policy.Threshold())
				}
				for _, k := range check.Unknown {
					fmt.Fprintf(w, "does not count: %s is not a key of the policy\n", k)
				}
				for _, k := range check.Invalid {
					fmt.Fprintf(w, "does not count: the signature by %s does not verify\n", k)
				}
			}
			if verr != nil {
				return fmt.Errorf("release verify: %s: %w: %w", args[0], errRefused, verr)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&policyFile, "policy", "", "developer policy: TOML policy file, or a policy encoding")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("policy")
	return cmd
}

// readPolicy accepts the TOML policy file or the binary policy encoding (as it appears
// in a genesis block).
func readPolicy(path string) (*release.Policy, error) {
	b, err := readBounded(path, release.MaxTextFileSize)
	if err != nil {
		return nil, fmt.Errorf("policy: %w", err)
	}
	var p *release.Policy
	if hasTag(b, release.TagPolicy) {
		p, err = release.ParsePolicy(b)
	} else {
		p, err = release.ParsePolicyFile(b)
	}
	return p, notValid(path, "developer policy", err)
}

// readManifestFile reads a manifest or a signed manifest, telling them apart by their
// domain tag, and returns it as a (possibly unsigned) SignedManifest.
func readManifestFile(path string) (*release.SignedManifest, bool, error) {
	b, err := readBounded(path, maxReleaseInput)
	if err != nil {
		return nil, false, err
	}
	return parseManifestFile(path, b)
}

// parseManifestFile is readManifestFile on bytes already read from path.
func parseManifestFile(path string, b []byte) (*release.SignedManifest, bool, error) {
	switch {
	case hasTag(b, release.TagSignedManifest):
		sm, err := release.ParseSignedManifest(b)
		return sm, true, notValid(path, "signed manifest", err)
	case hasTag(b, release.TagManifest):
		m, err := release.ParseManifest(b)
		if err != nil {
			return nil, false, notValid(path, "manifest", err)
		}
		sm, err := release.NewSignedManifest(m)
		return sm, false, err
	}
	return nil, false, fmt.Errorf("%s is neither a manifest nor a signed manifest", inputName(path))
}

func hasTag(b []byte, tag string) bool {
	return len(b) > len(tag) && int(b[0]) == len(tag) && string(b[1:1+len(tag)]) == tag
}

// readBounded reads a file of at most max bytes; "-" is standard input.
func readBounded(path string, max int64) ([]byte, error) {
	if path == "-" {
		return nodeclient.ReadAtMost(os.Stdin, max)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, max)
	}
	return b, nil
}
