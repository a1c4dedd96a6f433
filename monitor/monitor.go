package monitor

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Defaults of Config.
const (
	DefaultMaxAge         = client.DefaultMaxAge
	DefaultMaxClockSkew   = client.DefaultMaxClockSkew
	DefaultRequestTimeout = client.DefaultRequestTimeout
	DefaultPageSize       = 200
)

// Peer is another monitor whose checkpoint this one compares with its own.
type Peer struct {
	URL string // of the peer's signed checkpoint (its site's /checkpoint)
	// Key, if set, is the peer's Ed25519 public key: a checkpoint signed by another
	// key is an alarm. Unset, any key is accepted and reported.
	Key ed25519.PublicKey
}

// Config is what a monitor is told. Only the genesis ID is trusted.
type Config struct {
	Genesis  skipchain.ID
	Mirrors  []string // base URLs of nodes or static exports
	StateDir string   // chain.db, monitor.json, monitor.key, evidence/
	Peers    []Peer
	// SiteDir, if set, is where each run writes the static site (see WriteSite).
	SiteDir string
	// PageSize is the number of blocks per index page (default DefaultPageSize).
	PageSize int
	// MaxAge is how old the newest timestamp may be before the chain, or a mirror,
	// counts as frozen (default DefaultMaxAge).
	MaxAge       time.Duration
	MaxClockSkew time.Duration
	// MaxBlocksPerRun bounds the blocks one run verifies (0: no bound), so that a
	// daemon catching up on a long chain still publishes between runs.
	MaxBlocksPerRun int
	// CheckMARs makes each run fetch the signed MAR of every target of every
	// verified release not yet checked, from the URL in its manifest, and compare
	// its size and SHA-512 with the manifest's: a difference is a mar-mismatch
	// alarm. Each release is fetched once (the state file remembers), the newest of
	// each channel again every MARRecheck, a mismatch in every run until it is gone.
	// Each MAR download may take RequestTimeout plus its size at
	// client.MinDownloadRate.
	CheckMARs bool
	// MARRecheck is how often the newest release of each channel is fetched again
	// (default DefaultMARRecheck).
	MARRecheck time.Duration
	// Rebuild, if set, makes each run rebuild every verified release not yet
	// rebuilt (see RebuildConfig): one that does not reproduce is a
	// not-reproducible alarm in every later run.
	Rebuild        *RebuildConfig
	Clock          func() time.Time
	HTTPClient     *http.Client
	RequestTimeout time.Duration
	Logger         *slog.Logger
}

// Status is a run's verdict.
type Status string

// The verdicts, in the order they win: an alarm beats unreachable mirrors.
const (
	Healthy     Status = "healthy"
	Alarmed     Status = "alarm"
	Unreachable Status = "unreachable"
)

// ErrUnreachable is returned (wrapped) by Run when no mirror answered at all.
var ErrUnreachable = errors.New("monitor: no mirror reachable")

// MirrorStatus is what one mirror showed in one run.
type MirrorStatus struct {
	URL string `json:"url"`
	// Index and Time are of the mirror's newest timestamp, when it verified.
	Index     uint64    `json:"index"`
	Head      string    `json:"head,omitempty"`
	Time      time.Time `json:"time,omitempty"`
	Reachable bool      `json:"reachable"`
	Error     string    `json:"error,omitempty"`
}

// PeerStatus is what one peer's checkpoint said in one run.
type PeerStatus struct {
	URL   string    `json:"url"`
	Key   string    `json:"key,omitempty"`
	Index uint64    `json:"index"`
	Head  string    `json:"head,omitempty"`
	Time  time.Time `json:"time,omitempty"`
	Agree bool      `json:"agree"` // names the block this monitor verified at its index
	Error string    `json:"error,omitempty"`
}

