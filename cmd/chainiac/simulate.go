package main

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/chainiac/chainiac/cosi/protocol"
	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/internal/localnet"
	"github.com/chainiac/chainiac/simulation"
	"github.com/spf13/cobra"
	"go.dedis.ch/onet/v3/log"
)

func newSimulateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "simulate SCENARIO [--seed N] [--quick] --output DIR",
		Short: "Measure chainiac's protocols and compare the design with a transparency log",
		Long: `Each scenario writes into --output DIR a CSV per table (its header documented in
SCENARIO.md), each figure as PNG and SVG, and SCENARIO.md, a summary that says what
each figure shows. The same --seed gives the same CSV rows, apart from the columns
measured on a clock. --quick shrinks every scenario to what a CI run affords.
"simulate all" runs every scenario and writes report.md as well.`,
	}
	cmd.AddCommand(newSimulateCosiCmd())
	for _, sc := range simulation.Scenarios() {
		if sc.Name != "cosi" {
			cmd.AddCommand(newSimulateScenarioCmd(sc))
		}
	}
	cmd.AddCommand(newSimulateAllCmd())
	return cmd
}

// simFlags are the flags every scenario takes.
type simFlags struct {
	seed   uint64
	quick  bool
	output string
}

func (f *simFlags) add(cmd *cobra.Command, outputRequired bool) {
	fl := cmd.Flags()
	fl.Uint64Var(&f.seed, "seed", 1, "seed of every random choice (the same seed gives the same CSV rows)")
	fl.BoolVar(&f.quick, "quick", false, "a small run, for CI (seconds rather than minutes)")
	fl.StringVarP(&f.output, "output", "o", "", "directory for the CSV files, figures and summaries (created if missing)")
	if outputRequired {
		_ = cmd.MarkFlagRequired("output")
	}
}

func (f *simFlags) options(cmd *cobra.Command) simulation.Options {
	return simulation.Options{Seed: f.seed, Quick: f.quick, Progress: newProgress(cmd.ErrOrStderr())}
}

// commandLine is the command that makes a result again.
func (f *simFlags) commandLine(scenario string) string {
	line := fmt.Sprintf("chainiac simulate %s --seed %d", scenario, f.seed)
	if f.quick {
		line += " --quick"
	}
	return line + " --output " + f.output
}

// outputDir makes dir if it is missing, and refuses a path that is not a directory
// before any simulation runs.
func outputDir(dir string) error {
	if dir == "" {
		return usageError{errors.New("simulate: --output is empty")}
	}
	if st, err := os.Stat(dir); err == nil && !st.IsDir() {
		return usageError{fmt.Errorf("simulate: --output %s is not a directory", dir)}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("simulate: --output: %w", err)
	}
	return nil
}

func newSimulateScenarioCmd(sc simulation.Scenario) *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:     sc.Name + " --output DIR [--seed N] [--quick]",
		Short:   sc.Short,
		Example: fmt.Sprintf("  chainiac simulate %s --quick --output sim-out", sc.Name),
		Long: sc.Short + `.

Writes the scenario's CSV files, figures (PNG and SVG) and ` + sc.Name + `.md into --output;
see docs/simulation.md for what it measures and how to read it.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputDir(f.output); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt)
			defer stop()
			res, err := sc.Run(ctx, f.options(cmd))
			if err != nil {
				return fmt.Errorf("simulate %s: %w", sc.Name, err)
			}
			res.Command = f.commandLine(sc.Name)
			return writeResult(cmd.OutOrStdout(), f.output, res)
		},
	}
	f.add(cmd, true)
	return ownsSignals(cmd)
}

func writeResult(w io.Writer, dir string, res *simulation.Result) error {
	if err := simulation.WriteResult(dir, res); err != nil {
		return fmt.Errorf("simulate %s: %w", res.Scenario, err)
	}
	fmt.Fprintf(w, "%s: %s\n", res.Scenario, res.Title)
	for _, l := range res.Findings {
		fmt.Fprintf(w, "  - %s\n", l)
	}
	fmt.Fprintf(w, "  wrote %s\n", strings.Join(prefixed(dir, res.Files()), ", "))
	return nil
}

func prefixed(dir string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = filepath.Join(dir, n)
	}
	return out
}

func newSimulateAllCmd() *cobra.Command {
	var f simFlags
	cmd := &cobra.Command{
		Use:     "all --output DIR [--seed N] [--quick]",
		Short:   "Run every scenario and write one report",
		Example: "  chainiac simulate all --quick --output sim-out",
		Long: `Runs every scenario in turn (` + strings.Join(scenarioNames(), ", ") + `) with the
