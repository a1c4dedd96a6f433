package monitor

import (
	"cmp"
	"context"
	"crypto/sha512"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/release"
	"github.com/chainiac/chainiac/timeline"
)

// Release checks beyond the chain itself, both optional: the signed MARs on their
// download servers (Config.CheckMARs) and independent rebuilds (Config.Rebuild).
// Each keeps a CheckLog in the state file, so that a restart redoes nothing: the
// releases up to Done were checked, Failed holds those that did not pass, Pending
// those that could not be checked yet (retried each run).

// maxCheckEntries bounds each list of a CheckLog. A log whose Failed and Pending
// lists are full checks no new release until some entries clear.
const maxCheckEntries = 256

// maxChannels bounds CheckLog.Latest.
const maxChannels = 64

// DefaultMARRecheck is how often the newest release of each channel has its MARs
// checked again by default.
const DefaultMARRecheck = time.Hour

// CheckResult is one release (for MAR checks, one target of it) that failed a
// check, could not be checked yet, or (in CheckLog.Latest) was checked last.
type CheckResult struct {
	Index   uint64 `json:"index"`
	Version string `json:"version"`
	Channel string `json:"channel"`
	// Target is "platform/locale" (MAR checks), URL what was fetched.
	Target string    `json:"target,omitempty"`
	URL    string    `json:"url,omitempty"`
	Reason string    `json:"reason,omitempty"`
	Time   time.Time `json:"time"`
}

// CheckLog is what one kind of release check has done.
type CheckLog struct {
	// Done: every release at or below block Done has been checked at least once.
	Done uint64 `json:"done"`
	// Releases counts the releases up to block Done.
	Releases uint64 `json:"releases"`
	// Failed: MARs that do not match the manifest (re-checked each run until they
	// do), or releases that did not rebuild (final).
	Failed []CheckResult `json:"failed,omitempty"`
	// Pending: releases that could not be checked (a server did not answer, a file
	// is missing, no recipe is configured); retried each run.
	Pending []CheckResult `json:"pending,omitempty"`
	// Latest is, for MAR checks, the newest checked release of each channel and
	// when its MARs were last fetched: it is checked again every Config.MARRecheck.
	Latest []CheckResult `json:"latest,omitempty"`
}

func (l *CheckLog) clone() *CheckLog {
	if l == nil {
		return nil
	}
	c := *l
	c.Failed, c.Pending, c.Latest = slices.Clone(l.Failed), slices.Clone(l.Pending), slices.Clone(l.Latest)
	return &c
}

func (l *CheckLog) full() bool { return len(l.Failed)+len(l.Pending) >= maxCheckEntries }