// Report is one run's result.
type Report struct {
	Status     Status         `json:"status"`
	Genesis    skipchain.ID   `json:"genesis"`
	Verified   uint64         `json:"verified"` // index of the newest verified block
	Head       skipchain.ID   `json:"head"`
	NewBlocks  int            `json:"new_blocks"`
	Timestamp  time.Time      `json:"timestamp,omitempty"` // newest verified timestamp
	Age        time.Duration  `json:"timestamp_age_ns"`
	Alarms     []Alarm        `json:"alarms"`   // raised by this run
	Evidence   []string       `json:"evidence"` // files not yet removed by a person
	Mirrors    []MirrorStatus `json:"mirrors"`
	Peers      []PeerStatus   `json:"peers,omitempty"`
	Checkpoint string         `json:"checkpoint,omitempty"` // hex of this monitor's signed checkpoint
	// MARs is what the MAR check (Config.CheckMARs) has done, nil if it is off.
	MARs *CheckReport `json:"mars,omitempty"`
	// Rebuild is what the independent rebuild (Config.Rebuild) has done, nil if
	// it is off.
	Rebuild     *CheckReport  `json:"rebuild,omitempty"`
	MonitorKey  string        `json:"monitor_key"`
	Duration    time.Duration `json:"duration_ns"`
	Unreachable bool          `json:"-"`
}

// Monitor follows one chain. Run may be called from several goroutines; runs are
// serialised. Close releases the store.
type Monitor struct {
	cfg     Config
	log     *slog.Logger
	key     ed25519.PrivateKey
	metrics *Metrics
	rosters *skipchain.RosterCache

	mu         sync.Mutex // serialises runs and guards what follows
	store      *skipchain.BoltStore
	tl         *timeline.State
	st         *persisted
	checkpoint *Checkpoint
	closed     bool
}

