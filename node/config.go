package node

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/chainiac/chainiac/internal/atomicfile"
	"github.com/chainiac/chainiac/release/build"
	"github.com/chainiac/chainiac/skipchain"
)

// Defaults of a node's configuration.
const (
	DefaultTimestampInterval = time.Hour
	DefaultMaxClockSkew      = 5 * time.Minute
	DefaultRoundTimeout      = 30 * time.Second
	DefaultLinger            = 10 * time.Second
	DefaultRebuilds          = 1
	DefaultMaxProposals      = 4
	DefaultMaxChains         = 16

	// ReferenceRecipeName is the recipe the reference builder answers to.
	ReferenceRecipeName = "reference/v2"

	configFileName = "node.toml"
	keyFileName    = "node.key"
	maxConfigSize  = 1 << 20
)

// Config is a node's TOML configuration. Relative paths are relative to the
// directory of the configuration file.
type Config struct {
	// Address is the node's onet address in rosters, "tcp://host:port"; the node
	// listens on exactly that host and port.
	Address string `toml:"address"`
	// HTTP is where the node serves its HTTP API, host:port.
	HTTP string `toml:"http"`
	// PublicHTTP is the base URL other nodes use to fetch blocks from this node when
	// they catch up (default: http:// with the HTTP host, or the address's host when
	// the HTTP host is unspecified such as 0.0.0.0, and the HTTP port).
	PublicHTTP  string `toml:"public_http,omitempty"`
	Description string `toml:"description,omitempty"`
	KeyFile     string `toml:"key_file"`
	DataDir     string `toml:"data_dir"`
	// ExportDir, if set, receives the static export of every chain after each change.
	ExportDir string `toml:"export_dir,omitempty"`

	TimestampInterval Duration `toml:"timestamp_interval,omitempty"`
	MaxClockSkew      Duration `toml:"max_clock_skew,omitempty"`
	RoundTimeout      Duration `toml:"round_timeout,omitempty"`
	// Linger is how long a round this node leads keeps gathering after reaching its
	// threshold, so that slower members' signatures and refusals are reported too.
	Linger Duration `toml:"linger,omitempty"`
	// Rebuilds is how many rebuilds run at once; MaxProposals how many proposals the
	// HTTP API accepts at once (each waits for its chain's turn).
	Rebuilds     int `toml:"rebuilds,omitempty"`
	MaxProposals int `toml:"max_proposals,omitempty"`
	// MaxChains bounds the chains this node keeps (genesis requests beyond it fail).
	MaxChains int `toml:"max_chains,omitempty"`

	// Reference enables the reference builder as recipe "reference/v2", run as this
	// very binary; Recipes lists other build recipes by name.
	Reference bool           `toml:"reference_recipe,omitempty"`
	Recipes   []RecipeConfig `toml:"recipe,omitempty"`
	// BuildDir is where rebuild workspaces are made (default: DataDir/builds).
	BuildDir string `toml:"build_dir,omitempty"`

	LogFormat string `toml:"log_format,omitempty"` // "text" (default) or "json"
	LogLevel  string `toml:"log_level,omitempty"`  // "debug", "info" (default), "warn", "error"

	dir string // the configuration file's directory
}

// RecipeConfig is one build recipe a node can run (see build.Recipe).
type RecipeConfig struct {
	Name           string   `toml:"name"`
	Command        []string `toml:"command"`
	TimeLimit      Duration `toml:"time_limit"`
	OutputGlob     string   `toml:"output_glob"`
	MaxOutputBytes int64    `toml:"max_output_bytes"`
	MaxLogBytes    int64    `toml:"max_log_bytes"`
}

// Duration is a time.Duration written as "90s" or "1h" in TOML.
type Duration struct{ time.Duration }

func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	if v < 0 {
		return fmt.Errorf("negative duration %s", b)
	}
	d.Duration = v
	return nil
}

// LoadConfig reads and validates a configuration file.
func LoadConfig(path string) (*Config, error) {
	b, err := readLimited(path, maxConfigSize)
	if err != nil {
		return nil, fmt.Errorf("node: config: %w", err)
	}
	var c Config
	md, err := toml.Decode(string(b), &c)
	if err != nil {
		return nil, fmt.Errorf("node: config %s: %w", path, err)
	}
	if undec := md.Undecoded(); len(undec) > 0 {
		return nil, fmt.Errorf("node: config %s: unknown key %q", path, undec[0].String())
	}
	abs, err := filepath.Abs(filepath.Dir(path))
	if err != nil {
		return nil, fmt.Errorf("node: config: %w", err)
	}
	c.dir = abs
	if err := c.validate(); err != nil {
		return nil, fmt.Errorf("node: config %s: %w", path, err)
	}
	return &c, nil
}

