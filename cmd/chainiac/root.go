package main

import "github.com/spf13/cobra"

// newRootCmd builds the command tree. Each subcommand lives in its own file and is
// added here, so this list is the whole surface of the binary.
func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "chainiac",
		Short: "Collectively signed software-update timeline",
		Long: `chainiac keeps a public, collectively signed timeline of software releases.
A cothority of independent nodes rebuilds every release from source and signs it
only if the published MAR files match; updaters follow the timeline from its
genesis block and install only what the cothority witnessed.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newBuildCmd(), newMarCmd(), newReleaseCmd(), newSimulateCmd())
	return root
}