// retry is every release index in Pending, and in Failed too if failed, in order,
// each once.
func (l *CheckLog) retry(failed bool) []uint64 {
	lists := [][]CheckResult{l.Pending}
	if failed {
		lists = append(lists, l.Failed)
	}
	var out []uint64
	for _, list := range lists {
		for _, c := range list {
			out = append(out, c.Index)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// record replaces every entry of release i by the outcome of its new check.
func (l *CheckLog) record(i uint64, failed, pending []CheckResult) {
	drop := func(c CheckResult) bool { return c.Index == i }
	l.Failed = slices.DeleteFunc(l.Failed, drop)
	l.Pending = slices.DeleteFunc(l.Pending, drop)
	l.Failed = append(l.Failed, failed...)
	l.Pending = append(l.Pending, pending...)
	if i > l.Done {
		l.Releases++
	}
}

// passed is the number of releases up to Done that passed their last check.
func (l *CheckLog) passed() uint64 {
	n := uint64(len(l.retry(true)))
	if n > l.Releases {
		return 0
	}
	return l.Releases - n
}

// check validates a log read from the state file.
func (l *CheckLog) check(what string) error {
	if len(l.Failed) > maxCheckEntries || len(l.Pending) > maxCheckEntries || len(l.Latest) > maxChannels {
		return fmt.Errorf("%s: %d failed, %d pending and %d latest entries, at most %d, %d and %d", what,
			len(l.Failed), len(l.Pending), len(l.Latest), maxCheckEntries, maxCheckEntries, maxChannels)
	}
	return nil
}

// CheckReport is a CheckLog as a run left it, with what the run did.
type CheckReport struct {
	CheckLog
	// Passed is the number of releases up to Done that passed their last check.
	Passed uint64 `json:"passed"`
	// Checked is the number of releases checked in this run.
	Checked int `json:"checked"`
}

// releaseAt reads the manifest of block i, nil if the block is no release.
func (m *Monitor) releaseAt(i uint64) (*release.Manifest, error) {
	h, err := m.store.Header(i)
	if err != nil {
		return nil, err
	}
	if h.PayloadKind() != timeline.KindRelease {
		return nil, nil
	}
	b, err := m.store.Block(i)
	if err != nil {
		return nil, err
	}
	p, err := timeline.PayloadOf(b)
	if err != nil {
		return nil, err
	}
	pl, ok := p.(*timeline.Payload)
	if !ok || pl.Release == nil {
		return nil, fmt.Errorf("block %d: release block without a manifest", i)
	}
	return release.ParseManifest(pl.Release.Manifest)
}

// checker is one kind of release check.
type checker struct {
	name string
	log  **CheckLog
	// check checks release i; it returns what failed and what could not be checked.
	// An error is the monitor's own failure (or ctx ended): nothing is recorded.
	check func(ctx context.Context, i uint64, m *release.Manifest) (failed, pending []CheckResult, err error)
	// again returns the releases, beyond those failed and pending, to check again.
	again func(l *CheckLog) []uint64
	// after is called with each release checked.
	after func(l *CheckLog, i uint64, m *release.Manifest)
	// maxPerRun bounds the releases checked in one run (0: none).
	maxPerRun int
	// retryFailed: a failure may pass later (a download server can be fixed); a
	// rebuild that failed fails again.
	retryFailed bool
}

// runChecks checks again what failed or is pending, then every release after Done,
// saving the state after each release so that a restart redoes nothing.
func (r *run) runChecks(ctx context.Context, c *checker) (*CheckReport, error) {
	m := r.m
	if *c.log == nil {
		*c.log = &CheckLog{}
	}
	l := *c.log
	rep := &CheckReport{}
	budget := func() bool { return c.maxPerRun <= 0 || rep.Checked < c.maxPerRun }
	one := func(i uint64) (bool, error) {
		man, err := m.releaseAt(i)
		if err != nil {
			return false, fmt.Errorf("monitor: %s: %w", c.name, err)
		}
		if man == nil {
			return false, nil
		}
		failed, pending, err := c.check(ctx, i, man)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, err
		}
		l.record(i, failed, pending)
		if c.after != nil {
			c.after(l, i, man)
		}
		rep.Checked++
		return true, nil
	}
	again := append(l.retry(c.retryFailed), c.again(l)...)
	slices.Sort(again)
	for _, i := range slices.Compact(again) {
		if ctx.Err() != nil || !budget() {
			break
		}
		if _, err := one(i); err != nil {
			return nil, err
		}
		if err := saveState(m.cfg.StateDir, m.st); err != nil {
			return nil, fmt.Errorf("monitor: save state: %w", err)
		}
	}
	head := m.tl.Head().Index()
	for l.Done < head && ctx.Err() == nil && budget() && !l.full() {
		i := l.Done + 1
		checked, err := one(i)
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			break // interrupted: release i was not checked
		}
		l.Done = i
		if checked {
			if err := saveState(m.cfg.StateDir, m.st); err != nil {
				return nil, fmt.Errorf("monitor: save state: %w", err)
			}
		}
	}
	rep.CheckLog, rep.Passed = *l.clone(), l.passed()
	return rep, nil
}

// marChecker fetches every target's signed MAR from its URL and compares its size
// and SHA-512 with the manifest's.
func (r *run) marChecker() *checker {
	m := r.m
	return &checker{name: "MAR check", log: &m.st.MARs, retryFailed: true,
		check: func(ctx context.Context, i uint64, man *release.Manifest) (failed, pending []CheckResult, err error) {
			for _, t := range man.Targets {
				res := CheckResult{Index: i, Version: man.Version, Channel: man.Channel, Target: t.Key().String(), URL: t.URL, Time: r.now}
				mismatch, err := r.fetchMAR(ctx, t)
				if ctx.Err() != nil {
					return nil, nil, ctx.Err()
				}
				switch {
				case mismatch != "":
					res.Reason = mismatch
					failed = append(failed, res)
				case err != nil:
					res.Reason = err.Error()
					pending = append(pending, res)
				}
			}
			return failed, pending, nil
		},
		again: func(l *CheckLog) []uint64 {
			var out []uint64
			for _, c := range l.Latest {
				if r.now.Sub(c.Time) >= m.cfg.MARRecheck {
					out = append(out, c.Index)
				}
			}
			return out
		},
		after: func(l *CheckLog, i uint64, man *release.Manifest) {
			k := slices.IndexFunc(l.Latest, func(c CheckResult) bool { return c.Channel == man.Channel })
			latest := CheckResult{Index: i, Version: man.Version, Channel: man.Channel, Time: r.now}
			switch {
			case k < 0:
				l.Latest = append(l.Latest, latest)
				if len(l.Latest) > maxChannels {
					slices.SortFunc(l.Latest, func(a, b CheckResult) int { return cmp.Compare(a.Index, b.Index) })
					l.Latest = l.Latest[1:]
				}
			case l.Latest[k].Index <= i:
				l.Latest[k] = latest
			}
		},
	}
}

// fetchMAR fetches t's signed MAR, reading at most the manifest's size plus one
// byte, and returns why it does not match the manifest (empty if it does), or an
// error if it could not be fetched. The download may take RequestTimeout plus the
// time to read the manifest's size at client.MinDownloadRate.
func (r *run) fetchMAR(ctx context.Context, t release.Target) (mismatch string, err error) {
	m := r.m
	u, err := url.Parse(t.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Sprintf("URL %q is not an http or https URL", t.URL), nil
	}
	if t.SignedSize > release.MaxMARSize {
		return fmt.Sprintf("the manifest says %d bytes, over the limit of %d", t.SignedSize, release.MaxMARSize), nil
	}
	limit := m.cfg.RequestTimeout + time.Duration(float64(t.SignedSize)/client.MinDownloadRate*float64(time.Second))
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, t.URL, nil)
	if err != nil {
		return "", err
	}
	hc := *m.cfg.HTTPClient
	hc.Timeout = 0 // the context bounds the whole download
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("HTTP %s", resp.Status)
	}
	if resp.ContentLength > int64(t.SignedSize) {
		return fmt.Sprintf("%d bytes announced, the manifest says %d", resp.ContentLength, t.SignedSize), nil
	}
	h := sha512.New()
	n, err := io.Copy(h, io.LimitReader(resp.Body, int64(t.SignedSize)+1))
	if err != nil {
		return "", fmt.Errorf("after %d bytes: %w", n, err)
	}
	switch {
	case uint64(n) > t.SignedSize:
		return fmt.Sprintf("more than the %d bytes the manifest says", t.SignedSize), nil
	case uint64(n) != t.SignedSize:
		return fmt.Sprintf("%d bytes, the manifest says %d", n, t.SignedSize), nil
	case release.Hash512(h.Sum(nil)) != t.SignedSHA512:
		return fmt.Sprintf("SHA-512 %x…, the manifest says %x…", h.Sum(nil)[:8], t.SignedSHA512[:8]), nil
	}
	return "", nil
}

