package main

import (
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

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
		Version:       version(),
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			ownSignals.Store(cmd.Annotations[signalsAnnotation] == "own")
			// Cobra checks these after this hook, with errors of its own: a missing
			// required flag is a usage error (exit status 2) like a bad one.
			if err := cmd.ValidateRequiredFlags(); err != nil {
				return usageError{err}
			}
			if err := cmd.ValidateFlagGroups(); err != nil {
				return usageError{err}
			}
			return nil
		},
	}
	root.AddCommand(newBuildCmd(), newMarCmd(), newReleaseCmd(), newSimulateCmd(),
		newNodeCmd(), newChainCmd(), newExportCmd(), newUpdateCmd(), newDemoCmd(),
		newRosterCmd(), newPolicyCmd(), newMonitorCmd())
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	for _, c := range root.Commands() {
		requireSubcommand(c)
	}
	argsAreUsage(root)
	return root
}

// argsAreUsage makes a wrong number of arguments a usage error (exit status 2) in
// every command.
func argsAreUsage(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		argsAreUsage(c)
	}
	if check := cmd.Args; check != nil {
		cmd.Args = func(c *cobra.Command, args []string) error {
			if err := check(c, args); err != nil {
				return usageError{err}
			}
			return nil
		}
	}
}

// signalsAnnotation marks a command that stops cleanly on SIGINT and SIGTERM itself.
const signalsAnnotation = "signals"

// ownsSignals marks cmd as stopping cleanly on a signal by itself.
func ownsSignals(cmd *cobra.Command) *cobra.Command {
	cmd.Annotations = map[string]string{signalsAnnotation: "own"}
	return cmd
}

// requireSubcommand makes every command group below root fail on a missing or unknown
// subcommand. Cobra would print the group's help and exit 0, so a script running a
// mistyped `chainiac release verfy signed.bin` would take it for a passed check.
func requireSubcommand(cmd *cobra.Command) {
	for _, c := range cmd.Commands() {
		requireSubcommand(c)
	}
	if cmd.Runnable() || !cmd.HasSubCommands() {
		return
	}
	cmd.Args = cobra.NoArgs // an unknown subcommand: `unknown command "verfy" for "chainiac release"`
	cmd.RunE = func(c *cobra.Command, _ []string) error {
		return fmt.Errorf("%s: missing subcommand (see %s --help)", c.CommandPath(), c.CommandPath())
	}
}

// version is the module version and, for a build from a checkout, the commit and
// whether the tree had changes.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := info.Main.Version
	var rev, dirty string
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+changes"
			}
		}
	}
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		v += " (" + rev + dirty + ")"
	}
	return v + ", " + info.GoVersion
}
