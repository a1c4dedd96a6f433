package main

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

func newReleasePolicyCmd() *cobra.Command {
	var threshold int
	var out string
	cmd := &cobra.Command{
		Use:   "policy --threshold T -o POLICY KEY…",
		Short: "Write a developer policy file: T of these keys must sign each release",
		Long: `Write the developer policy (TOML) that a genesis block or a policy change names.
Each KEY is a developer key file made by 'chainiac release keygen' (only its
public key is used) or a public key in hex as keygen prints it.`,
		Example: `  chainiac release policy --threshold 2 -o policy.toml alice.key bob.key 3b6a27bc…`,
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			keys := make([]release.DeveloperKey, 0, len(args))
			for _, a := range args {
				k, err := developerKey(a)
				if err != nil {
					return fmt.Errorf("release policy: %w", err)
				}
				keys = append(keys, k)
			}
			p, err := release.NewPolicy(keys, threshold)
			if err != nil {
				return fmt.Errorf("release policy: %w", err)
			}
			msg := cmd.OutOrStdout()
			if out == "-" {
				if _, err := msg.Write(p.MarshalPolicyFile()); err != nil {
					return err
				}
				msg = cmd.ErrOrStderr()
			} else if err := writeNew(out, p.MarshalPolicyFile(), 0o644); err != nil {
				return fmt.Errorf("release policy: %w", err)
			}
			fmt.Fprintf(msg, "policy %s: %d of %d keys, written to %s\n", p.Hash(), threshold, len(keys), out)
			return nil
		},
	}
	cmd.Flags().IntVar(&threshold, "threshold", 0, "how many of the keys must sign")
	cmd.Flags().StringVarP(&out, "output", "o", "", "policy file to create (never overwritten), - for standard output")
	_ = cmd.MarkFlagRequired("threshold")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

// developerKey reads a key file's public key, or a public key in hex.
func developerKey(arg string) (release.DeveloperKey, error) {
	var k release.DeveloperKey
	if _, err := os.Stat(arg); err == nil {
		b, err := readBounded(arg, release.MaxTextFileSize)
		if err != nil {
			return k, err
		}
		if s, err := release.ParseKeyFile(b); err == nil {
			return s.Public(), nil
		}
		if err := k.UnmarshalText([]byte(strings.TrimSpace(string(b)))); err == nil {
			return k, nil
		}
		return k, fmt.Errorf("%s: neither a developer key file nor a public key", arg)
	}
	if err := k.UnmarshalText([]byte(arg)); err != nil {
		return k, fmt.Errorf("%q: no such file, and not a public key in hex: %w", arg, err)
	}
	return k, nil
}

func newReleaseTreeDigestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tree-digest DIR|ARCHIVE",
		Short: "Print the SHA-256 a manifest names for a source directory or archive",
		Long: `Print what --source-sha256 of 'release manifest' names for a source: for a
directory (nodes building from a directory), its tree digest; for an archive
file (what nodes fetch from the --source URL), the SHA-256 of the file, as
sha256sum prints it.`,
		Example: `  chainiac release tree-digest demo-browser-2.0.tar.gz
  chainiac release tree-digest ./demo-browser-2.0`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			limits := build.DefaultLimits()
			var d release.Hash256
			st, err := os.Stat(args[0])
			switch {
			case errors.Is(err, fs.ErrNotExist):
				return fmt.Errorf("release tree-digest: %s does not exist: give the source directory or archive", args[0])
			case err != nil:
				return fmt.Errorf("release tree-digest: %w", err)
			case st.Mode().IsRegular():
				_, err = hashSource(args[0], limits.MaxSourceBytes, d[:])
			default:
				d, err = build.TreeDigest(args[0], limits)
			}
			if err != nil {
				return fmt.Errorf("release tree-digest: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), d)
			return nil
		},
	}
	return cmd
}

// hashSource writes the SHA-256 of an archive of at most max bytes into dst.
func hashSource(path string, max int64, dst []byte) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, max+1))
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if n > max {
		return 0, fmt.Errorf("%s: larger than %d bytes, the most a node fetches", path, max)
	}
	copy(dst, h.Sum(nil))
	return n, nil
}

