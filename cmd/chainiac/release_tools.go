package main

import (
	"fmt"
	"os"
	"strings"

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
			if err := writeNew(out, p.MarshalPolicyFile(), 0o644); err != nil {
				return fmt.Errorf("release policy: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "policy %s: %d of %d keys, written to %s\n", p.Hash(), threshold, len(keys), out)
			return nil
		},
	}
	cmd.Flags().IntVar(&threshold, "threshold", 0, "how many of the keys must sign")
	cmd.Flags().StringVarP(&out, "output", "o", "", "policy file to create (never overwritten)")
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
		Use:   "tree-digest DIR",
		Short: "Print the SHA-256 a manifest names for a source directory",
		Long: `Print the tree digest of a source directory: what --source-sha256 of
'release manifest' names when the nodes build from a directory rather than an
archive (for an archive, its file's SHA-256: sha256sum).`,
		Example: `  chainiac release tree-digest ./demo-browser-2.0`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := build.TreeDigest(args[0], build.DefaultLimits())
			if err != nil {
				return fmt.Errorf("release tree-digest: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), d)
			return nil
		},
	}
	return cmd
}
