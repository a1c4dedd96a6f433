package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

func newReleaseCheckCmd() *cobra.Command {
	var manifestFile, rebuiltDir, signedDir string
	cmd := &cobra.Command{
		Use:     "check --manifest MANIFEST --rebuilt DIR --signed DIR",
		Short:   "Check rebuilt and signed MARs against a manifest, as a node does before it cosigns",
		Example: `  chainiac release check --manifest manifest.bin --rebuilt out --signed signed`,
		Long: `Check a release's MAR files against its manifest (or signed manifest), as a node
does before it cosigns: every rebuilt MAR has the manifest's unsigned SHA-256 and size,
every signed MAR its signed SHA-512 and size and at least one signature, both carry
the manifest's channel and version, and each signed MAR without its signatures is
its rebuilt MAR byte for byte. Both directories hold <platform>/<locale>.mar, one
file per manifest target and no others.

Neither the developer signatures on the manifest (use release verify) nor the RSA
signatures in the MARs (use mar verify with the release keys) are verified here.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			sm, _, err := readManifestFile(manifestFile)
			if err != nil {
				return err
			}
			m, err := release.ParseManifest(sm.Manifest)
			if err != nil {
				return err
			}
			rebuilt, err := build.FindMARs(rebuiltDir)
			if err != nil {
				return fmt.Errorf("release check: --rebuilt: %w", err)
			}
			signed, err := build.FindMARs(signedDir)
			if err != nil {
				return fmt.Errorf("release check: --signed: %w", err)
			}
			if err := build.CheckRebuild(m, rebuilt, signed); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s %s (manifest %s): %d targets rebuilt identically; each signed MAR is its rebuilt MAR plus signatures\n",
				m.Product, m.Version, m.Hash(), len(m.Targets))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&manifestFile, "manifest", "", "manifest or signed manifest")
	f.StringVar(&rebuiltDir, "rebuilt", "", "directory of rebuilt unsigned MARs, <platform>/<locale>.mar")
	f.StringVar(&signedDir, "signed", "", "directory of signed MARs, <platform>/<locale>.mar")
	for _, name := range []string{"manifest", "rebuilt", "signed"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}