func newReleaseRebuildCmd() *cobra.Command {
	var manifestFile, source, signedDir, policyFile string
	var recipeArgs []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "rebuild --manifest MANIFEST --source FILE|DIR|URL [--signed DIR] [--policy POLICY] [--recipe NAME=COMMAND…] [--json]",
		Short: "Run the whole check a node runs before it signs: signatures, fetch, hash, rebuild, compare",
		Long: `Rebuild a release the way every node will before it signs: fetch the source
(a local archive or directory, or an http(s) URL), check its SHA-256 against the
manifest, run the manifest's recipe in a fresh workspace, fetch each signed MAR
from its URL (or take it from --signed DIR/<platform>/<locale>.mar), and check that
every rebuilt MAR is the manifest's unsigned MAR and every signed MAR that MAR plus
signatures. The recipe reference/v2 is this binary's reference builder; other
recipes are given as --recipe NAME=COMMAND (run with /bin/sh -c in the source).

With --policy (the chain's developer policy in force) the manifest's developer
signatures are checked as every node checks them, and each one that does not count
is named: "ok" then means every node with the recipe will sign. Without --policy
the signatures are not checked, and the output says so.
Exit status 3 when the release does not rebuild or its signatures do not suffice.`,
		Example: `  chainiac release rebuild --manifest signed-2.0.bin --source demo-browser-2.0.tar.gz --policy policy.toml
  chainiac release rebuild --manifest manifest.bin --source ./src --signed signed --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sm, signedFile, err := readManifestFile(manifestFile)
			if err != nil {
				return fmt.Errorf("release rebuild: %w", err)
			}
			m, err := release.ParseManifest(sm.Manifest)
			if err != nil {
				return fmt.Errorf("release rebuild: %s: %w", manifestFile, err)
			}
			policy, err := optionalPolicy(policyFile)
			if err != nil {
				return fmt.Errorf("release rebuild: %w", err)
			}
			recipes := map[string]build.Recipe{}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("release rebuild: %w", err)
			}
			recipes[build.ReferenceRecipeName] = build.ReferenceRecipe(exe)
			for _, a := range recipeArgs {
				name, command, ok := strings.Cut(a, "=")
				if !ok || name == "" || command == "" {
					return usageError{fmt.Errorf("release rebuild: --recipe %q: want NAME=COMMAND", a)}
				}
				if name == build.ReferenceRecipeName {
					return usageError{fmt.Errorf("release rebuild: --recipe: %s is the reference builder every node runs; it cannot be replaced", name)}
				}
				r := build.ReferenceRecipe(exe) // its limits and output layout
				r.Name, r.Command = name, []string{"/bin/sh", "-c", command}
				recipes[name] = r
			}
			recipe, ok := recipes[m.Recipe]
			if !ok {
				return usageError{fmt.Errorf("release rebuild: the manifest names recipe %q: give --recipe %s=COMMAND", m.Recipe, m.Recipe)}
			}
			work, err := os.MkdirTemp("", "chainiac-rebuild-")
			if err != nil {
				return fmt.Errorf("release rebuild: %w", err)
			}
			defer os.RemoveAll(work)
			runner, err := build.NewRunner(build.Config{WorkDir: work})
			if err != nil {
				return fmt.Errorf("release rebuild: %w", err)
			}
			r := newRebuildReport(m)
			r.LocalFiles = !isURL(source) || signedDir != ""
			sigErr := r.checkSignatures(policy, sm, signedFile)
			ctx := contextOf(cmd)
			start := time.Now()
			res, rebuildErr := runner.Run(ctx, recipe, m, source)
			r.Seconds = time.Since(start).Seconds()
			if rebuildErr == nil {
				defer res.Close()
				var signed map[release.TargetKey]string
				if signedDir != "" {
					signed, err = build.FindMARs(signedDir)
				} else {
					signed, err = build.FetchSignedMARs(ctx, http.DefaultClient, m, filepath.Join(work, "signed"), build.DefaultLimits().FetchTimeout)
				}
				if err != nil {
					return fmt.Errorf("release rebuild: %w", err)
				}
				rebuildErr = build.CheckRebuild(m, res.Paths(), signed)
			}
			r.Rebuilt = rebuildErr == nil
			var notes []string
			if r.LocalFiles {
				notes = append(notes, "note: from local files; nodes fetch the source and the signed MARs from their http(s) URLs")
			}
			return r.finish(cmd.OutOrStdout(), "release rebuild", manifestFile, asJSON, policy, rebuildErr, sigErr,
				fmt.Sprintf("%s %s rebuilt in %.1f s: %d targets match the manifest; each signed MAR is its rebuild plus signatures",
					m.Product, m.Version, r.Seconds, len(m.Targets)), notes...)
		},
	}
	cmd.Flags().StringVar(&manifestFile, "manifest", "", "manifest or signed manifest")
	cmd.Flags().StringVar(&source, "source", "", "source archive, directory or http(s) URL")
	cmd.Flags().StringVar(&signedDir, "signed", "", "directory of signed MARs (default: fetch each from its URL)")
	cmd.Flags().StringVar(&policyFile, "policy", "", "developer policy in force: also check the manifest's developer signatures")
	cmd.Flags().StringArrayVar(&recipeArgs, "recipe", nil, "a recipe other than reference/v2: NAME=COMMAND")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("manifest")
	_ = cmd.MarkFlagRequired("source")
	return cmd
}

func isURL(s string) bool { return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://") }
