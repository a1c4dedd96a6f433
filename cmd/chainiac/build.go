package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"sort"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

// newBuildCmd groups the builders a recipe can run.
func newBuildCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "build",
		Short: "Build unsigned release MARs from a source tree",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newBuildReferenceCmd())
	return cmd
}

func newBuildReferenceCmd() *cobra.Command {
	var src, out string
	// Each parameter flag and the environment variable the recipe runner sets for it.
	referenceFlagEnv := []struct{ flag, env string }{
		{"product", "CHAINIAC_PRODUCT"},
		{"version", "CHAINIAC_VERSION"},
		{"channel", "CHAINIAC_CHANNEL"},
		{"targets", "CHAINIAC_TARGETS"},
		{"source-date-epoch", "SOURCE_DATE_EPOCH"},
	}
	values := make([]string, len(referenceFlagEnv))
	cmd := &cobra.Command{
		Use:     "reference [--source DIR] [--output DIR] [--product P --version V --channel C --targets platform/locale,... --source-date-epoch N]",
		Short:   "Build one unsigned MAR per target with the deterministic reference builder (recipe reference/v2)",
		Example: `  chainiac build reference --source demo-browser-2.0 --output out   # as a node's recipe runs it`,
		Long: `Build one unsigned MAR per target from a source tree with chainiac's deterministic
reference builder, as OUT/<platform>/<locale>.mar. OUT must not exist or be empty.

The tree holds chainiac-build.toml (format, product, platforms, locales) and the files
to ship under common/, platform/<platform>/ and locale/<locale>/; see docs/release.md.
Each parameter not given as a flag is read from the environment the recipe runner
sets (CHAINIAC_PRODUCT, CHAINIAC_VERSION, CHAINIAC_CHANNEL, CHAINIAC_TARGETS,
SOURCE_DATE_EPOCH), so that the recipe runs this command without arguments.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			given := map[string]string{}
			for i, fe := range referenceFlagEnv {
				switch {
				case cmd.Flags().Changed(fe.flag):
					given[fe.env] = values[i]
				case os.Getenv(fe.env) != "":
					given[fe.env] = os.Getenv(fe.env)
				default:
					return usageError{fmt.Errorf("build reference: give --%s or set %s", fe.flag, fe.env)}
				}
			}
			p, err := build.ReferenceParamsFromEnv(func(name string) string { return given[name] })
			if err != nil {
				return usageError{fmt.Errorf("build reference: %w", err)}
			}
			paths, err := build.BuildReference(cmd.Context(), src, out, p)
			if err != nil {
				return fmt.Errorf("build reference: %w", err)
			}
			keys := make([]release.TargetKey, 0, len(paths))
			for k := range paths {
				keys = append(keys, k)
			}
			sort.Slice(keys, func(i, j int) bool { return keys[i].Less(keys[j]) })
			for _, k := range keys {
				var sum [sha256.Size]byte
				n, err := hashFile(paths[k], sha256.New(), sum[:])
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %x %d %s\n", k, sum, n, paths[k])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&src, "source", ".", "source tree")
	// --src was this flag's first name; every other command says --source.
	f.StringVar(&src, "src", ".", "source tree (old name of --source)")
	_ = f.MarkHidden("src")
	f.StringVarP(&out, "output", "o", "out", "output directory (must not exist or be empty)")
	f.StringVar(&values[0], "product", "", "product; must match the tree's chainiac-build.toml (default $CHAINIAC_PRODUCT)")
	f.StringVar(&values[1], "version", "", "version written into every MAR (default $CHAINIAC_VERSION)")
	f.StringVar(&values[2], "channel", "", "MAR channel (default $CHAINIAC_CHANNEL)")
	f.StringVar(&values[3], "targets", "", "platform/locale list, comma- or space-separated (default $CHAINIAC_TARGETS)")
	f.StringVar(&values[4], "source-date-epoch", "", "build time, seconds since 1970 UTC (default $SOURCE_DATE_EPOCH)")
	return cmd
}
