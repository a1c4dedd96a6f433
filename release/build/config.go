package build

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release/mar"
)

// DefaultPath is the PATH every build gets unless the node configures another: the
// system directories only, never the operator's PATH.
const DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Limits bound what a source may cost before the build even starts.
type Limits struct {
	MaxSourceBytes    int64         // archive size (download or local file)
	MaxExtractedBytes int64         // sum of regular file sizes in the source tree
	MaxFiles          int           // entries in the source tree, unlisted directories included
	MaxXZDict         int64         // LZMA2 dictionary a .tar.xz may ask for (allocated up front)
	FetchTimeout      time.Duration // whole download, including the response body
}

// DefaultLimits fit a Firefox-sized source tree (about 0.5 GiB compressed, 350k files).
func DefaultLimits() Limits {
	return Limits{
		MaxSourceBytes:    4 << 30,
		MaxExtractedBytes: 16 << 30,
		MaxFiles:          1_000_000,
		MaxXZDict:         mar.DefaultMaxXZDict, // what xz -9 uses
		FetchTimeout:      30 * time.Minute,
	}
}

// Config configures a Runner. Zero fields take the defaults.
type Config struct {
	// WorkDir is where each build's fresh temporary workspace is made
	// (default os.TempDir()).
	WorkDir string
	// Path is the build's PATH (default DefaultPath); every entry must be absolute.
	Path string
	// HTTPClient fetches http(s) sources (default: a client without its own timeout;
	// Limits.FetchTimeout bounds each fetch).
	HTTPClient *http.Client
	Limits     Limits
	Logger     *slog.Logger
}

// Runner rebuilds releases. It holds configuration only, so one Runner may run
// several builds at once.
type Runner struct {
	workDir string
	path    string
	client  *http.Client
	limits  Limits
	log     *slog.Logger
	// waitDelay bounds the wait for output after the build is gone (tests shorten it).
	waitDelay time.Duration
}

// NewRunner validates cfg and fills in defaults.
func NewRunner(cfg Config) (*Runner, error) {
	if err := checkPlatform(); err != nil {
		return nil, err
	}
	r := &Runner{workDir: cfg.WorkDir, path: cfg.Path, client: cfg.HTTPClient, limits: cfg.Limits,
		log: cfg.Logger, waitDelay: defaultWaitDelay}
	if r.workDir == "" {
		r.workDir = os.TempDir()
	}
	if st, err := os.Stat(r.workDir); err != nil || !st.IsDir() {
		return nil, fmt.Errorf("build: work dir %q is not a directory", r.workDir)
	}
	if r.path == "" {
		r.path = DefaultPath
	}
	for _, dir := range strings.Split(r.path, ":") {
		if !filepath.IsAbs(dir) {
			return nil, fmt.Errorf("build: PATH entry %q is not absolute", dir)
		}
	}
	if r.client == nil {
		r.client = &http.Client{}
	}
	def := DefaultLimits()
	l := &r.limits
	if l.MaxSourceBytes < 0 || l.MaxExtractedBytes < 0 || l.MaxFiles < 0 || l.MaxXZDict < 0 || l.FetchTimeout < 0 {
		return nil, fmt.Errorf("build: negative limit in %+v", *l)
	}
	if l.MaxSourceBytes == 0 {
		l.MaxSourceBytes = def.MaxSourceBytes
	}
	if l.MaxExtractedBytes == 0 {
		l.MaxExtractedBytes = def.MaxExtractedBytes
	}
	if l.MaxFiles == 0 {
		l.MaxFiles = def.MaxFiles
	}
	if l.MaxXZDict == 0 {
		l.MaxXZDict = def.MaxXZDict
	}
	if l.FetchTimeout == 0 {
		l.FetchTimeout = def.FetchTimeout
	}
	if r.log == nil {
		r.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return r, nil
}
