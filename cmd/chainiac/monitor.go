package main

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/monitor"
	"github.com/chainiac/chainiac/release/build"
	"github.com/chainiac/chainiac/skipchain"
)

func newMonitorCmd() *cobra.Command {
	var (
		genesisHex, stateDir, siteDir, listen string
		mirrors, peers, recipeArgs            []string
		once, asJSON, checkMARs, rebuild      bool
		source                                string
		rebuildsPerRun                        int
		interval, maxAge, marRecheck          time.Duration
		pageSize                              int
	)
	cmd := &cobra.Command{
		Use:   "monitor --genesis ID --mirror URL… --state DIR [--once] [--site DIR] [--listen ADDR]",
		Short: "Audit a chain: verify every block, compare mirrors and monitors, publish the timeline",
		Long: `An independent monitor. It follows one chain from its genesis through the mirrors,
verifying every block, every forward link into it and every release under the
developer policy in force; compares what each mirror serves and what other monitors'
signed checkpoints say; keeps fork evidence in DIR/evidence; signs its own checkpoint;
and writes a static site (--site) that --listen serves with /metrics.

--peer URL reads another monitor's checkpoint; KEYHEX=URL also requires it to be
signed by that Ed25519 key. --check-mars also downloads every release's signed MARs
from the URLs in its manifest and checks them against it (a mar-mismatch alarm
names the target). --rebuild rebuilds every release from the source found at
--source and runs the check the nodes ran before they signed; a release that does
not rebuild is a not-reproducible alarm. With --once it runs one pass and exits:
0 healthy, 3 an alarm or evidence, 4 no mirror reachable. Without it, it runs every
--interval until SIGINT or SIGTERM.`,
		Example: `  chainiac monitor --genesis 3f1c…e2 --mirror http://127.0.0.1:7771 --state ./mon --once
  chainiac monitor --genesis 3f1c…e2 --mirror https://mirror.example.org/chainiac \
      --state ./mon --site ./site --listen 127.0.0.1:8120 --interval 5m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var genesis skipchain.ID
			if err := genesis.UnmarshalText([]byte(genesisHex)); err != nil {
				return usageError{fmt.Errorf("monitor: --genesis: %w", err)}
			}
			ps, err := parsePeers(peers)
			if err != nil {
				return usageError{fmt.Errorf("monitor: %w", err)}
			}
			if siteDir == "" && listen != "" {
				siteDir = filepath.Join(stateDir, "site")
			}
			if interval <= 0 {
				return usageError{fmt.Errorf("monitor: --interval must be positive")}
			}
			var rc *monitor.RebuildConfig
			if rebuild {
				if rc, err = monitorRebuild(stateDir, source, recipeArgs, rebuildsPerRun); err != nil {
					return err
				}
			} else if source != "" || len(recipeArgs) > 0 {
				return usageError{fmt.Errorf("monitor: --source and --recipe need --rebuild")}
			}
			logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
			m, err := monitor.New(monitor.Config{Genesis: genesis, Mirrors: mirrors, StateDir: stateDir, Peers: ps,
				SiteDir: siteDir, PageSize: pageSize, MaxAge: maxAge, Logger: logger,
				CheckMARs: checkMARs, MARRecheck: marRecheck, Rebuild: rc})
			if err != nil {
				return usageError{err}
			}
			defer m.Close()
			ctx, stop := signal.NotifyContext(contextOf(cmd), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			if once {
				rep, err := m.Run(ctx)
				if err != nil {
					return err
				}
				if err := printReport(cmd.OutOrStdout(), rep, asJSON); err != nil {
					return err
				}
				return reportError(rep)
			}
			return runMonitorDaemon(ctx, cmd, m, listen, siteDir, interval, asJSON)
		},
	}
	cmd.Flags().StringVar(&genesisHex, "genesis", "", "the chain's genesis ID (hex), the one value trusted")
	cmd.Flags().StringArrayVar(&mirrors, "mirror", nil, "base URL of a node or static mirror (repeatable)")
	cmd.Flags().StringVar(&stateDir, "state", "", "state directory (verified chain, alarms, key, evidence)")
	cmd.Flags().StringArrayVar(&peers, "peer", nil, "URL of another monitor's checkpoint, or KEYHEX=URL (repeatable)")
	cmd.Flags().BoolVar(&once, "once", false, "run one pass and exit with its verdict")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Minute, "time between passes (daemon)")
	cmd.Flags().DurationVar(&maxAge, "max-age", monitor.DefaultMaxAge, "oldest acceptable cosigned timestamp")
	cmd.Flags().StringVar(&siteDir, "site", "", "write the static site here (default with --listen: STATE/site)")
	cmd.Flags().StringVar(&listen, "listen", "", "serve the site and /metrics on this address (daemon), e.g. 127.0.0.1:8120")
	cmd.Flags().IntVar(&pageSize, "page-size", monitor.DefaultPageSize, "blocks per page of the site")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each report as JSON")
	cmd.Flags().BoolVar(&checkMARs, "check-mars", false, "fetch every release's signed MARs from their URLs and check size and SHA-512 (once each, the newest of each channel every --mar-recheck)")
	cmd.Flags().DurationVar(&marRecheck, "mar-recheck", monitor.DefaultMARRecheck, "with --check-mars, how often the newest release of each channel is fetched again")
	cmd.Flags().BoolVar(&rebuild, "rebuild", false, "rebuild every release from its source (--source) and check it as the nodes do")
	cmd.Flags().StringVar(&source, "source", "", "with --rebuild: where sources are, {product} {version} {channel} replaced, e.g. https://dist.example.org/{product}/{version}/{product}-{version}.tar.gz")
	cmd.Flags().StringArrayVar(&recipeArgs, "recipe", nil, "with --rebuild: a recipe other than reference/v2, NAME=COMMAND (repeatable)")
	cmd.Flags().IntVar(&rebuildsPerRun, "rebuilds-per-pass", 0, "with --rebuild: at most this many rebuilds per pass (0: no limit)")
	_ = cmd.MarkFlagRequired("genesis")
	_ = cmd.MarkFlagRequired("mirror")
	_ = cmd.MarkFlagRequired("state")
	return ownsSignals(cmd)
}

// monitorRebuild configures --rebuild: builds in STATE/builds, the reference recipe
// as this binary's `build reference`, other recipes as in release rebuild.
func monitorRebuild(stateDir, source string, recipeArgs []string, perRun int) (*monitor.RebuildConfig, error) {
	if source == "" {
		return nil, usageError{fmt.Errorf("monitor: --rebuild needs --source (where the release team publishes sources)")}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	recipes := map[string]build.Recipe{build.ReferenceRecipeName: build.ReferenceRecipe(exe)}
	for _, a := range recipeArgs {
		name, command, ok := strings.Cut(a, "=")
		if !ok || name == "" || command == "" {
			return nil, usageError{fmt.Errorf("monitor: --recipe %q: want NAME=COMMAND", a)}
		}
		r := build.ReferenceRecipe(exe) // its limits and output layout
		r.Name, r.Command = name, []string{"/bin/sh", "-c", command}
		recipes[name] = r
	}
	work := filepath.Join(stateDir, "builds")
	if err := os.MkdirAll(work, 0o700); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	runner, err := build.NewRunner(build.Config{WorkDir: work})
	if err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return &monitor.RebuildConfig{Runner: runner, Recipes: recipes, Source: source, MaxPerRun: perRun}, nil
}

func parsePeers(in []string) ([]monitor.Peer, error) {
	var out []monitor.Peer
	for _, s := range in {
		p := monitor.Peer{URL: s}
		if k, u, ok := strings.Cut(s, "="); ok && len(k) == 64 && !strings.Contains(k, "/") {
			key, err := hex.DecodeString(k)
			if err != nil {
				return nil, fmt.Errorf("--peer %s: key: %w", s, err)
			}
			p.Key, p.URL = key, u
		}
		out = append(out, p)
	}
	return out, nil
}

// reportError is the error whose exit code says the verdict.
func reportError(rep *monitor.Report) error {
	switch rep.Status {
	case monitor.Alarmed:
		return fmt.Errorf("%w: monitor: %d alarm(s), %d evidence file(s)", client.ErrRejected, len(rep.Alarms), len(rep.Evidence))
	case monitor.Unreachable:
		return fmt.Errorf("%w: monitor: no mirror answered", client.ErrUnreachable)
	}
	return nil
}

func printReport(w io.Writer, rep *monitor.Report, asJSON bool) error {
	if asJSON {
		b, err := json.Marshal(rep)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "%s: block %d %s verified (%d new)", rep.Status, rep.Verified, rep.Head, rep.NewBlocks)
	if !rep.Timestamp.IsZero() {
		fmt.Fprintf(w, ", newest timestamp %s (%s old)", rep.Timestamp.Format(time.RFC3339), rep.Age.Round(time.Second))
	}
	fmt.Fprintln(w)
	for _, a := range rep.Alarms {
		fmt.Fprintf(w, "ALARM %s %s: %s\n", a.Kind, a.Source, a.Summary)
	}
	printChecks(w, "MARs", rep.MARs)
	printChecks(w, "rebuild", rep.Rebuild)
	for _, e := range rep.Evidence {
		fmt.Fprintf(w, "EVIDENCE %s\n", e)
	}
	_, err := fmt.Fprintf(w, "monitor key %s\n", rep.MonitorKey)
	return err
}

// printChecks prints what a release check has done and what it could not check yet
// (failures are alarms, printed as such).
func printChecks(w io.Writer, name string, c *monitor.CheckReport) {
	if c == nil {
		return
	}
	fmt.Fprintf(w, "%s: every release up to block %d checked; %d passed, %d failed, %d not checked yet (%d checked in this pass)\n",
		name, c.Done, c.Passed, len(c.Failed), len(c.Pending), c.Checked)
	for _, p := range c.Pending {
		target := ""
		if p.Target != "" {
			target = " " + p.Target
		}
		fmt.Fprintf(w, "PENDING %s block %d %s%s: %s\n", name, p.Index, p.Version, target, p.Reason)
	}
}

// runMonitorDaemon runs a pass every interval and serves the site until ctx ends;
// it owns the server and stops it before returning.
func runMonitorDaemon(ctx context.Context, cmd *cobra.Command, m *monitor.Monitor, listen, siteDir string, interval time.Duration, asJSON bool) error {
	errc := make(chan error, 1)
	var srv *http.Server
	if listen != "" {
		l, err := net.Listen("tcp", listen)
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.Metrics().Handler())
		mux.Handle("/", http.FileServer(http.Dir(siteDir)))
		srv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, WriteTimeout: time.Minute, IdleTimeout: time.Minute}
		go func() { errc <- srv.Serve(l) }()
		defer func() {
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = srv.Shutdown(shut)
			<-errc
		}()
		fmt.Fprintf(cmd.OutOrStdout(), "%shttp=%s\n", readyPrefix, l.Addr())
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		rep, err := m.Run(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		if err := printReport(cmd.OutOrStdout(), rep, asJSON); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-errc:
			errc <- err // for the deferred shutdown
			return fmt.Errorf("monitor: serve: %w", err)
		case <-tick.C:
		}
	}
}
