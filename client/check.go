package client

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/skipchain"
	"github.com/chainiac/chainiac/timeline"
)

// Update is the result of a Check: the newest verified block and release.
type Update struct {
	Genesis skipchain.ID `json:"genesis"`
	// Head is the newest verified block, the one the newest timestamp names.
	Head BlockRef `json:"head"`
	// Release is the newest release at the head, nil if the chain has none yet.
	Release   *Release      `json:"release"`
	Timestamp time.Time     `json:"timestamp"`
	Age       time.Duration `json:"timestamp_age_ns"`
	// Moved is whether the trusted state moved forward.
	Moved  bool   `json:"moved"`
	Mirror string `json:"mirror,omitempty"`
	Mode   string `json:"mode"`
	Stats  Stats  `json:"stats"`
}

// BlockRef names a block.
type BlockRef struct {
	Index uint64       `json:"index"`
	ID    skipchain.ID `json:"id"`
	Kind  string       `json:"kind"`
}

// Release is a verified release block.
type Release struct {
	BlockRef
	Manifest *release.Manifest `json:"manifest"`
}

// Target is one MAR of a verified release, with what Download checks inside it.
type Target struct {
	release.Target
	Product string `json:"product"`
	Channel string `json:"channel"`
	Version string `json:"version"`
	Block   uint64 `json:"block"`
}

// Targets lists the release's MARs (none if there is no release).
func (u *Update) Targets() []Target {
	if u.Release == nil {
		return nil
	}
	m := u.Release.Manifest
	out := make([]Target, len(m.Targets))
	for i, t := range m.Targets {
		out[i] = Target{Target: t, Product: m.Product, Channel: m.Channel, Version: m.Version, Block: u.Release.Index}
	}
	return out
}

// Target returns the release's MAR for platform and locale.
func (u *Update) Target(platform, locale string) (Target, bool) {
	for _, t := range u.Targets() {
		if t.Platform == platform && t.Locale == locale {
			return t, true
		}
	}
	return Target{}, false
}

func (c *Client) state() stateDir {
	return stateDir{dir: c.cfg.StateDir, genesis: c.cfg.Genesis, rosters: c.rosters}
}

// Check fetches the newest cosigned timestamp and verifies everything from the
// trusted state to the block it names and that block's newest release, trying the
// mirrors in order until one convinces it. The trusted state moves forward only when
// everything verified. See the package documentation for the errors.
func (c *Client) Check(ctx context.Context) (*Update, error) {
	began := time.Now()
	sd := c.state()
	unlock, err := sd.lock(ctx)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if files, err := sd.pendingEvidence(); err != nil {
		return nil, fmt.Errorf("client: evidence: %w", err)
	} else if len(files) > 0 {
		return nil, fmt.Errorf("%w: %d piece(s) of evidence in %s must be looked at and removed before updating",
			ErrEvidence, len(files), strings.Join(files, ", "))
	}
	from, err := sd.load()
	if err != nil {
		return nil, err
	}
	seen := newStatementLog()
	var failures []error
	for _, base := range c.cfg.Mirrors {
		// Each mirror has its own budget: a lying one cannot use up the next one's.
		var stats Stats
		m := c.newMirror(base, &stats)
		next, err := c.checkMirror(ctx, m, from, seen)
		if err == nil {
			moved := from == nil || next.head.Index() > from.head.Index() || from.timestamp == nil ||
				!next.timestamp.Time.Equal(from.timestamp.Time)
			if moved {
				if err := sd.save(next); err != nil {
					return nil, err
				}
			}
			u, err := c.update(next, moved, base, &stats)
			if err != nil {
				return nil, err
			}
			u.Stats.Duration = time.Since(began)
			if moved {
				c.log.Info("verified", "mirror", base, "head", next.head.Index(), "mode", c.cfg.Mode, "hops", stats.Hops,
					"signature_checks", stats.SignatureChecks, "bytes", stats.Bytes)
			}
			return u, nil
		}
		var ee *EvidenceError
		if errors.As(err, &ee) {
			ee.Evidence.Mirror = base
			if werr := sd.keepEvidence(ee, c.cfg.Clock()); werr != nil {
				return nil, fmt.Errorf("%w (and it could not be kept: %v)", ee, werr)
			}
			c.log.Error("fork evidence", "mirror", base, "summary", ee.Evidence.Summary, "file", ee.Path)
			return nil, ee
		}
		c.log.Warn("mirror skipped", "mirror", base, "reason", err)
		failures = append(failures, &MirrorError{Mirror: base, Err: err})
		if ctx.Err() != nil {
			break
		}
	}
	err = c.allFailed(failures)
	if from != nil && from.timestamp != nil && errors.Is(err, ErrUnreachable) && !errors.Is(err, ErrRejected) {
		if age := from.timestamp.Age(c.cfg.Clock()); age > c.cfg.MaxAge {
			// Cutting every mirror off is a freeze too, once the trusted news is stale.
			return nil, fmt.Errorf("%w: %w: the trusted timestamp is %s old and no mirror answers: %w",
				ErrRejected, ErrFrozen, age.Round(time.Second), err)
		}
	}
	return nil, err
}

