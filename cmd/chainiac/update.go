package main

import (
	"context"
	"errors"
	"fmt"

	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/release/mar"
	"github.com/chainiac/chainiac/skipchain"
)

// updaterFile is the updater's configuration in its state directory.
const updaterFile = "updater.toml"

// updaterConfig is updater.toml: what `update init` was told.
type updaterConfig struct {
	Genesis        string   `toml:"genesis"`
	Mirrors        []string `toml:"mirrors"`
	MaxAge         string   `toml:"max_age"`
	Mode           string   `toml:"mode"`
	Channel        string   `toml:"channel"`
	VerifyAncestry bool     `toml:"verify_ancestry"`
	MARKeys        []string `toml:"mar_keys"` // PEM files
}

func defaultStateDir() string {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "chainiac", "update")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "state", "chainiac", "update")
	}
	return ".chainiac-update"
}

func newUpdateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "update",
		Short: "Follow a product's timeline and install only what the cothority witnessed",
		Long: `The updater. 'update init' pins a chain's genesis ID and its mirrors in a state
directory; every other command verifies from there. Exit status: 0 updated or up
to date, 3 verification failed (an attack, a frozen chain or fork evidence), 4 no
mirror reachable, 2 a usage error, 1 anything else.`,
	}
	var stateDir string
	cmd.PersistentFlags().StringVar(&stateDir, "state", defaultStateDir(), "state directory (trusted state, evidence, updater.toml)")
	cmd.AddCommand(newUpdateInitCmd(&stateDir), newUpdateCheckCmd(&stateDir), newUpdateFetchCmd(&stateDir),
		newUpdateXMLCmd(&stateDir), newUpdateServeCmd(&stateDir), newUpdateBundleCmd(&stateDir),
		newUpdateVerifyBundleCmd(), newUpdateEvidenceCmd(&stateDir))
	return cmd
}