// New checks cfg, creates the state directory and its key if missing, and opens the
// verified chain if a previous run stored one: its timeline state is rebuilt from the
// local store (collective signatures are not checked again; the timeline rules and
// developer signatures are).
func New(cfg Config) (*Monitor, error) {
	if cfg.Genesis.IsZero() {
		return nil, errors.New("monitor: no genesis ID")
	}
	if len(cfg.Mirrors) == 0 {
		return nil, errors.New("monitor: no mirror")
	}
	for i, m := range cfg.Mirrors {
		u, err := url.Parse(m)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("monitor: mirror %q: want an http or https base URL", m)
		}
		cfg.Mirrors[i] = strings.TrimSuffix(m, "/")
	}
	for _, p := range cfg.Peers {
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("monitor: peer %q: want an http or https URL", p.URL)
		}
		if p.Key != nil && len(p.Key) != ed25519.PublicKeySize {
			return nil, fmt.Errorf("monitor: peer %s: key of %d bytes", p.URL, len(p.Key))
		}
	}
	if cfg.StateDir == "" {
		return nil, errors.New("monitor: no state directory")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = DefaultPageSize
	}
	if cfg.MaxAge <= 0 {
		cfg.MaxAge = DefaultMaxAge
	}
	if cfg.MaxClockSkew <= 0 {
		cfg.MaxClockSkew = DefaultMaxClockSkew
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.Rebuild != nil {
		rc := *cfg.Rebuild
		if err := rc.validate(); err != nil {
			return nil, err
		}
		cfg.Rebuild = &rc
	}
	if cfg.MARRecheck <= 0 {
		cfg.MARRecheck = DefaultMARRecheck
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Timeout: cfg.RequestTimeout}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if err := os.MkdirAll(cfg.StateDir, 0o755); err != nil {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	key, err := loadKey(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	st, err := loadState(cfg.StateDir, cfg.Genesis)
	if err != nil {
		return nil, err
	}
	m := &Monitor{cfg: cfg, log: log, key: key, st: st, metrics: newMetrics(),
		rosters: skipchain.NewRosterCache(skipchain.DefaultRosterCacheSize)}
	path := filepath.Join(cfg.StateDir, chainFile)
	if _, err := os.Stat(path); err == nil {
		store, err := skipchain.OpenBoltStore(path)
		if err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
		if err := m.resume(store); err != nil {
			_ = store.Close()
			return nil, err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("monitor: %w", err)
	}
	return m, nil
}

// resume rebuilds the timeline state from a stored chain.
func (m *Monitor) resume(store *skipchain.BoltStore) error {
	g, err := store.Genesis()
	if err != nil {
		return err
	}
	if g.ID() != m.cfg.Genesis {
		return fmt.Errorf("monitor: %s holds chain %s, not %s", store.Path(), g.ID(), m.cfg.Genesis)
	}
	tl, err := timeline.NewState(g)
	if err != nil {
		return fmt.Errorf("monitor: stored genesis: %w", err)
	}
	head, err := store.Head()
	if err != nil {
		return err
	}
	for i := uint64(1); i <= head.Index(); i++ {
		b, err := store.Block(i)
		if err != nil {
			return fmt.Errorf("monitor: stored block %d: %w", i, err)
		}
		if _, err := tl.Apply(b); err != nil {
			return fmt.Errorf("monitor: stored block %d no longer passes the timeline rules: %w", i, err)
		}
	}
	m.store, m.tl = store, tl
	m.metrics.last.Set(float64(head.Index()))
	return nil
}

// Close releases the store. Runs after Close fail.
func (m *Monitor) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	if m.store != nil {
		return m.store.Close()
	}
	return nil
}

// PublicKey is the key the monitor's checkpoints are signed with.
func (m *Monitor) PublicKey() ed25519.PublicKey { return m.key.Public().(ed25519.PublicKey) }

// Metrics returns the monitor's Prometheus metrics.
func (m *Monitor) Metrics() *Metrics { return m.metrics }

// Checkpoint returns the newest signed checkpoint, nil before the first run.
func (m *Monitor) Checkpoint() *Checkpoint {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.checkpoint
}

// run is the state of one Run.
type run struct {
	m        *Monitor
	now      time.Time
	fetchers []*fetcher
	status   []MirrorStatus
	lied     []bool // mirror i served something that did not verify in this run
	alarms   []Alarm
	links    []map[skipchain.LinkPosition]*skipchain.ForwardLink // per mirror: decoded links leaving served blocks
	diverged []bool                                              // mirror i serves blocks that do not follow the verified head
	newest   *timeline.Timestamp                                 // newest timestamp verified in this run
	stamps   []*timeline.Timestamp                               // each mirror's, decoded
	forked   bool
	mars     *CheckReport
	rebuilt  *CheckReport
}

func (r *run) alarm(kind, source, format string, args ...any) *Alarm {
	a := Alarm{Kind: kind, Source: source, Summary: fmt.Sprintf(format, args...), First: r.now, Last: r.now, Active: true}
	r.m.log.Warn("alarm", "kind", kind, "source", source, "summary", a.Summary)
	r.alarms = append(r.alarms, a)
	return &r.alarms[len(r.alarms)-1]
}

func (r *run) anyLied() bool {
	for _, l := range r.lied {
		if l {
			return true
		}
	}
	return false
}

// mirrorFailed records a mirror's error: a lie is an alarm, anything else a mirror
// error.
func (r *run) mirrorFailed(i int, err error) {
	r.m.metrics.mirrorErrors.WithLabelValues(r.fetchers[i].base).Inc()
	if r.status[i].Error == "" {
		r.status[i].Error = err.Error()
	}
	if isLie(err) {
		if !r.lied[i] {
			r.alarm(AlarmLyingMirror, r.fetchers[i].base, "%v", err)
		}
		r.lied[i] = true
		return
	}
	r.m.log.Info("mirror error", "mirror", r.fetchers[i].base, "error", err)
}

// Run follows the chain once: it verifies every block the mirrors serve beyond the
// stored head, compares what each mirror and peer shows, signs a checkpoint, saves
// the state and, if configured, writes the site. Its error is for failures of the
// monitor itself (a damaged store, a full disk); a run that found alarms returns
// a Report with Status Alarmed and a nil error. When no mirror answered at all the
// status is Unreachable.
func (m *Monitor) Run(ctx context.Context) (*Report, error) {
	began := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("monitor: closed")
	}
	r := &run{m: m, now: m.cfg.Clock().UTC()}
	for _, base := range m.cfg.Mirrors {
		r.fetchers = append(r.fetchers, &fetcher{base: base, genesis: m.cfg.Genesis, http: m.cfg.HTTPClient,
			timeout: m.cfg.RequestTimeout, rosters: m.rosters})
		r.status = append(r.status, MirrorStatus{URL: base})
		r.links = append(r.links, map[skipchain.LinkPosition]*skipchain.ForwardLink{})
	}
	r.diverged = make([]bool, len(r.fetchers))
	r.lied = make([]bool, len(r.fetchers))
	r.stamps = make([]*timeline.Timestamp, len(r.fetchers))
	if m.store == nil {
		if err := r.bootstrap(ctx); err != nil {
			return nil, err
		}
	}
	newBlocks := 0
	if m.store != nil {
		for i, f := range r.fetchers {
			ts, err := f.timestamp(ctx)
			if err != nil {
				r.mirrorFailed(i, err)
				continue
			}
			r.status[i].Reachable = true
			r.stamps[i] = ts
		}
		if err := r.recheckLies(ctx); err != nil {
			return nil, err
		}
		var err error
		if newBlocks, err = r.sync(ctx); err != nil {
			return nil, err
		}
		if !r.forked {
			if err := r.compare(ctx); err != nil {
				return nil, err
			}
		}
		if m.cfg.CheckMARs {
			if r.mars, err = r.runChecks(ctx, r.marChecker()); err != nil {
				return nil, err
			}
		}
		if m.cfg.Rebuild != nil {
			if r.rebuilt, err = r.runChecks(ctx, r.rebuildChecker()); err != nil {
				return nil, err
			}
		}
		r.checkAlarms()
	}
	return r.finish(ctx, newBlocks, began)
}

// bootstrap fetches the genesis from the first mirror that serves the pinned one and
// creates the store.
func (r *run) bootstrap(ctx context.Context) error {
	m := r.m
	for i, f := range r.fetchers {
		sb, err := f.served(ctx, 0)
		if err != nil {
			r.mirrorFailed(i, withheld(err))
			continue
		}
		r.status[i].Reachable = true
		if sb.Block.ID() != m.cfg.Genesis {
			r.mirrorFailed(i, lief("genesis is %s, not %s", sb.Block.ID(), m.cfg.Genesis))
			continue
		}
		tl, err := timeline.NewState(sb.Block)
		if err != nil {
			return fmt.Errorf("monitor: the pinned genesis %s is not a valid timeline genesis: %w", m.cfg.Genesis.Short(), err)
		}
		store, err := skipchain.CreateBoltStore(filepath.Join(m.cfg.StateDir, chainFile), sb.Block)
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		m.store, m.tl = store, tl
		r.keepLinks(i, sb.Links)
		return nil
	}
	return nil
}

func (r *run) keepLinks(i int, links []*skipchain.ForwardLink) {
	p := r.m.tl.Genesis().Params()
	for _, l := range links {
		if level, err := l.Level(p); err == nil {
			r.links[i][skipchain.LinkPosition{From: l.FromIndex(), Level: level}] = l
		}
	}
}

// errDiverged: the mirror's next block does not link back to the verified head; the
// comparison looks for where its chain leaves ours.
var errDiverged = errors.New("the mirror's chain leaves the verified one")

// sync verifies blocks beyond the stored head, one at a time, each from the first
// mirror (starting with the one that served the previous block) that serves one that
// verifies.
func (r *run) sync(ctx context.Context) (int, error) {
	m := r.m
	cur, n := 0, 0
	for m.cfg.MaxBlocksPerRun <= 0 || n < m.cfg.MaxBlocksPerRun {
		if ctx.Err() != nil {
			return n, nil
		}
		head := m.tl.Head().Index()
		next := head + 1
		got := false
		for k := 0; k < len(r.fetchers) && !got; k++ {
			i := (cur + k) % len(r.fetchers)
			if !r.status[i].Reachable || r.lied[i] || r.diverged[i] {
				continue
			}
			err := r.verifyNext(ctx, i, next)
			var fe *skipchain.ForkError
			switch {
			case err == nil && r.forked:
				return n, nil // the roster signed an invalid block: nothing after it counts
			case err == nil:
				got, cur = true, i
			case errors.As(err, &fe):
				return n, r.fork(i, fe)
			case errors.Is(err, errNotFound):
			case errors.Is(err, errDiverged):
				r.diverged[i] = true
			case isLie(err):
				r.mirrorFailed(i, err)
				r.noteLie(i, next)
			case isUnreachable(err):
				r.mirrorFailed(i, err)
			default:
				return n, err
			}
		}
		if !got {
			return n, nil
		}
		n++
	}
	return n, nil
}

// verifyNext fetches block next from mirror i and verifies it: the chain rules
// (skipchain.CheckSuccessor), every forward link into it (skipchain.CheckLink, each
// under the roster of the block it leaves), and the timeline rules
// (timeline.State.Check: pointers, roster and policy changes, the release manifest
// under the developer policy in force). Only then is it stored and applied.
func (r *run) verifyNext(ctx context.Context, i int, next uint64) error {
	m, f := r.m, r.fetchers[i]
	sb, err := f.served(ctx, next)
	if err != nil {
		return err
	}
	b := sb.Block
	if b.Header().Params() != m.tl.Genesis().Params() {
		return lief("block %d: parameters %+v, the chain's are %+v", next, b.Header().Params(), m.tl.Genesis().Params())
	}
	if back := b.Header().BackLinks(); len(back) > 0 && back[0] != m.tl.Head().ID() {
		return errDiverged
	}
	var into []*skipchain.ForwardLink
	for _, pos := range b.Header().Params().LinksInto(next) {
		l, ok := r.links[i][pos]
		if !ok || l.ToIndex() != next || l.To() != b.ID() {
			if l, err = f.link(ctx, pos.From, pos.Level); err != nil {
				return withheld(err)
			}
		}
		into = append(into, l)
	}
	checked, err := m.tl.Prepare(b)
	if err != nil {
		return r.refused(f, b, into[0], err)
	}
	if err := m.store.Append(b, into...); err != nil {
		var fe *skipchain.ForkError
		if errors.As(err, &fe) {
			return err
		}
		if errors.Is(err, skipchain.ErrInvalidBlock) || errors.Is(err, skipchain.ErrInvalidLink) ||
			errors.Is(err, skipchain.ErrMalformed) || errors.Is(err, skipchain.ErrGap) {
			return &lie{err}
		}
		return fmt.Errorf("monitor: store block %d: %w", next, err)
	}
	// Checked above; applied only now that the store holds it, so the state never
	// claims more than is stored.
	change, err := m.tl.Commit(checked)
	if err != nil {
		return fmt.Errorf("monitor: block %d stored but not applied: %w", next, err)
	}
	for _, pos := range b.Header().Params().LinksInto(next) {
		for _, links := range r.links {
			delete(links, pos)
		}
	}
	r.keepLinks(i, sb.Links)
	m.metrics.blocks.Inc()
	m.metrics.last.Set(float64(next))
	m.log.Info("verified", "block", next, "kind", change.Kind, "mirror", f.base)
	return nil
}

// refused handles a block that breaks the timeline's rules: if the roster signed
// the link into it, that is proof against the roster; otherwise the mirror lies.
func (r *run) refused(f *fetcher, b *skipchain.Block, l *skipchain.ForwardLink, why error) error {
	m := r.m
	prev, err := m.store.Block(b.Index() - 1)
	if err != nil {
		return fmt.Errorf("monitor: %w", err)
	}
	if skipchain.CheckLink(prev, b.Header(), l) != nil {
		return lief("block %d: %v (and its link is not validly signed)", b.Index(), why)
	}
	a := r.alarm(AlarmSignedInvalid, f.base, "the roster of block %d signed block %d, which breaks the timeline's rules: %v",
		prev.Index(), b.Index(), why)
	ev := signedInvalidEvidence(a.Summary, f.base, r.now, l, b)
	if p, err := writeEvidence(m.cfg.StateDir, ev); err == nil {
		a.Evidence = p
	} else {
		return fmt.Errorf("monitor: keep evidence: %w", err)
	}
	r.forked = true
	return nil
}

// fork records fork evidence found while storing a block or link from mirror i.
func (r *run) fork(i int, fe *skipchain.ForkError) error {
	base := ""
	if i >= 0 {
		base = r.fetchers[i].base
	}
	if err := fe.VerifyAgainst(r.m.store); err != nil {
		// Not about our chain: a lie, not evidence.
		if i >= 0 {
			r.mirrorFailed(i, lief("fork evidence not about this chain: %v", err))
		}
		return nil
	}
	a := r.alarm(AlarmFork, base, "%v", fe)
	p, err := writeEvidence(r.m.cfg.StateDir, linkForkEvidence(fe, base, r.now))
	if err != nil {
		return fmt.Errorf("monitor: keep evidence: %w", err)
	}
	a.Evidence = p
	r.forked = true
	return nil
}

// compare checks each mirror's view against the verified chain: its timestamp (which
// must verify under the roster of the block it names and describe that block), its
// head, and its age. A mirror whose chain leaves the verified one is searched for
// the block where it does, and the link into that block is checked for a fork.
func (r *run) compare(ctx context.Context) error {
	m := r.m
	head := m.tl.Head()
	for i, f := range r.fetchers {
		ts := r.stamps[i]
		if ts == nil || r.lied[i] {
			continue
		}
		if ts.Index > head.Index() || r.diverged[i] {
			at := min(ts.Index, head.Index())
			theirs, err := f.header(ctx, at)
			if err != nil {
				r.mirrorFailed(i, withheld(err))
				continue
			}
			if theirs.ID() != head.ID() && at == head.Index() || r.diverged[i] {
				if err := r.diverge(ctx, i, at, nil, nil); err != nil {
					return err
				}
				continue
			}
			if ts.Index > head.Index() {
				r.mirrorFailed(i, lief("its timestamp names block %d, but it serves no valid chain beyond block %d", ts.Index, head.Index()))
				continue
			}
		}
		h, err := m.store.Header(ts.Index)
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		roster, err := m.store.Roster(h.RosterID())
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		verr := ts.Verify(roster)
		if ts.Head != h.ID() {
			// About another block than ours at that index: find where the mirror's
			// chain leaves ours. If our block's roster signed the timestamp, the
			// timestamp itself is evidence too.
			signed := ts
			if verr != nil {
				signed = nil
			}
			if err := r.diverge(ctx, i, ts.Index, signed, h); err != nil {
				return err
			}
			continue
		}
		if verr != nil {
			r.mirrorFailed(i, lief("timestamp: %v", verr))
			continue
		}
		if err := ts.Describes(h); err != nil {
			r.mirrorFailed(i, lief("%v", err))
			continue
		}
		if ts.Age(r.now) < -m.cfg.MaxClockSkew {
			r.mirrorFailed(i, lief("timestamp of %s is in the future", ts.Time.Format(time.RFC3339)))
			continue
		}
		r.status[i].Index, r.status[i].Head, r.status[i].Time = ts.Index, ts.Head.String(), ts.Time
		if age := ts.Age(r.now); age > m.cfg.MaxAge {
			// No age in the summary: a later run that finds the same timestamp updates
			// this alarm instead of adding one.
			r.alarm(AlarmFrozenMirror, f.base, "its newest timestamp (block %d, %s) is older than %s",
				ts.Index, ts.Time.Format(time.RFC3339), m.cfg.MaxAge)
		}
		if r.newest == nil || ts.Time.After(r.newest.Time) || (ts.Time.Equal(r.newest.Time) && ts.Index > r.newest.Index) {
			r.newest = ts
		}
		// The mirror must serve the bytes of the block it says is newest.
		if err := f.payloadMatches(ctx, h); err != nil {
			r.mirrorFailed(i, err)
		}
	}
	return nil
}

// diverge finds the first block at which mirror i's chain differs from ours, at or
// below hi (headers chain by hash, so a binary search over the mirror's headers finds
// it), and asks the store to add the mirror's link into that block: if the roster
// signed it, the store returns the fork evidence. ts, if not nil, is a verified
// timestamp naming another block than ours at its index, kept as evidence if no link
// fork is found.
func (r *run) diverge(ctx context.Context, i int, hi uint64, ts *timeline.Timestamp, ours *skipchain.Header) error {
	m, f := r.m, r.fetchers[i]
	if r.diverged[i] {
		// Its block after our head did not link back to our head: it differs at the
		// head, or it served a block that does not follow its own.
		hi = m.tl.Head().Index()
		theirs, err := f.header(ctx, hi)
		if err != nil {
			r.mirrorFailed(i, withheld(err))
			return nil
		}
		if mine, _ := m.store.Header(hi); theirs.ID() == mine.ID() {
			r.mirrorFailed(i, lief("serves block %d that does not follow its own block %d", hi+1, hi))
			return nil
		}
	}
	lo := uint64(0) // ours and the mirror's agree at lo, differ at hi
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		theirs, err := f.header(ctx, mid)
		if err != nil {
			r.mirrorFailed(i, withheld(err))
			return nil
		}
		mine, err := m.store.Header(mid)
		if err != nil {
			return fmt.Errorf("monitor: %w", err)
		}
		if theirs.ID() == mine.ID() {
			lo = mid
		} else {
			hi = mid
		}
	}
	l, err := f.link(ctx, lo, 0)
	if err == nil && l.ToIndex() == hi && l.FromIndex() == lo {
		err = m.store.AddLink(l)
		var fe *skipchain.ForkError
		if errors.As(err, &fe) {
			return r.fork(i, fe)
		}
	}
	if ts != nil {
		return r.timestampFork(i, ts, ours)
	}
	r.mirrorFailed(i, lief("serves another chain from block %d on, not validly signed (%v)", hi, err))
	return nil
}