func (c *Config) validate() error {
	if err := skipchain.CheckAddress(c.Address); err != nil {
		return fmt.Errorf("address: %w", err)
	}
	if !strings.HasPrefix(c.Address, "tcp://") {
		return fmt.Errorf("address %q: only tcp:// is supported", c.Address)
	}
	if _, _, err := splitHostPort(c.HTTP, true); err != nil {
		return fmt.Errorf("http: %w", err)
	}
	if c.PublicHTTP != "" {
		if err := checkSource(c.PublicHTTP); err != nil {
			return fmt.Errorf("public_http: %w", err)
		}
	}
	if c.KeyFile == "" || c.DataDir == "" {
		return errors.New("key_file and data_dir are required")
	}
	defaults := []struct {
		d   *Duration
		def time.Duration
	}{
		{&c.TimestampInterval, DefaultTimestampInterval},
		{&c.MaxClockSkew, DefaultMaxClockSkew},
		{&c.RoundTimeout, DefaultRoundTimeout},
		{&c.Linger, DefaultLinger},
	}
	for _, x := range defaults {
		if x.d.Duration == 0 {
			x.d.Duration = x.def
		}
	}
	if c.Rebuilds == 0 {
		c.Rebuilds = DefaultRebuilds
	}
	if c.MaxProposals == 0 {
		c.MaxProposals = DefaultMaxProposals
	}
	if c.MaxChains == 0 {
		c.MaxChains = DefaultMaxChains
	}
	if c.Rebuilds < 0 || c.MaxProposals < 0 || c.MaxChains < 0 {
		return errors.New("rebuilds, max_proposals and max_chains must be positive")
	}
	switch c.LogFormat {
	case "", "text", "json":
	default:
		return fmt.Errorf("log_format %q: want text or json", c.LogFormat)
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, r := range c.Recipes {
		if seen[r.Name] || (c.Reference && r.Name == ReferenceRecipeName) {
			return fmt.Errorf("recipe %q defined twice", r.Name)
		}
		seen[r.Name] = true
		if err := r.recipe().Validate(); err != nil {
			return fmt.Errorf("recipe %q: %w", r.Name, err)
		}
	}
	return nil
}

func (r RecipeConfig) recipe() build.Recipe {
	return build.Recipe{
		Name: r.Name, Command: r.Command, TimeLimit: r.TimeLimit.Duration, OutputGlob: r.OutputGlob,
		MaxOutputBytes: r.MaxOutputBytes, MaxLogBytes: r.MaxLogBytes,
	}
}

// path resolves a configured path against the configuration file's directory.
func (c *Config) path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.dir, p)
}

// listenHostPort is the onet address's host and port.
func (c *Config) listenHostPort() string { return strings.TrimPrefix(c.Address, "tcp://") }

// splitHostPort reads host:port; port 0 (any free port) only if anyPort.
func splitHostPort(hp string, anyPort bool) (string, int, error) {
	host, port, err := net.SplitHostPort(hp)
	if err != nil {
		return "", 0, err
	}
	low := 1
	if anyPort {
		low = 0
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < low || n > 65535 || strconv.Itoa(n) != port {
		return "", 0, fmt.Errorf("port %q: want %d to 65535", port, low)
	}
	return host, n, nil
}

func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %d bytes, at most %d", path, st.Size(), max)
	}
	b := make([]byte, st.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return b, nil
}

// SetupOptions are the inputs of Setup.
type SetupOptions struct {
	Address     string // onet address, "tcp://host:port" or "host:port"
	HTTP        string // host:port
	Dir         string // created if missing; must not hold a key already
	Description string
	Reference   bool // enable the reference builder recipe
}

// Setup creates a node's key pair and configuration in opts.Dir and returns the
// configuration file's path and the node's roster entry (an onet group file of one
// server). It refuses a directory that already holds a key: a node's key is never
// overwritten.
func Setup(opts SetupOptions, rand io.Reader) (string, []byte, error) {
	addr := opts.Address
	if !strings.Contains(addr, "://") {
		addr = "tcp://" + addr
	}
	cfg := &Config{
		Address: addr, HTTP: opts.HTTP, Description: opts.Description,
		KeyFile: keyFileName, DataDir: "data", Reference: opts.Reference,
	}
	if err := cfg.validate(); err != nil {
		return "", nil, fmt.Errorf("node: setup: %w", err)
	}
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return "", nil, fmt.Errorf("node: setup: %w", err)
	}
	keyPath := filepath.Join(opts.Dir, keyFileName)
	if _, err := os.Lstat(keyPath); err == nil {
		return "", nil, fmt.Errorf("node: setup: %s already holds a node key; refusing to overwrite it", keyPath)
	}
	key, err := generateKey(rand)
	if err != nil {
		return "", nil, err
	}
	if err := atomicfile.WriteNew(keyPath, marshalKey(key), 0o600); err != nil {
		return "", nil, fmt.Errorf("node: setup: key: %w", err)
	}
	cfgPath := filepath.Join(opts.Dir, configFileName)
	var buf strings.Builder
	buf.WriteString("# chainiac node configuration (chainiac node setup)\n")
	cfg.TimestampInterval.Duration = DefaultTimestampInterval
	if err := toml.NewEncoder(&buf).Encode(cfg); err != nil {
		return "", nil, fmt.Errorf("node: setup: config: %w", err)
	}
	if err := atomicfile.WriteNew(cfgPath, []byte(buf.String()), 0o600); err != nil {
		return "", nil, fmt.Errorf("node: setup: config: %w", err)
	}
	entry, err := rosterEntry(key, addr, opts.Description)
	if err != nil {
		return "", nil, err
	}
	return cfgPath, entry, nil
}