// checkAlarms raises an alarm for every failed entry of the enabled checks, in
// every run, so that the alarm stays on the site for as long as the failure.
func (r *run) checkAlarms() {
	m := r.m
	if m.cfg.CheckMARs && m.st.MARs != nil {
		for _, c := range m.st.MARs.Failed {
			r.alarm(AlarmMARMismatch, c.URL, "block %d (%s %s on %s): the signed MAR of target %s does not match the manifest: %s",
				c.Index, m.tl.Product(), c.Version, c.Channel, c.Target, c.Reason)
		}
	}
	if m.cfg.Rebuild != nil && m.st.Rebuild != nil {
		for _, c := range m.st.Rebuild.Failed {
			r.alarm(AlarmNotReproducible, c.URL, "block %d (%s %s on %s) could not be reproduced from its source: %s",
				c.Index, m.tl.Product(), c.Version, c.Channel, c.Reason)
		}
	}
}

// errNoRecipe: the manifest names a recipe the monitor has no command for.
var errNoRecipe = errors.New("no such recipe configured on this monitor")

// expandSource replaces {product}, {version} and {channel} in template by the
// manifest's values (which the manifest's rules limit to letters, digits and
// ".-_+", so nothing can leave the path or the URL).
func expandSource(template string, m *release.Manifest) string {
	return strings.NewReplacer("{product}", m.Product, "{version}", m.Version, "{channel}", m.Channel).Replace(template)
}