func newUpdateInitCmd(stateDir *string) *cobra.Command {
	var cfg updaterConfig
	var force bool
	cmd := &cobra.Command{
		Use:   "init --genesis ID --mirror URL [--mirror URL…]",
		Short: "Pin a chain's genesis ID and its mirrors in the state directory",
		Example: `  chainiac update init --genesis 3f1c…e2 --mirror http://127.0.0.1:7771 \
      --mirror https://mirror.example.org/chainiac`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := loadClient(cfg, *stateDir, nil); err != nil {
				return usageError{fmt.Errorf("update init: %w", err)}
			}
			path := filepath.Join(*stateDir, updaterFile)
			if err := os.MkdirAll(*stateDir, 0o755); err != nil {
				return fmt.Errorf("update init: %w", err)
			}
			var buf strings.Builder
			if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
				return err
			}
			write := atomicfile.WriteNew
			if force {
				write = atomicfile.WriteBytes
			}
			if err := write(path, []byte(buf.String()), 0o644); err != nil {
				if errors.Is(err, os.ErrExist) {
					return fmt.Errorf("update init: %s exists (use --force to replace it)", path)
				}
				return fmt.Errorf("update init: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "pinned chain %s with %d mirror(s) in %s\n", cfg.Genesis, len(cfg.Mirrors), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&cfg.Genesis, "genesis", "", "the chain's genesis ID (hex), the one value trusted")
	cmd.Flags().StringArrayVar(&cfg.Mirrors, "mirror", nil, "base URL of a node or static mirror (repeatable)")
	cmd.Flags().StringVar(&cfg.MaxAge, "max-age", client.DefaultMaxAge.String(), "oldest acceptable cosigned timestamp")
	cmd.Flags().StringVar(&cfg.Mode, "mode", "express", "catch-up path: express or links")
	cmd.Flags().StringVar(&cfg.Channel, "channel", "", "follow this update channel's newest release (default: the chain's newest, any channel)")
	cmd.Flags().BoolVar(&cfg.VerifyAncestry, "verify-ancestry", false, "also walk back-links to the trusted block")
	cmd.Flags().StringArrayVar(&cfg.MARKeys, "mar-key", nil, "PEM file of an RSA key that must have signed each MAR (repeatable)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing updater.toml")
	_ = cmd.MarkFlagRequired("genesis")
	_ = cmd.MarkFlagRequired("mirror")
	return cmd
}

// openClient reads updater.toml in the state directory and makes the client.
func openClient(cmd *cobra.Command, stateDir string) (*client.Client, error) {
	path := filepath.Join(stateDir, updaterFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, usageError{fmt.Errorf("no %s: run 'chainiac update init --state %s' first", path, stateDir)}
	}
	if err != nil {
		return nil, err
	}
	var cfg updaterConfig
	if _, err := toml.Decode(string(b), &cfg); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	logger := slog.New(slog.NewTextHandler(cmd.ErrOrStderr(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := loadClient(cfg, stateDir, logger)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

func loadClient(cfg updaterConfig, stateDir string, logger *slog.Logger) (*client.Client, error) {
	var genesis skipchain.ID
	if err := genesis.UnmarshalText([]byte(cfg.Genesis)); err != nil {
		return nil, fmt.Errorf("genesis %q: %w", cfg.Genesis, err)
	}
	maxAge, err := time.ParseDuration(cfg.MaxAge)
	if err != nil {
		return nil, fmt.Errorf("max_age: %w", err)
	}
	var mode client.Mode
	switch cfg.Mode {
	case "express", "":
	case "links":
		mode = client.Links
	default:
		return nil, fmt.Errorf("mode %q: want express or links", cfg.Mode)
	}
	keys, err := readKeys(cfg.MARKeys, mar.ParsePublicKeyPEM)
	if err != nil {
		return nil, fmt.Errorf("MAR key: %w", err)
	}
	return client.New(client.Config{Genesis: genesis, Mirrors: cfg.Mirrors, StateDir: stateDir, MaxAge: maxAge,
		Mode: mode, Channel: cfg.Channel, VerifyAncestry: cfg.VerifyAncestry, MARKeys: keys, Logger: logger})
}

// checkOutput is what `update check --json` prints.
type checkOutput struct {
	Genesis         string   `json:"genesis"`
	Version         string   `json:"version,omitempty"`
	Channel         string   `json:"channel,omitempty"`
	ReleaseIndex    uint64   `json:"release_index"`
	HeadIndex       uint64   `json:"head_index"`
	HeadKind        string   `json:"head_kind"`
	TimestampAge    float64  `json:"timestamp_age_seconds"`
	Moved           bool     `json:"moved"`
	Mode            string   `json:"mode"`
	Mirror          string   `json:"mirror"`
	Hops            int      `json:"hops"`
	SignatureChecks int      `json:"signature_checks"`
	Bytes           int64    `json:"bytes"`
	RoundTrips      int      `json:"round_trips"`
	Targets         []string `json:"targets"`
}

func describe(u *client.Update) *checkOutput {
	o := &checkOutput{Genesis: u.Genesis.String(), HeadIndex: u.Head.Index, HeadKind: u.Head.Kind,
		TimestampAge: u.Age.Seconds(), Moved: u.Moved, Mode: u.Mode, Mirror: u.Mirror, Hops: u.Stats.Hops,
		SignatureChecks: u.Stats.SignatureChecks, Bytes: u.Stats.Bytes, RoundTrips: u.Stats.RoundTrips, Targets: []string{}}
	if u.Release != nil {
		o.Version, o.Channel, o.ReleaseIndex = u.Release.Manifest.Version, u.Release.Manifest.Channel, u.Release.Index
	}
	for _, t := range u.Targets() {
		o.Targets = append(o.Targets, t.Platform+"/"+t.Locale)
	}
	return o
}

func newUpdateCheckCmd(stateDir *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "check [--json]",
		Short: "Verify the newest release: version, channel, block, timestamp age and the cost",
		Example: `  chainiac update check
  chainiac update check --json | jq -r .version`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := openClient(cmd, *stateDir)
			if err != nil {
				return fmt.Errorf("update check: %w", err)
			}
			u, err := c.Check(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("update check: %w", err)
			}
			o := describe(u)
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), o)
			}
			w := cmd.OutOrStdout()
			if u.Release == nil {
				fmt.Fprintln(w, "no release yet")
			} else {
				fmt.Fprintf(w, "release %s on channel %s (block %d), targets %s\n", o.Version, o.Channel, o.ReleaseIndex, strings.Join(o.Targets, " "))
			}
			fmt.Fprintf(w, "head block %d (%s), timestamp %s old\n", o.HeadIndex, u.Head.Kind, u.Age.Round(time.Second))
			fmt.Fprintf(w, "verified by %s: %d signature check(s), %d hop(s), %d bytes in %d request(s) from %s\n",
				o.Mode, o.SignatureChecks, o.Hops, o.Bytes, o.RoundTrips, o.Mirror)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// targetFlag reads PLATFORM/LOCALE.
func targetFlag(s string) (platform, locale string, err error) {
	platform, locale, ok := strings.Cut(s, "/")
	if !ok || platform == "" || locale == "" {
		return "", "", usageError{fmt.Errorf("--target %q: want PLATFORM/LOCALE, e.g. linux-x86_64/en-US", s)}
	}
	return platform, locale, nil
}

// checkedTarget runs a Check and returns the release's target.
func checkedTarget(cmd *cobra.Command, stateDir, target string) (*client.Client, *client.Update, client.Target, error) {
	platform, locale, err := targetFlag(target)
	if err != nil {
		return nil, nil, client.Target{}, err
	}
	c, err := openClient(cmd, stateDir)
	if err != nil {
		return nil, nil, client.Target{}, err
	}
	u, err := c.Check(contextOf(cmd))
	if err != nil {
		return nil, nil, client.Target{}, err
	}
	t, ok := u.Target(platform, locale)
	if !ok && u.Release != nil {
		return nil, nil, client.Target{}, fmt.Errorf("release %s has no target %s (it has %s)", u.Release.Manifest.Version,
			target, strings.Join(describe(u).Targets, ", "))
	}
	return c, u, t, nil
}

func newUpdateFetchCmd(stateDir *string) *cobra.Command {
	var target, outDir string
	cmd := &cobra.Command{
		Use:     "fetch --target PLATFORM/LOCALE -o DIR",
		Short:   "Verify the newest release and download one of its MARs, checked byte for byte",
		Example: `  chainiac update fetch --target linux-x86_64/en-US -o ~/Downloads`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, u, t, err := checkedTarget(cmd, *stateDir, target)
			if err != nil {
				return fmt.Errorf("update fetch: %w", err)
			}
			if u.Release == nil {
				return fmt.Errorf("update fetch: the chain has no release yet")
			}
			path, err := c.Download(contextOf(cmd), t, outDir)
			if err != nil {
				return fmt.Errorf("update fetch: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "PLATFORM/LOCALE of the MAR")
	cmd.Flags().StringVarP(&outDir, "output", "o", ".", "directory to write the MAR into")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func newUpdateXMLCmd(stateDir *string) *cobra.Command {
	var target, channel, installed, out string
	var force bool
	cmd := &cobra.Command{
		Use:   "xml --target PLATFORM/LOCALE --channel C --installed VERSION [-o FILE [--force]]",
		Short: "Write the update.xml a Firefox-family updater reads, for the verified release",
		Long: `Verify the newest release and write an update.xml (Firefox, Tor Browser) offering
the target's complete MAR with its witnessed size and SHA-512 when the release is
newer than --installed on --channel, and <updates></updates> otherwise.`,
		Example: `  chainiac update xml --target linux-x86_64/en-US --channel release --installed 14.0 -o update.xml`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			platform, locale, err := targetFlag(target)
			if err != nil {
				return fmt.Errorf("update xml: %w", err)
			}
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("update xml: %w", err)
			}
			c, err := openClient(cmd, *stateDir)
			if err != nil {
				return fmt.Errorf("update xml: %w", err)
			}
			u, err := c.Check(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("update xml: %w", err)
			}
			if err := writeBytes(cmd, out, client.UpdateXML(u, channel, platform, locale, installed)); err != nil {
				return fmt.Errorf("update xml: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "PLATFORM/LOCALE")
	cmd.Flags().StringVar(&channel, "channel", "release", "the installation's update channel")
	cmd.Flags().StringVar(&installed, "installed", "", "the installed version (empty: offer any release)")
	cmd.Flags().StringVarP(&out, "output", "o", "-", "file to write, - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("target")
	return cmd
}

func newUpdateServeCmd(stateDir *string) *cobra.Command {
	var listen string
	var recheck time.Duration
	cmd := &cobra.Command{
		Use:   "serve --listen 127.0.0.1:PORT",
		Short: "Serve update.xml to an unmodified browser, from verified blocks only",
		Long: `Serve GET /update/{channel}/{platform}/{version}/{locale} (the shape of Tor
Browser's app.update.url; Firefox BUILD_TARGETs such as Linux_x86_64-gcc3 are
accepted for the platform) with the update.xml of the newest verified release,
or 503 when no fresh state verifies. Stops cleanly on SIGINT or SIGTERM.`,
		Example: `  chainiac update serve --listen 127.0.0.1:8118
  # then in the browser: app.update.url = http://127.0.0.1:8118/update/%CHANNEL%/%BUILD_TARGET%/%VERSION%/%LOCALE%`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := openClient(cmd, *stateDir)
			if err != nil {
				return fmt.Errorf("update serve: %w", err)
			}
			l, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("update serve: %w", err)
			}
			srv := &http.Server{Handler: &client.UpdateServer{Client: c, Recheck: recheck},
				ReadHeaderTimeout: 5 * time.Second, WriteTimeout: 2 * time.Minute, IdleTimeout: time.Minute}
			ctx, stop := signal.NotifyContext(contextOf(cmd), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(l) }()
			fmt.Fprintf(cmd.OutOrStdout(), "%shttp=%s\n", readyPrefix, l.Addr())
			select {
			case err := <-errc:
				return fmt.Errorf("update serve: %w", err)
			case <-ctx.Done():
			}
			shut, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			if err := srv.Shutdown(shut); err != nil {
				return fmt.Errorf("update serve: shutdown: %w", err)
			}
			<-errc
			return nil
		},
	}
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:8118", "address to listen on")
	cmd.Flags().DurationVar(&recheck, "recheck", client.DefaultRecheck, "how long one verification is reused")
	return ownsSignals(cmd)
}

func newUpdateBundleCmd(stateDir *string) *cobra.Command {
	var target, out string
	var force bool
	cmd := &cobra.Command{
		Use:     "bundle --target PLATFORM/LOCALE -o FILE [--force]",
		Short:   "Write an offline proof that the newest release was witnessed, to ship beside its MAR",
		Example: `  chainiac update bundle --target linux-x86_64/en-US -o demo-browser-2.0.bundle`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := guardOutput(out, force, nil); err != nil {
				return fmt.Errorf("update bundle: %w", err)
			}
			c, u, _, err := checkedTarget(cmd, *stateDir, target)
			if err != nil {
				return fmt.Errorf("update bundle: %w", err)
			}
			if u.Release == nil {
				return fmt.Errorf("update bundle: the chain has no release yet")
			}
			b, err := c.Bundle(contextOf(cmd))
			if err != nil {
				return fmt.Errorf("update bundle: %w", err)
			}
			if err := writeBytes(cmd, out, b.Encode()); err != nil {
				return fmt.Errorf("update bundle: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&target, "target", "", "PLATFORM/LOCALE the bundle is for (checked to exist)")
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write, - for standard output")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing output file")
	_ = cmd.MarkFlagRequired("target")
	_ = cmd.MarkFlagRequired("output")
	return cmd
}

func newUpdateVerifyBundleCmd() *cobra.Command {
	var genesisHex, bundle string
	var keyFiles []string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "verify-bundle --genesis ID --bundle FILE MAR",
		Short:   "Check a MAR against an offline proof bundle, with no network",
		Example: `  chainiac update verify-bundle --genesis 3f1c…e2 --bundle demo-browser-2.0.bundle demo-browser-2.0-linux-x86_64-en-US.mar`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var genesis skipchain.ID
			if err := genesis.UnmarshalText([]byte(genesisHex)); err != nil {
				return usageError{fmt.Errorf("update verify-bundle: --genesis: %w", err)}
			}
			keys, err := readKeys(keyFiles, mar.ParsePublicKeyPEM)
			if err != nil {
				return fmt.Errorf("update verify-bundle: MAR key: %w", err)
			}
			rep, err := client.VerifyBundleFile(genesis, bundle, args[0], keys)
			if err != nil {
				return fmt.Errorf("update verify-bundle: %w", err)
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), rep)
			}
			ts := "no timestamp"
			if !rep.Timestamp.IsZero() {
				ts = "timestamp " + rep.Timestamp.Format(time.RFC3339)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s is %s %s %s/%s, block %d, %s\n", args[0], rep.Release.Manifest.Product,
				rep.Release.Manifest.Version, rep.Target.Platform, rep.Target.Locale, rep.Release.Index, ts)
			return nil
		},
	}
	cmd.Flags().StringVar(&genesisHex, "genesis", "", "the chain's genesis ID (hex)")
	cmd.Flags().StringVar(&bundle, "bundle", "", "the bundle file")
	cmd.Flags().StringArrayVar(&keyFiles, "mar-key", nil, "PEM file of an RSA key that must have signed the MAR (repeatable)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object")
	_ = cmd.MarkFlagRequired("genesis")
	_ = cmd.MarkFlagRequired("bundle")
	return cmd
}

func newUpdateEvidenceCmd(stateDir *string) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "evidence [--json]",
		Short:   "List the fork evidence kept in the state directory (exit 3 if there is any)",
		Example: `  chainiac update evidence --json`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := openClient(cmd, *stateDir)
			if err != nil {
				return fmt.Errorf("update evidence: %w", err)
			}
			evs, err := c.Evidence()
			if err != nil {
				return fmt.Errorf("update evidence: %w", err)
			}
			if asJSON {
				if err := writeJSON(cmd.OutOrStdout(), evs); err != nil {
					return err
				}
			} else {
				for _, e := range evs {
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s from %s: %s\n", e.Found.Format(time.RFC3339), e.Kind, e.Mirror, e.Summary)
				}
			}
			if len(evs) > 0 {
				return fmt.Errorf("update evidence: %d piece(s) in %s: %w", len(evs), filepath.Join(*stateDir, "evidence"), client.ErrEvidence)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON list")
	return cmd
}
