package client

import (
	"crypto/rsa"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
)

// Mode chooses how Check reaches the newest block.
type Mode int

const (
	// Express verifies the newest timestamp with the trusted roster: one signature,
	// whatever the number of blocks missed (plus forward links to each roster change).
	Express Mode = iota
	// Links verifies every forward link on the shortest path to the newest block.
	Links
)

func (m Mode) String() string {
	if m == Links {
		return "links"
	}
	return "express"
}

// Defaults of Config.
const (
	DefaultMaxAge         = 24 * time.Hour
	DefaultRequestTimeout = 30 * time.Second
	// DefaultMaxClockSkew is how far in the future a timestamp may be: the cothority's
	// clocks and this machine's disagree a little, not by hours.
	DefaultMaxClockSkew = 10 * time.Minute
	// DefaultMaxHops bounds the forward links one Check follows from one mirror; a
	// lying mirror that hides every higher link cannot make the client walk a long
	// chain block by block, nor use up the hops of the mirrors tried after it.
	DefaultMaxHops = 4096
)

// Config is what a client is told. Only the genesis ID is trusted; mirrors are not.
type Config struct {
	// Genesis is the chain's genesis ID, the one thing pinned.
	Genesis skipchain.ID
	// Mirrors are base URLs (http or https) of nodes or static exports, tried in order.
	Mirrors []string
	// StateDir holds the trusted state and any evidence. It is created if missing.
	StateDir string
	// MaxAge is how old the newest timestamp may be (default DefaultMaxAge).
	MaxAge time.Duration
	// MaxClockSkew is how far in the future a timestamp may be (default
	// DefaultMaxClockSkew).
	MaxClockSkew time.Duration
	// Mode is Express (default) or Links.
	Mode Mode
	// Channel, if set, is the update channel the client follows: Check reports the
	// newest release on it, however many releases on other channels came after.
	// Empty follows the chain's newest release, whatever its channel.
	Channel string
	// VerifyAncestry also walks back-links from the newest block to the trusted one,
	// so that a head on another branch is caught even when a threshold of the roster
	// signed it (a few hundred bytes per level skipped).
	VerifyAncestry bool
	// Clock returns the time (default time.Now).
	Clock func() time.Time
	// HTTPClient fetches (default: a client with RequestTimeout per request).
	HTTPClient *http.Client
	// RequestTimeout bounds each request, body included (default
	// DefaultRequestTimeout): a mirror that drips its answer is given up.
	RequestTimeout time.Duration
	// MaxHops bounds the forward links one Check follows from each mirror (default
	// DefaultMaxHops).
	MaxHops int
	// MARKeys, if set, are the RSA keys of which at least one must have signed each
	// downloaded MAR.
	MARKeys []*rsa.PublicKey
	// Logger receives one line per mirror skipped and per update (default: discard).
	Logger *slog.Logger
}

// checkRedirect follows at most 5 redirects and never from https to http: what is
// fetched is verified anyway, but a downgrade would expose which updates a user
// checks for.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= 5 {
		return errors.New("more than 5 redirects")
	}
	if via[0].URL.Scheme == "https" && req.URL.Scheme != "https" {
		return fmt.Errorf("redirect from https to %s refused", req.URL.Scheme)
	}
	return nil
}

// Client checks for updates. Its methods may be called from several goroutines, and
// several clients (in several processes) may share a state directory.
type Client struct {
	cfg Config
	log *slog.Logger
	// rosters keeps parsed and weighted rosters across Checks: parsing a roster of
	// 128 costs about 60 ms of key checks, verifying with it well under 1 ms.
	rosters *skipchain.RosterCache
}

// New checks cfg and fills in its defaults.
func New(cfg Config) (*Client, error) {
	if cfg.Genesis.IsZero() {
		return nil, errors.New("client: no genesis ID")
	}
	if len(cfg.Mirrors) == 0 {
		return nil, errors.New("client: no mirror")
	}
	mirrors := make([]string, len(cfg.Mirrors))
	for i, m := range cfg.Mirrors {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("client: mirror %q: want an http or https base URL", m)
		}
		mirrors[i] = strings.TrimSuffix(m, "/")
	}
	cfg.Mirrors = mirrors
	if cfg.StateDir == "" {
		return nil, errors.New("client: no state directory")
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.Channel != "" {
		if err := release.ValidateChannel(cfg.Channel); err != nil {
			return nil, fmt.Errorf("client: channel: %w", err)
		}
	}
	if cfg.Mode != Express && cfg.Mode != Links {
		return nil, fmt.Errorf("client: unknown mode %d", cfg.Mode)
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.RequestTimeout, CheckRedirect: checkRedirect}
	}
	if cfg.MaxHops <= 0 {
		cfg.MaxHops = DefaultMaxHops
	}
	for i, k := range cfg.MARKeys {
		if k == nil || k.N.BitLen() < 2048 {
			return nil, fmt.Errorf("client: MAR key %d: want an RSA key of at least 2048 bits", i)
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Client{cfg: cfg, log: log, rosters: skipchain.NewRosterCache(skipchain.DefaultRosterCacheSize)}, nil
}
