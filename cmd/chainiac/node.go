package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	onetlog "go.dedis.ch/onet/v3/log"

	"github.com/chainiac/chainiac/api"
	"github.com/chainiac/chainiac/internal/nodeclient"
	"github.com/chainiac/chainiac/node"
)

// readyPrefix starts the one line `node run` prints on standard output once the node
// serves: "ready http=HOST:PORT address=tcp://HOST:PORT".
const readyPrefix = "ready "

func newNodeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a cothority node: set it up, run it, ask for its status",
		Long: `A node keeps the timelines it witnesses, rebuilds every proposed release and
cosigns only what it rebuilt bit for bit. Set it up once (a key and node.toml),
give its roster entry to whoever creates the chain, then run it.`,
	}
	cmd.AddCommand(newNodeSetupCmd(), newNodeRunCmd(), newNodeStatusCmd())
	return cmd
}

func newNodeSetupCmd() *cobra.Command {
	var opts node.SetupOptions
	cmd := &cobra.Command{
		Use:   "setup --address HOST:PORT --http HOST:PORT --dir DIR [--description TEXT] [--reference-recipe]",
		Short: "Make a node's key (mode 0600) and node.toml, and print its roster entry",
		Long: `Make a node's key pair (DIR/node.key, mode 0600) and configuration (DIR/node.toml),
and print the node's public roster entry, an onet group file of one server, on
standard output. Join the entries of every node into one group file to create a
chain. A directory that already holds a key is refused: a node's key is never
overwritten.`,
		Example: `  chainiac node setup --address 192.0.2.1:7770 --http 127.0.0.1:7771 --dir /var/lib/chainiac \
      --description "node of example.org" --reference-recipe >> group.toml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfgPath, entry, err := node.Setup(opts, rand.Reader)
			if err != nil {
				return err
			}
			if _, err := cmd.OutOrStdout().Write(entry); err != nil {
				return fmt.Errorf("node setup: %w", err)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "node key and configuration written; run: chainiac node run --config %s\n", cfgPath)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Address, "address", "", "onet address other nodes reach this node at, HOST:PORT or tcp://HOST:PORT")
	f.StringVar(&opts.HTTP, "http", "", "address the HTTP API listens on, HOST:PORT (port 0: any free port)")
	f.StringVar(&opts.Dir, "dir", "", "node directory (created if missing; must not hold a key)")
	f.StringVar(&opts.Description, "description", "", "description in the roster entry")
	f.BoolVar(&opts.Reference, "reference-recipe", false, "enable the reference builder (recipe reference/v2), run as this binary")
	for _, name := range []string{"address", "http", "dir"} {
		_ = cmd.MarkFlagRequired(name)
	}
	return cmd
}

func newNodeRunCmd() *cobra.Command {
	var cfgPath, exportDir, logFormat, logLevel string
	cmd := &cobra.Command{
		Use:   "run --config FILE [--export-dir DIR] [--log-format text|json] [--log-level LEVEL]",
		Short: "Run a node until SIGINT or SIGTERM",
		Long: `Run a node with its configuration file until SIGINT or SIGTERM, then shut down
cleanly (exit status 0). Flags override the configuration's values.

Logs go to standard error. Once the node serves, exactly one line goes to standard
output, for scripts to wait for:

  ready http=HOST:PORT address=tcp://HOST:PORT

A second node on the same data directory refuses to start. onet's own small
database is kept in DATA_DIR/onet (CONODE_SERVICE_PATH is set to it).`,
		Example: `  chainiac node run --config /var/lib/chainiac/node.toml --log-format json
  chainiac node run --config node.toml --export-dir /srv/www/chainiac`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// onet keeps its service and message names in process-wide tables: this
			// is the one place the binary fills them.
			if err := node.Register(); err != nil {
				return fmt.Errorf("node run: %w", err)
			}
			cfg, err := node.LoadConfig(cfgPath)
			if err != nil {
				return err
			}
			f := cmd.Flags()
			if f.Changed("export-dir") {
				if cfg.ExportDir, err = filepath.Abs(exportDir); err != nil {
					return fmt.Errorf("node run: --export-dir: %w", err)
				}
			}
			if f.Changed("log-format") {
				if logFormat != "text" && logFormat != "json" {
					return fmt.Errorf("node run: --log-format %q: want text or json", logFormat)
				}
				cfg.LogFormat = logFormat
			}
			if f.Changed("log-level") {
				switch logLevel {
				case "debug", "info", "warn", "error":
				default:
					return fmt.Errorf("node run: --log-level %q: want debug, info, warn or error", logLevel)
				}
				cfg.LogLevel = logLevel
			}
			return runNode(cmd, cfgPath, cfg)
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfgPath, "config", "", "node configuration file (node.toml, as node setup writes it)")
	f.StringVar(&exportDir, "export-dir", "", "keep a static export of every chain in DIR (overrides export_dir)")
	f.StringVar(&logFormat, "log-format", "", "log format: text or json (overrides log_format)")
	f.StringVar(&logLevel, "log-level", "", "log level: debug, info, warn or error (overrides log_level)")
	_ = cmd.MarkFlagRequired("config")
	return ownsSignals(cmd)
}

// runNode starts the node and serves until a signal, then closes it.
func runNode(cmd *cobra.Command, cfgPath string, cfg *node.Config) error {
	// Relative paths in the configuration are relative to its directory.
	dataDir := cfg.DataDir
	if !filepath.IsAbs(dataDir) {
		abs, err := filepath.Abs(filepath.Dir(cfgPath))
		if err != nil {
			return fmt.Errorf("node run: %w", err)
		}
		dataDir = filepath.Join(abs, dataDir)
	}
	// onet reads its database directory from the environment when the server is made.
	if err := os.Setenv("CONODE_SERVICE_PATH", filepath.Join(dataDir, "onet")); err != nil {
		return fmt.Errorf("node run: %w", err)
	}
	// onet prints its own debug lines on standard output; keep them off unless asked
	// for, so that standard output carries only the ready line.
	if os.Getenv("DEBUG_LVL") == "" {
		onetlog.SetDebugVisible(0)
	}
	logger := node.NewLogger(cfg, cmd.ErrOrStderr())
	ctx, stop := signal.NotifyContext(contextOf(cmd), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	n, err := node.Start(cfg, node.Options{Logger: logger})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(cmd.OutOrStdout(), "%shttp=%s address=%s\n", readyPrefix, n.HTTPAddr(), cfg.Address); err != nil {
		n.Close()
		return fmt.Errorf("node run: %w", err)
	}
	<-ctx.Done()
	logger.Info("stopping", "reason", context.Cause(ctx))
	start := time.Now()
	if err := n.Close(); err != nil {
		return fmt.Errorf("node run: close: %w", err)
	}
	logger.Info("node stopped", "seconds", time.Since(start).Seconds())
	return nil
}

func contextOf(cmd *cobra.Command) context.Context {
	if ctx := cmd.Context(); ctx != nil {
		return ctx
	}
	return context.Background()
}

func newNodeStatusCmd() *cobra.Command {
	var nodeURL string
	var asJSON bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status --node URL [--json]",
		Short: "Show a node's chains, heads, rosters, timestamps and recent rounds",
		Example: `  chainiac node status --node http://127.0.0.1:7771
  chainiac node status --node 127.0.0.1:7771 --json | jq '.chains[].height'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := nodeclient.New(nodeURL, timeout)
			if err != nil {
				return usageError{fmt.Errorf("node status: %w", err)}
			}
			st, raw, err := c.Status(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("node status: %w", err)
			}
			if asJSON {
				_, err = cmd.OutOrStdout().Write(raw)
				return err
			}
			printStatus(cmd.OutOrStdout(), st)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&nodeURL, "node", "", "the node's HTTP URL (or HOST:PORT)")
	f.BoolVar(&asJSON, "json", false, "print the node's status JSON as it sent it")
	f.DurationVar(&timeout, "timeout", 30*time.Second, "give up on the node after this long")
	_ = cmd.MarkFlagRequired("node")
	return cmd
}

