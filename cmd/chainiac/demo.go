package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/demo"
)

func newDemoCmd() *cobra.Command {
	var o demo.Options
	var keep, asJSON bool
	cmd := &cobra.Command{
		Use:   "demo [--nodes 7] [--dir DIR] [--keep] [--json]",
		Short: "Run the whole system on 127.0.0.1: a cothority, releases, a refused tampered release, the updater",
		Long: `Start a local cothority (real nodes over TCP on 127.0.0.1, each with its own key
and store), create a chain, have every node rebuild and sign three releases of a
sample product, rotate one node out of the roster and one in, show every node
refusing a tampered release, then serve a static export as a CDN would and let
the updater, knowing only the genesis ID, verify and download the newest MAR by
the express path and by forward links. No set-up, no network beyond 127.0.0.1.
With --keep the cothority and the mirror keep running until Ctrl-C.`,
		Example: `  chainiac demo
  chainiac demo --nodes 4 --json | jq .updaters`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(contextOf(cmd), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if !asJSON {
				o.Out = cmd.OutOrStdout()
				o.Color = isTerminal(cmd.OutOrStdout())
			}
			start := time.Now()
			d, err := demo.Run(ctx, o)
			if err != nil {
				return err
			}
			defer d.Close()
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), d.Summary()); err != nil {
					return err
				}
			} else {
				fmt.Fprintf(cmd.OutOrStdout(), "done in %.1f s\n", time.Since(start).Seconds())
			}
			if keep {
				s := d.Summary()
				fmt.Fprintf(cmd.ErrOrStderr(), "running until Ctrl-C: nodes %v, static mirror %s, genesis %s\n", s.Nodes, s.Mirror, s.Genesis)
				<-ctx.Done()
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Nodes, "nodes", 7, "roster size (one more node joins in the rotation)")
	cmd.Flags().StringVar(&o.Dir, "dir", "", "working directory (default: a temporary one, removed at the end)")
	cmd.Flags().BoolVar(&keep, "keep", false, "leave the cothority and the mirror running until Ctrl-C")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print only a JSON summary")
	return ownsSignals(cmd)
}

// isTerminal reports whether w is a character device (colour is for people only).
func isTerminal(w any) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
