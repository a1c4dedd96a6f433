package monitor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/release/build"
)

// RebuildConfig makes the monitor rebuild every verified release from its source,
// as the nodes did before they signed (build.Runner, then build.FetchSignedMARs and
// build.CheckRebuild), and report each release it could not reproduce.
type RebuildConfig struct {
	// Runner runs the builds, each in a fresh workspace under its WorkDir.
	Runner *build.Runner
	// Recipes maps the recipe names manifests give (such as build.ReferenceRecipeName)
	// to what builds them.
	Recipes map[string]build.Recipe
	// Source is where a release's source is: an http(s) URL, or an absolute path or
	// file:// URL on this machine, in which {product}, {version} and {channel} are
	// replaced by the manifest's, e.g.
	// https://dist.example.org/{product}/{version}/{product}-{version}.tar.gz.
	// The chain names the source only by its SHA-256; whoever runs the monitor says
	// where the release team publishes it.
	Source string
	// MaxPerRun bounds the releases rebuilt in one run (0: no bound), so that a
	// daemon catching up still publishes between runs.
	MaxPerRun int
	// FetchTimeout bounds the download of each signed MAR (default
	// build.DefaultLimits().FetchTimeout).
	FetchTimeout time.Duration
}

func (c *RebuildConfig) validate() error {
	if c.Runner == nil {
		return errors.New("monitor: rebuild: no runner")
	}
	if !strings.Contains(c.Source, "{version}") {
		return fmt.Errorf("monitor: rebuild: source %q does not contain {version}", c.Source)
	}
	switch u, err := url.Parse(c.Source); {
	case err != nil:
		return fmt.Errorf("monitor: rebuild: source %q: %w", c.Source, err)
	case u.Scheme == "http" || u.Scheme == "https":
		if u.Host == "" {
			return fmt.Errorf("monitor: rebuild: source %q: no host", c.Source)
		}
	case u.Scheme == "file":
	case u.Scheme == "" && filepath.IsAbs(c.Source):
	default:
		return fmt.Errorf("monitor: rebuild: source %q: want an http(s) URL, a file:// URL or an absolute path", c.Source)
	}
	if c.FetchTimeout <= 0 {
		c.FetchTimeout = build.DefaultLimits().FetchTimeout
	}
	return nil
}

// rebuildChecker rebuilds each release. A release that fails the rebuild check, whose
// source does not have the manifest's SHA-256, is unsafe to extract or does not
// build is recorded as failed for good (every later run raises its alarm); one whose
// source or signed MARs cannot be fetched, or whose recipe is not configured, is
// pending and tried again in the next run.
func (r *run) rebuildChecker() *checker {
	m, rc := r.m, r.m.cfg.Rebuild
	return &checker{name: "rebuild", log: &m.st.Rebuild, maxPerRun: rc.MaxPerRun,
		again: func(*CheckLog) []uint64 { return nil },
		check: func(ctx context.Context, i uint64, man *release.Manifest) (failed, pending []CheckResult, err error) {
			res := CheckResult{Index: i, Version: man.Version, Channel: man.Channel, URL: expandSource(rc.Source, man), Time: r.now}
			began := time.Now()
			final, err := r.rebuild(ctx, man, res.URL)
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			switch {
			case err == nil:
				m.log.Info("rebuilt", "block", i, "version", man.Version, "seconds", time.Since(began).Seconds())
				return nil, nil, nil
			case final:
				res.Reason = err.Error()
				return []CheckResult{res}, nil, nil
			}
			res.Reason = err.Error()
			m.log.Info("rebuild pending", "block", i, "version", man.Version, "error", err)
			return nil, []CheckResult{res}, nil
		},
	}
}

// rebuild rebuilds man from source and checks the result and the signed MARs; final
// says whether a failure is the release's (it does not reproduce) rather than a
// fetch that may work later.
func (r *run) rebuild(ctx context.Context, man *release.Manifest, source string) (final bool, err error) {
	rc := r.m.cfg.Rebuild
	recipe, ok := rc.Recipes[man.Recipe]
	if !ok {
		return false, fmt.Errorf("recipe %q: %w", man.Recipe, errNoRecipe)
	}
	res, err := rc.Runner.Run(ctx, recipe, man, source)
	if err != nil {
		return notReproducible(err), err
	}
	defer res.Close()
	hc := *r.m.cfg.HTTPClient
	hc.Timeout = 0 // FetchTimeout bounds each MAR
	signed, err := build.FetchSignedMARs(ctx, &hc, man, filepath.Join(res.Dir, "signed"), rc.FetchTimeout)
	if err != nil {
		return false, err
	}
	err = build.CheckRebuild(man, res.Paths(), signed)
	return notReproducible(err), err
}

// notReproducible says whether err shows that the release does not rebuild from its
// source: anything else (a download that failed, a full disk) may pass later. A
// signed MAR of the wrong size or SHA-512 is a fault of the server it came from
// (the MAR check reports it), not proof that the release does not rebuild.
func notReproducible(err error) bool {
	var re *build.RebuildError
	if errors.As(err, &re) {
		return re.Check != build.CheckSignedSize && re.Check != build.CheckSignedSHA512
	}
	for _, e := range []error{build.ErrSourceMismatch, build.ErrUnsafeSource, build.ErrBuildFailed, build.ErrTimeLimit, build.ErrOutput} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