// timestampFork is the evidence of a timestamp naming another block at an index where
// the verified chain has a block: the timestamp and the level-0 link into our block.
func (r *run) timestampFork(i int, ts *timeline.Timestamp, ours *skipchain.Header) error {
	m, f := r.m, r.fetchers[i]
	var link *skipchain.ForwardLink
	if ours.Index() > 0 {
		link, _ = m.store.Link(ours.Index()-1, 0)
	}
	a := r.alarm(AlarmFork, f.base, "a timestamp signed by roster %s names block %d %s, the verified chain has %s",
		ts.RosterID.Short(), ts.Index, ts.Head.Short(), ours.ID().Short())
	p, err := writeEvidence(m.cfg.StateDir, timestampForkEvidence(a.Summary, f.base, r.now, link, ts))
	if err != nil {
		return fmt.Errorf("monitor: keep evidence: %w", err)
	}
	a.Evidence = p
	r.forked = true
	return nil
}

// finish signs the checkpoint, compares peers, judges, saves the state and writes
// the site.
func (r *run) finish(ctx context.Context, newBlocks int, began time.Time) (*Report, error) {
	m := r.m
	rep := &Report{Genesis: m.cfg.Genesis, NewBlocks: newBlocks, Mirrors: r.status,
		MonitorKey: hex.EncodeToString(m.PublicKey()), MARs: r.mars, Rebuild: r.rebuilt}
	reachable := false
	for _, s := range r.status {
		reachable = reachable || s.Reachable
	}
	if m.store != nil {
		head := m.tl.Head()
		rep.Verified, rep.Head = head.Index(), head.ID()
		rep.Peers = r.comparePeers(ctx, head)
		prev, err := m.st.timestamp()
		if err != nil {
			return nil, fmt.Errorf("monitor: %w", err)
		}
		if r.newest != nil && (prev == nil || !r.newest.Time.Before(prev.Time)) {
			m.st.Timestamp = hex.EncodeToString(r.newest.Encode())
			prev = r.newest
		}
		if prev != nil {
			rep.Timestamp, rep.Age = prev.Time, prev.Age(r.now)
			m.metrics.tsAge.Set(rep.Age.Seconds())
		}
		if (prev != nil && rep.Age > m.cfg.MaxAge) || (reachable && prev == nil && !r.anyLied()) {
			// Cutting every mirror off is a freeze too, once the verified news is stale.
			what := "no timestamp verified"
			if prev != nil {
				what = fmt.Sprintf("the newest verified timestamp (block %d, %s) is older than %s",
					prev.Index, prev.Time.Format(time.RFC3339), m.cfg.MaxAge)
			}
			r.alarm(AlarmFrozenChain, "", "%s", what)
		}
		m.checkpoint = SignCheckpoint(m.key, head, r.now)
		rep.Checkpoint = hex.EncodeToString(m.checkpoint.Encode())
		m.st.Verified, m.st.Head = head.Index(), head.ID()
	}
	ev, err := pendingEvidence(m.cfg.StateDir)
	if err != nil {
		return nil, fmt.Errorf("monitor: evidence: %w", err)
	}
	rep.Evidence, rep.Alarms = ev, r.alarms
	switch {
	case len(r.alarms) > 0 || len(ev) > 0:
		rep.Status = Alarmed
	case !reachable:
		rep.Status, rep.Unreachable = Unreachable, true
	default:
		rep.Status = Healthy
	}
	m.st.Runs++
	m.st.LastRun = r.now
	m.st.mergeAlarms(r.alarms, r.now)
	age := int64(-1)
	if !rep.Timestamp.IsZero() {
		age = int64(rep.Age.Seconds())
	}
	m.st.History = append(m.st.History, HistoryPoint{Time: r.now, Verified: rep.Verified, TimestampAge: age})
	if len(m.st.History) > maxHistory {
		m.st.History = m.st.History[len(m.st.History)-maxHistory:]
	}
	m.metrics.observe(r.alarms, len(ev))
	m.metrics.observeChecks("mars", r.mars)
	m.metrics.observeChecks("rebuild", r.rebuilt)
	if err := saveState(m.cfg.StateDir, m.st); err != nil {
		return nil, fmt.Errorf("monitor: save state: %w", err)
	}
	rep.Duration = time.Since(began)
	if m.cfg.SiteDir != "" && m.store != nil {
		if err := m.writeSite(m.cfg.SiteDir, rep); err != nil {
			return nil, fmt.Errorf("monitor: site: %w", err)
		}
	}
	return rep, nil
}

