package main

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/chainiac/chainiac/simulation"
	"github.com/spf13/cobra"
	"go.dedis.ch/onet/v3/log"
)

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Measure chainiac's protocols on many nodes in one process",
	}
	cmd.AddCommand(newSimulateCosiCmd())
	return cmd
}

func newSimulateCosiCmd() *cobra.Command {
	var cfg simulation.CosiConfig
	var csvPath string
	cmd := &cobra.Command{
		Use:     "cosi",
		Short:   "Collective signing rounds on a local cothority over TCP on 127.0.0.1",
		Example: `  chainiac simulate cosi --nodes 100 --rounds 10`,
		Long: `Starts --nodes onet servers in this process, each with its own cosi key, and
runs --warmup rounds followed by --rounds measured rounds of the tree signing
protocol from the first server. Each round's latency is printed; --csv writes the
measured rounds (warm-up excluded) with the header nodes,round,seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if csvPath != "" {
				// Find out now, not after the run, that the file cannot be written.
				if st, err := os.Stat(filepath.Dir(csvPath)); err != nil || !st.IsDir() {
					return usageError{fmt.Errorf("simulate cosi: --csv %s: no directory %s", csvPath, filepath.Dir(csvPath))}
				}
				if st, err := os.Stat(csvPath); err == nil && st.IsDir() {
					return usageError{fmt.Errorf("simulate cosi: --csv %s is a directory", csvPath)}
				}
			}
			dbDir, err := setUpOnet()
			if err != nil {
				return err
			}
			defer os.RemoveAll(dbDir)
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			var measured []simulation.Round
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "cosi: %d nodes, %s, %d warm-up + %d measured rounds\n",
				cfg.Nodes, treeShown(cfg), cfg.Warmup, cfg.Rounds)
			err = simulation.RunCosi(ctx, cfg, func(r simulation.Round) {
				printRound(out, r)
				if !r.Warmup && r.Err == nil {
					measured = append(measured, r)
				}
			})
			if err != nil {
				return err
			}
			printSummary(out, measured)
			if csvPath != "" {
				return writeRoundsCSV(csvPath, measured)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Nodes, "nodes", 100, "number of nodes")
	f.IntVar(&cfg.Rounds, "rounds", 10, "measured rounds")
	f.IntVar(&cfg.Warmup, "warmup", 1, "rounds run first and left out of the figures")
	f.IntVar(&cfg.Subtrees, "subtrees", 0, "sub-leaders of the two-level tree (0: ⌈√(n−1)⌉, n−1: flat)")
	f.BoolVar(&cfg.Binary, "binary", false, "use a binary tree instead of two levels (for comparison)")
	f.DurationVar(&cfg.Timeout, "timeout", 0, "round timeout (0: the protocol's default)")
	f.StringVar(&csvPath, "csv", "", "write measured rounds to this CSV file")
	return ownsSignals(cmd)
}

// setUpOnet does onet's process-wide set-up: quiet logs unless DEBUG_LVL is set, and
// per-server databases in a temporary folder, which the caller removes.
func setUpOnet() (string, error) {
	if os.Getenv("DEBUG_LVL") == "" {
		log.SetDebugVisible(0)
	}
	// A fresh name: a predictable one in a shared /tmp could be made, or linked
	// elsewhere, by another user first.
	dir, err := os.MkdirTemp("", "chainiac-onet-")
	if err != nil {
		return "", err
	}
	if err := localnet.Register(dir); err != nil {
		os.RemoveAll(dir)
		return "", err
	}
	return dir, nil
}

func treeShown(cfg simulation.CosiConfig) string {
	switch {
	case cfg.Binary:
		return "binary tree"
	case cfg.Subtrees == 0:
		return "two-level tree with ⌈√(n−1)⌉ sub-leaders"
	}
	return fmt.Sprintf("two-level tree with %d sub-leaders", cfg.Subtrees)
}

func printRound(w io.Writer, r simulation.Round) {
	tag := ""
	if r.Warmup {
		tag = " (warm-up)"
	}
	if r.Err != nil {
		fmt.Fprintf(w, "round %d%s: failed after %.3f s: %v\n", r.Round, tag, r.Latency.Seconds(), r.Err)
		return
	}
	fmt.Fprintf(w, "round %d%s: %.4f s, %d/%d signers\n", r.Round, tag, r.Latency.Seconds(), r.Signers, r.Nodes)
}

func printSummary(w io.Writer, rounds []simulation.Round) {
	if len(rounds) == 0 {
		return
	}
	lat := make([]time.Duration, len(rounds))
	for i, r := range rounds {
		lat[i] = r.Latency
	}
	slices.Sort(lat)
	median := lat[len(lat)/2]
	if len(lat)%2 == 0 {
		median = (lat[len(lat)/2-1] + lat[len(lat)/2]) / 2
	}
	fmt.Fprintf(w, "measured rounds: %d, median %.4f s, min %.4f s, max %.4f s\n",
		len(lat), median.Seconds(), lat[0].Seconds(), lat[len(lat)-1].Seconds())
}

func writeRoundsCSV(path string, rounds []simulation.Round) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		w := csv.NewWriter(f)
		if err := w.Write([]string{"nodes", "round", "seconds"}); err != nil {
			return err
		}
		for _, r := range rounds {
			if err := w.Write([]string{strconv.Itoa(r.Nodes), strconv.Itoa(r.Round),
				strconv.FormatFloat(r.Latency.Seconds(), 'f', 6, 64)}); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}