same --seed and --quick, writes each one's files into --output, and report.md with
every summary.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := outputDir(f.output); err != nil {
				return err
			}
			dbDir, err := setUpOnet()
			if err != nil {
				return err
			}
			defer os.RemoveAll(dbDir)
			ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt)
			defer stop()
			var results []*simulation.Result
			for _, sc := range simulation.Scenarios() {
				res, err := sc.Run(ctx, f.options(cmd))
				if err != nil {
					return fmt.Errorf("simulate all: %s: %w", sc.Name, err)
				}
				res.Command = f.commandLine(sc.Name)
				if sc.Name == "cosi" {
					// simulate cosi's own default is one size without the comparison;
					// say which sizes ran.
					res.Command = "chainiac simulate cosi --compare --quick --output " + f.output
					if !f.quick {
						sw := simulation.DefaultCosiSweep(false)
						res.Command = fmt.Sprintf("chainiac simulate cosi --nodes %s --rounds %d --compare --output %s", joinInts(sw.Sizes), sw.Base.Rounds, f.output)
					}
				}
				if err := writeResult(cmd.OutOrStdout(), f.output, res); err != nil {
					return err
				}
				results = append(results, res)
			}
			if err := simulation.WriteReport(f.output, f.commandLine("all"), results); err != nil {
				return fmt.Errorf("simulate all: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "report: %s\n", filepath.Join(f.output, "report.md"))
			return nil
		},
	}
	f.add(cmd, true)
	return ownsSignals(cmd)
}

func joinInts(v []int) string {
	s := make([]string, len(v))
	for i, n := range v {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ",")
}

func scenarioNames() []string {
	var out []string
	for _, sc := range simulation.Scenarios() {
		out = append(out, sc.Name)
	}
	return out
}

// newProgress prints one progress line per step to w: rewritten in place on a
// terminal, otherwise at most one line a second (and the last step of each
// scenario).
func newProgress(w io.Writer) func(simulation.Progress) {
	tty := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	var last time.Time
	return func(p simulation.Progress) {
		line := fmt.Sprintf("%s [%d/%d] %s", p.Scenario, p.Done, p.Total, p.Step)
		switch {
		case tty:
			fmt.Fprintf(w, "\r\033[K%s", line)
			if p.Done == p.Total {
				fmt.Fprintln(w)
			}
		case p.Done == p.Total || time.Since(last) >= time.Second:
			fmt.Fprintln(w, line)
			last = time.Now()
		}
	}
}