func printStatus(w io.Writer, st *api.Status) {
	fmt.Fprintf(w, "node %s\nkey  %s\n", st.Address, st.Key)
	if len(st.Chains) == 0 {
		fmt.Fprintln(w, "no chains")
	}
	for _, c := range st.Chains {
		fmt.Fprintf(w, "\nchain %s (%s)\n", c.Genesis, c.Product)
		fmt.Fprintf(w, "  height     %d, head %s (%s)\n", c.Height, c.Head, c.HeadKind)
		fmt.Fprintf(w, "  roster     %d members, threshold %d\n", len(c.Roster), c.Needed)
		if c.TimestampAge < 0 {
			fmt.Fprintln(w, "  timestamp  none yet")
		} else {
			age := time.Duration(c.TimestampAge * float64(time.Second)).Round(time.Second)
			fmt.Fprintf(w, "  timestamp  block %d, %s old\n", c.TimestampIndex, age)
		}
		fmt.Fprintf(w, "  peers      %d of %d reachable in the last round\n", c.PeersReachable, len(c.Roster))
		if len(c.RecentRounds) == 0 {
			fmt.Fprintln(w, "  rounds     none led by this node")
			continue
		}
		fmt.Fprintln(w, "  rounds led by this node, oldest first:")
		for _, r := range c.RecentRounds {
			outcome := "signed"
			if !r.OK {
				outcome = "failed"
			}
			fmt.Fprintf(w, "    %-22s %s %d/%d (threshold %d) in %.2fs", r.What, outcome, r.Signers, r.Members, r.Needed, r.Seconds)
			if len(r.Refusals) > 0 {
				fmt.Fprintf(w, ", %d refused", len(r.Refusals))
			}
			if len(r.Failures) > 0 {
				fmt.Fprintf(w, ", %d did not answer", len(r.Failures))
			}
			if r.Error != "" {
				fmt.Fprintf(w, ": %s", r.Error)
			}
			fmt.Fprintln(w)
		}
	}
}

// writeJSON prints v indented, for --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