// mergeAlarms adds this run's alarms to the kept ones: the same kind, source and
// summary as a kept alarm updates it; every kept alarm not raised again becomes
// inactive. The oldest are dropped beyond maxAlarms.
func (p *persisted) mergeAlarms(raised []Alarm, now time.Time) {
	for i := range p.Alarms {
		p.Alarms[i].Active = false
	}
	for _, a := range raised {
		found := false
		for i := range p.Alarms {
			k := &p.Alarms[i]
			if k.Kind == a.Kind && k.Source == a.Source && k.Summary == a.Summary {
				k.Last, k.Active, found = now, true, true
				if a.Evidence != "" {
					k.Evidence = a.Evidence
				}
			}
		}
		if !found {
			p.Alarms = append(p.Alarms, a)
		}
	}
	if len(p.Alarms) > maxAlarms {
		p.Alarms = p.Alarms[len(p.Alarms)-maxAlarms:]
	}
}

// comparePeers fetches each peer's checkpoint and compares it with the verified
// chain.
func (r *run) comparePeers(ctx context.Context, head *skipchain.Header) []PeerStatus {
	m := r.m
	var out []PeerStatus
	for _, p := range m.cfg.Peers {
		ps := PeerStatus{URL: p.URL}
		c, err := getCheckpoint(ctx, m.cfg.HTTPClient, m.cfg.RequestTimeout, p.URL)
		switch {
		case err != nil && isLie(err):
			ps.Error = err.Error()
			r.alarm(AlarmPeerInvalid, p.URL, "%v", err)
		case err != nil:
			ps.Error = err.Error()
		case p.Key != nil && !p.Key.Equal(c.Key):
			ps.Error = fmt.Sprintf("signed by key %x, the configured key is %x", []byte(c.Key), []byte(p.Key))
			r.alarm(AlarmPeerInvalid, p.URL, "checkpoint %s", ps.Error)
		case c.Genesis != m.cfg.Genesis:
			ps.Error = fmt.Sprintf("checkpoint of chain %s", c.Genesis)
			r.alarm(AlarmPeerInvalid, p.URL, "%s, not %s", ps.Error, m.cfg.Genesis)
		default:
			ps.Key, ps.Index, ps.Head, ps.Time = hex.EncodeToString(c.Key), c.Index, c.Head.String(), c.Time
			if c.Index <= head.Index() {
				h, err := m.store.Header(c.Index)
				if err == nil && h.ID() == c.Head {
					ps.Agree = true
				} else if err == nil {
					ps.Error = fmt.Sprintf("names block %d %s, this monitor verified %s", c.Index, c.Head.Short(), h.ID().Short())
					r.alarm(AlarmPeerConflict, p.URL, "split view: the peer monitor (key %x) %s", []byte(c.Key[:8]), ps.Error)
				}
			} else {
				ps.Error = fmt.Sprintf("the peer verified up to block %d, this monitor only to %d", c.Index, head.Index())
			}
		}
		out = append(out, ps)
	}
	return out
}