func newSimulateCosiCmd() *cobra.Command {
	var cfg simulation.CosiConfig
	var nodes []int
	var csvPath string
	var compare bool
	var f simFlags
	cmd := &cobra.Command{
		Use:   "cosi",
		Short: "Collective signing rounds on a local cothority over TCP on 127.0.0.1",
		Example: `  chainiac simulate cosi --nodes 100 --rounds 10
  chainiac simulate cosi --nodes 16,64,256 --rounds 10 --output sim-out
  chainiac simulate cosi --nodes 1024 --rounds 10 --compare --csv rounds.csv`,
		Long: `Starts --nodes onet servers in this process, each with its own cosi key, and
runs --warmup rounds followed by --rounds measured rounds of the tree signing
protocol from the first server, for each size in --nodes. Each round's latency is
printed; --csv writes the measured rounds (warm-up excluded) with the header
nodes,round,seconds,cpu_seconds,bytes,tree,aggregation,crashed,silent; --output
writes cosi.csv (nodes,round,seconds first), cosi-floor.csv, the figure
cosi-latency.png and .svg and cosi.md. --compare runs, on the same servers at each
size, the tree with checks at every sub-leader against optimistic aggregation, the
flat and binary trees, and f = ⌊(n−1)/3⌋ silent or crashed members, and measures
the CPU floor (every share and one pairing check, no network) in the same run.
--quick, unless --nodes or --rounds are given, runs 8, 16 and 32 nodes for 3
rounds each.`,
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
			if f.output != "" {
				if err := outputDir(f.output); err != nil {
					return err
				}
			}
			if f.quick {
				q := simulation.DefaultCosiSweep(true)
				if !cmd.Flags().Changed("nodes") {
					nodes = q.Sizes
				}
				if !cmd.Flags().Changed("rounds") {
					cfg.Rounds = q.Base.Rounds
				}
			}
			sw := simulation.CosiSweep{Sizes: nodes, Base: cfg}
			if compare {
				sw.Variants = simulation.ComparisonVariants(f.quick)
			}
			for _, n := range nodes {
				c := cfg
				c.Nodes = n
				if err := simulation.CheckCosiConfig(c); err != nil {
					return usageError{err}
				}
			}
			dbDir, err := setUpOnet()
			if err != nil {
				return err
			}
			defer os.RemoveAll(dbDir)
			ctx, stop := signal.NotifyContext(contextOf(cmd), os.Interrupt)
			defer stop()
			out := cmd.OutOrStdout()
			var measured, group []simulation.CosiRound
			var current simulation.CosiConfig
			opts := f.options(cmd)
			opts.Progress = nil // each round is printed
			res, err := simulation.RunCosiSweep(ctx, sw, opts, func(r simulation.CosiRound) {
				if r.Config != current {
					printSummary(out, group)
					group = nil
					current = r.Config
					fmt.Fprintf(out, "cosi: %d nodes, %s, %d warm-up + %d measured rounds\n",
						r.Nodes, variantShown(r.Config), cfg.Warmup, cfg.Rounds)
				}
				printRound(out, r.Round)
				if !r.Warmup && r.Err == nil {
					measured = append(measured, r)
					group = append(group, r)
				}
			})
			printSummary(out, group)
			if err != nil {
				return err
			}
			if csvPath != "" {
				if err := writeRoundsCSV(csvPath, measured); err != nil {
					return err
				}
			}
			if f.output != "" {
				res.Command = cosiCommandLine(cmd, &f)
				return writeResult(out, f.output, res)
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.IntSliceVar(&nodes, "nodes", []int{100}, "number of nodes; several sizes separated by commas run one after another")
	fl.IntVar(&cfg.Rounds, "rounds", 10, "measured rounds")
	fl.IntVar(&cfg.Warmup, "warmup", 1, "rounds run first and left out of the figures")
	fl.IntVar(&cfg.Subtrees, "subtrees", 0, "sub-leaders of the two-level tree (0: ⌈√(n−1)⌉, n−1: flat)")
	fl.BoolVar(&cfg.Binary, "binary", false, "use a binary tree instead of two levels (for comparison)")
	fl.BoolVar(&cfg.CheckAtSubLeaders, "check-at-sub-leaders", false, "sub-leaders verify every partial signature (the protocol before optimistic aggregation)")
	fl.IntVar(&cfg.Crashed, "crashed", 0, "members whose server is closed before the rounds (at most ⌊(n−1)/3⌋ with --silent)")
	fl.IntVar(&cfg.Silent, "silent", 0, "members that never answer (each costs its parent's share of the timeout)")
	fl.BoolVar(&compare, "compare", false, "run the comparison at each size: checked and optimistic aggregation, tree shapes, f silent or crashed members, and the CPU floor")
	fl.DurationVar(&cfg.Timeout, "timeout", 0, "round timeout (0: the protocol's default)")
	fl.StringVar(&csvPath, "csv", "", "write measured rounds to this CSV file")
	f.add(cmd, false)
	return ownsSignals(cmd)
}

// cosiCommandLine is the command line of a cosi run, with the flags that were given.
func cosiCommandLine(cmd *cobra.Command, f *simFlags) string {
	parts := []string{"chainiac simulate cosi"}
	for _, name := range []string{"nodes", "rounds", "warmup", "subtrees", "binary", "check-at-sub-leaders", "crashed", "silent", "compare", "timeout", "seed", "quick"} {
		fl := cmd.Flags().Lookup(name)
		if fl == nil || !fl.Changed {
			continue
		}
		v := fl.Value.String()
		if name == "nodes" {
			v = strings.Trim(v, "[]")
		}
		if fl.Value.Type() == "bool" {
			if v == "true" {
				parts = append(parts, "--"+name)
			}
			continue
		}
		parts = append(parts, "--"+name+" "+v)
	}
	return strings.Join(append(parts, "--output "+f.output), " ")
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

func variantShown(cfg simulation.CosiConfig) string {
	var tree string
	switch {
	case cfg.Binary:
		tree = "binary tree"
	case cfg.Subtrees == 0 || cfg.Subtrees == protocol.DefaultSubtrees(cfg.Nodes):
		tree = "two-level tree with ⌈√(n−1)⌉ sub-leaders"
	case cfg.Subtrees == cfg.Nodes-1:
		tree = "flat tree"
	default:
		tree = fmt.Sprintf("two-level tree with %d sub-leaders", cfg.Subtrees)
	}
	s := tree + ", " + cfg.Aggregation() + " aggregation"
	if cfg.Crashed > 0 {
		s += fmt.Sprintf(", %d crashed", cfg.Crashed)
	}
	if cfg.Silent > 0 {
		s += fmt.Sprintf(", %d silent", cfg.Silent)
	}
	return s
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

func printSummary(w io.Writer, rounds []simulation.CosiRound) {
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

func writeRoundsCSV(path string, rounds []simulation.CosiRound) error {
	return atomicfile.Write(path, 0o644, func(f *os.File) error {
		w := csv.NewWriter(f)
		if err := w.Write([]string{"nodes", "round", "seconds", "cpu_seconds", "bytes", "tree", "aggregation", "crashed", "silent"}); err != nil {
			return err
		}
		for _, r := range rounds {
			if err := w.Write([]string{strconv.Itoa(r.Nodes), strconv.Itoa(r.Round.Round),
				strconv.FormatFloat(r.Latency.Seconds(), 'f', 6, 64), strconv.FormatFloat(r.CPU.Seconds(), 'f', 6, 64),
				strconv.FormatUint(r.Bytes, 10), r.Config.Tree(), r.Config.Aggregation(),
				strconv.Itoa(r.Config.Crashed), strconv.Itoa(r.Config.Silent)}); err != nil {
				return err
			}
		}
		w.Flush()
		return w.Error()
	})
}