// newMirror is a fetcher for one mirror with a fresh budget.
func (c *Client) newMirror(base string, stats *Stats) *mirror {
	return &mirror{base: base, genesis: c.cfg.Genesis, http: c.cfg.HTTPClient, timeout: c.cfg.RequestTimeout,
		stats: stats, roster: c.rosters, maxRequests: 8*c.cfg.MaxHops + 64}
}

// checkMirror runs one session: from the trusted state, or from the genesis the mirror
// serves (checked against the pinned ID) on first use.
func (c *Client) checkMirror(ctx context.Context, m *mirror, from *trusted, seen *statementLog) (*trusted, error) {
	if from == nil {
		g, err := m.block(ctx, 0, c.cfg.Genesis)
		if err != nil {
			return nil, err
		}
		if from, err = genesisState(g); err != nil {
			return nil, err
		}
	}
	m.params = from.genesis.Header().Params()
	s := &session{c: c, m: m, from: from, params: m.params,
		verified: map[uint64]*skipchain.Header{from.head.Index(): from.head}, seen: seen}
	return s.run(ctx)
}

// allFailed is the error when no mirror convinced the client: ErrUnreachable if no
// mirror answered; otherwise the answers that did not verify (wrapping ErrRejected
// and, if they were stale, ErrFrozen), with the unreachable ones named but not
// wrapped, so that errors.Is never takes an attack for an outage.
func (c *Client) allFailed(failures []error) error {
	if len(failures) == 0 {
		return fmt.Errorf("%w: no mirror tried", ErrUnreachable)
	}
	var rejected []error
	var down []string
	for _, f := range failures {
		if errors.Is(f, ErrUnreachable) {
			down = append(down, f.Error())
		} else {
			rejected = append(rejected, f)
		}
	}
	if len(rejected) == 0 {
		return fmt.Errorf("client: every mirror failed: %w", errors.Join(failures...))
	}
	err := fmt.Errorf("client: no mirror served a verifiable update: %w", errors.Join(rejected...))
	if len(down) > 0 {
		err = fmt.Errorf("%w (unreachable: %s)", err, strings.Join(down, "; "))
	}
	if !errors.Is(err, ErrRejected) {
		// An answer that is neither verified nor a transport failure is still an
		// answer that did not verify.
		err = fmt.Errorf("%w: %w", ErrRejected, err)
	}
	return err
}

// update describes a trusted state.
func (c *Client) update(t *trusted, moved bool, mirror string, stats *Stats) (*Update, error) {
	u := &Update{Genesis: c.cfg.Genesis, Head: BlockRef{Index: t.head.Index(), ID: t.head.ID(), Kind: t.head.PayloadKind()},
		Moved: moved, Mirror: mirror, Mode: c.cfg.Mode.String()}
	if stats != nil {
		u.Stats = *stats
	}
	if t.timestamp != nil {
		u.Timestamp, u.Age = t.timestamp.Time, t.timestamp.Age(c.cfg.Clock())
	}
	if t.release != nil {
		p, err := timeline.ParsePayload(t.release.PayloadKind(), t.releasePayload)
		if err != nil || p.Release == nil {
			return nil, fmt.Errorf("client: trusted release payload: %v", err)
		}
		m, err := release.ParseManifest(p.Release.Manifest)
		if err != nil {
			return nil, fmt.Errorf("client: trusted release manifest: %w", err)
		}
		u.Release = &Release{BlockRef: BlockRef{Index: t.release.Index(), ID: t.release.ID(), Kind: t.release.PayloadKind()}, Manifest: m}
	}
	return u, nil
}

// Last returns what the client trusts now, without the network (nil if it has not
// checked yet). Its Age is computed now: an updater that has not checked for a while
// sees how stale it is.
func (c *Client) Last() (*Update, error) {
	t, err := c.state().load()
	if err != nil || t == nil {
		return nil, err
	}
	return c.update(t, false, "", nil)
}
