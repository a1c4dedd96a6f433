package simulation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/release"
)

// GapClass is a share of update checks whose previous check was between MinDays and
// MaxDays days before (uniformly).
type GapClass struct {
	Share            float64
	MinDays, MaxDays int
}

// ScaleConfig is the scale scenario: serving Tor Browser's update checks.
type ScaleConfig struct {
	ChecksPerDay float64    // update checks a day
	PeakFactor   float64    // busiest hour against the day's mean
	Gaps         []GapClass // days since each check's previous one
	Roster       int        // chainiac's roster
	Witnesses    []int      // the log's witness counts
	Platforms    int        // targets per release (one MAR each)
	// DailyFrom is the first day of the daily replay (the zero time: the first
	// release); the replay ends at the last real release.
	DailyFrom time.Time
	// Horizons are the storage horizons, in years from the first release; beyond the
	// data the schedule is resampled by year.
	Horizons []int
	// Validate is how many (seeded) catch-ups check the size models against the real
	// chainiac client and the HTTP log client.
	Validate int
}

// DefaultScale is the run of `simulate scale`.
func DefaultScale(quick bool) ScaleConfig {
	c := ScaleConfig{
		ChecksPerDay: 2e6, PeakFactor: 1.5,
		// Assumed, not measured: most checks come from browsers used daily; the rest
		// from browsers left unused for a week, a month or more.
		Gaps:      []GapClass{{0.75, 1, 1}, {0.15, 2, 7}, {0.07, 8, 60}, {0.03, 61, 365}},
		Roster:    128,
		Witnesses: []int{3, 16, 128},
		Platforms: 5,
		Horizons:  []int{10, 25, 50},
		Validate:  6,
	}
	if quick {
		c.Roster = 16
		c.DailyFrom = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
		c.Horizons = []int{10, 20}
		c.Validate = 2
	}
	return c
}

func (c *ScaleConfig) validate() error {
	total := 0.0
	for _, g := range c.Gaps {
		if g.Share <= 0 || g.MinDays < 1 || g.MaxDays < g.MinDays {
			return fmt.Errorf("simulation: scale: bad gap class %+v", g)
		}
		total += g.Share
	}
	switch {
	case len(c.Gaps) == 0 || total < 0.999 || total > 1.001:
		return fmt.Errorf("simulation: scale: gap shares add up to %v, want 1", total)
	case c.ChecksPerDay <= 0 || c.PeakFactor < 1:
		return errors.New("simulation: scale: checks per day and peak factor")
	case c.Roster < 1 || c.Platforms < 1 || len(c.Witnesses) == 0:
		return errors.New("simulation: scale: roster, platforms and witnesses")
	case len(c.Horizons) == 0 || !slices.IsSorted(c.Horizons) || c.Horizons[0] < 1:
		return errors.New("simulation: scale: horizons")
	}
	return nil
}

// desktopPlatforms are Tor Browser's desktop targets, each updated by one MAR.
var desktopPlatforms = []string{"linux-x86_64", "linux-i686", "windows-x86_64", "windows-i686", "macos"}

func platforms(n int) []string {
	out := slices.Clone(desktopPlatforms)
	for i := len(out); i < n; i++ {
		out = append(out, fmt.Sprintf("platform-%d", i))
	}
	return out[:n]
}

type scaleDesign struct {
	name      string
	witnesses int
}

func (d scaleDesign) label() string {
	if d.name == scaleChainiac {
		return fmt.Sprintf("chainiac static files, roster %d", d.witnesses)
	}
	return fmt.Sprintf("%s, %d witnesses", d.name, d.witnesses)
}

// RunScale replays the release schedule against the cost of each check.
func RunScale(ctx context.Context, cfg ScaleConfig, o Options) (res *Result, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	defer guard(&err)
	h := harness{}
	real, err := TorBrowserReleases()
	if err != nil {
		return nil, err
	}
	first, lastReal := real[0].Date, real[len(real)-1].Date
	end := first.AddDate(cfg.Horizons[len(cfg.Horizons)-1], 0, 0)
	rng := rand.New(rand.NewPCG(o.Seed, 0x5ca1e))
	sched := Schedule(real, end, rng)
	dailyFrom := cfg.DailyFrom
	if dailyFrom.IsZero() || dailyFrom.Before(first) {
		dailyFrom = first
	}
	steps := 6
	o.progress("scale", 0, steps, "building a chain of %d releases (%d real), roster %d", len(sched), len(real), cfg.Roster)

	// The chain of the whole horizon, one block a release, and the log of the same
	// payloads.
	chain := testchain.New(h, testchain.Options{Members: cfg.Roster, Product: testchain.Product})
	seen := map[string]bool{}
	for _, r := range sched {
		v := r.Version
		for seen[r.Channel+" "+v] { // 10.0.5 and two others shipped twice (desktop, Android)
			v += ".b"
		}
		seen[r.Channel+" "+v] = true
		chain.Append(h, chain.Sign(h, testchain.Manifest(v, r.Channel, platforms(cfg.Platforms)...)), nil)
	}
	records := make([][]byte, len(sched))
	for i := range records {
		records[i] = chain.Block(uint64(i) + 1).Payload()
	}
	maxW := slices.Max(cfg.Witnesses)
	lg, err := newTxLog(records, maxW, o.Seed)
	if err != nil {
		return nil, err
	}
	sizes, err := measureChainiacSizes(chain)
	if err != nil {
		return nil, err
	}
	o.progress("scale", 1, steps, "checking the size models against the real clients")
	if err := validateScale(ctx, cfg, o, chain, lg, sizes, int64(len(real))); err != nil {
		return nil, err
	}

	// N(t): releases published by the end of day t.
	dates := make([]time.Time, len(sched))
	for i, r := range sched {
		dates[i] = r.Date
	}
	releasesBy := func(t time.Time) int64 {
		return int64(sort.Search(len(dates), func(i int) bool { return dates[i].After(t) }))
	}
	// Checkpoint sizes by witnesses and digits of the tree size (the only part of the
	// text that changes length), signed for real.
	cpSize := map[[2]int]int{}
	checkpoint := func(n int64, w int) (int, error) {
		key := [2]int{len(fmt.Sprint(n)), w}
		if s, ok := cpSize[key]; ok {
			return s, nil
		}
		if _, err := lg.set(n, w); err != nil {
			return 0, err
		}
		cpSize[key] = len(lg.checkpoint)
		return cpSize[key], nil
	}
	memo := map[[2]int64]logCosts{}
	between := func(from, to int64) (logCosts, error) {
		if c, ok := memo[[2]int64{from, to}]; ok {
			return c, nil
		}
		c, err := logBetween(lg, from, to)
		memo[[2]int64{from, to}] = c
		return c, err
	}
	designs := []scaleDesign{{scaleChainiac, cfg.Roster}}
	for _, d := range []string{scaleLog, scaleTiles, scaleTilesCold} {
		for _, w := range cfg.Witnesses {
			designs = append(designs, scaleDesign{d, w})
		}
	}
	// The gap distribution over whole days.
	type gap struct {
		days  int
		share float64
	}
	var gaps []gap
	for _, g := range cfg.Gaps {
		n := g.MaxDays - g.MinDays + 1
		for d := g.MinDays; d <= g.MaxDays; d++ {
			gaps = append(gaps, gap{d, g.Share / float64(n)})
		}
	}

	// The daily replay: expected bytes and requests a check costs each day.
	type day struct {
		date     time.Time
		releases int64
		update   float64 // share of checks that find a new release
		cost     []checkCost
		emerg    bool
	}
	emergency := map[time.Time]bool{}
	for _, r := range real {
		if r.Kind == "emergency" {
			emergency[r.Date] = true
		}
	}
	var days []day
	totalDays := int(lastReal.Sub(dailyFrom).Hours()/24) + 1
	for t := dailyFrom; !t.After(lastReal); t = t.AddDate(0, 0, 1) {
		if len(days)%100 == 0 {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
			o.progress("scale", 2, steps, "replaying day %d of %d (%s)", len(days)+1, totalDays, t.Format(time.DateOnly))
		}
		n := releasesBy(t)
		d := day{date: t, releases: n, cost: make([]checkCost, len(designs)), emerg: emergency[t]}
		cps := make([]int, len(designs))
		for i, des := range designs {
			if des.name != scaleChainiac {
				if cps[i], err = checkpoint(n, des.witnesses); err != nil {
					return nil, err
				}
			}
		}
		for _, g := range gaps {
			from := max(releasesBy(t.Add(-time.Duration(g.days)*24*time.Hour)), 1)
			if from < n {
				d.update += g.share
			}
			var lc logCosts
			if from < n {
				if lc, err = between(from, n); err != nil {
					return nil, err
				}
			}
			for i, des := range designs {
				var c checkCost
				if des.name == scaleChainiac {
					c = sizes.express(uint64(from), uint64(n))
				} else {
					c = logCheck(des.name, lc, cps[i], from == n)
				}
				d.cost[i].Bytes += g.share * c.Bytes
				d.cost[i].Requests += g.share * c.Requests
			}
		}
		days = append(days, d)
	}
	o.progress("scale", 3, steps, "storage over %d years", cfg.Horizons[len(cfg.Horizons)-1])

	monthly := &Table{Name: "scale-monthly", Doc: "one row per month of the daily replay and design", Columns: []Column{
		{Name: "month", Doc: "YYYY-MM"},
		{Name: "design", Doc: "`chainiac-static`: express checks against chainiac's static export; `log`: a log server answering proof requests; `log-tiles`: static tiles, each client keeping the tiles of its last check; `log-tiles-cold`: static tiles, no cache"},
		{Name: "witnesses", Doc: "the log's witnesses (for chainiac, the roster size)"},
		{Name: "releases", Doc: "releases (both channels) on the timeline at the month's end"},
		{Name: "update_share", Doc: "mean share of the month's checks that find a new release"},
		{Name: "bytes_per_day", Doc: "mean bytes served a day: response bodies of ChecksPerDay checks"},
		{Name: "bytes_per_day_max", Doc: "the month's busiest day"},
		{Name: "requests_per_day", Doc: "mean HTTP requests a day"},
	}}
	type monthAcc struct {
		days             int
		update           float64
		bytes, max, reqs []float64
		releases         int64
	}
	var months []string
	macc := map[string]*monthAcc{}
	for _, d := range days {
		m := d.date.Format("2006-01")
		if macc[m] == nil {
			macc[m] = &monthAcc{bytes: make([]float64, len(designs)), max: make([]float64, len(designs)), reqs: make([]float64, len(designs))}
			months = append(months, m)
		}
		a := macc[m]
		a.days++
		a.update += d.update
		a.releases = d.releases
		for i, c := range d.cost {
			b := c.Bytes * cfg.ChecksPerDay
			a.bytes[i] += b
			a.max[i] = max(a.max[i], b)
			a.reqs[i] += c.Requests * cfg.ChecksPerDay
		}
	}
	perDay := &Figure{Name: "scale-bytes-per-day", Title: "Bytes served a day for 2 million update checks", XLabel: "month", YLabel: "GB a day (monthly mean)", TimeX: true, LogY: true,
		Caption: fmt.Sprintf("Response bytes a day for %.0f update checks, replaying the real Tor Browser release dates (both channels), monthly means, log scale. Chainiac's express check costs one timestamp when nothing is new; the log's costs a checkpoint that grows by one signature line per witness.", cfg.ChecksPerDay)}
	for i, des := range designs {
		s := Series{Label: des.label()}
		for _, m := range months {
			a := macc[m]
			monthly.Add(m, des.name, des.witnesses, a.releases, Fixed{a.update / float64(a.days), 4},
				Fixed{a.bytes[i] / float64(a.days), 0}, Fixed{a.max[i], 0}, Fixed{a.reqs[i] / float64(a.days), 0})
			t, _ := time.Parse("2006-01", m)
			s.Points = append(s.Points, Point{float64(t.AddDate(0, 0, 14).Unix()), a.bytes[i] / float64(a.days) / 1e9})
		}
		if des.name != scaleTilesCold {
			perDay.Series = append(perDay.Series, s)
		}
	}

	// Storage at every quarter of the horizon and at each horizon.
	storage := &Table{Name: "scale-storage", Doc: "storage at the end of each quarter since the first release, per design", Columns: []Column{
		{Name: "years", Doc: "years since the first release (2013-06-17)"},
		{Name: "date", Doc: "the day"},
		{Name: "releases", Doc: "releases on the timeline by then (real until 2026-07-23, then resampled)"},
		{Name: "design", Doc: "`chainiac-static`: the export (api.BlockFiles: served block, header, payload and each link per block; latest; timestamp); `log-tiles`: every hash tile (partial ones included), each record as a file, the checkpoint; `log-db`: the log server's stored hashes, records and checkpoint"},
		{Name: "witnesses", Doc: "as in scale-monthly.csv"},
		{Name: "files", Doc: "files a static host serves (0 for log-db)"},
		{Name: "bytes", Doc: "bytes stored"},
	}}
	storeFig := &Figure{Name: "scale-storage", Title: "Storage against years", XLabel: "years since the first release", YLabel: "MB stored",
		Caption: "What a static host (chainiac's export, the log's tiles) or the log server stores, against years since the first release; the real schedule ends after 13.1 years and is resampled by year beyond. Both grow linearly with the releases; neither reaches tens of megabytes in 50 years."}
	storeAt := func(n int64) (map[string]stored, error) {
		out := map[string]stored{}
		f, b := sizes.storage(uint64(n))
		out[scaleChainiac] = stored{f, b}
		cp, err := checkpoint(max(n, 1), 16)
		if err != nil {
			return nil, err
		}
		tf, tb, db := logStorage(lg, n, cp)
		out["log-tiles"], out["log-db"] = stored{tf, tb}, stored{0, db}
		return out, nil
	}
	storeDesigns := []scaleDesign{{scaleChainiac, cfg.Roster}, {"log-tiles", 16}, {"log-db", 16}}
	storeSeries := make([]Series, len(storeDesigns))
	for i, d := range storeDesigns {
		storeSeries[i].Label = d.label()
		if d.name == scaleChainiac {
			storeSeries[i].Label = "chainiac static export"
		}
	}
	storeSeries[1].Label, storeSeries[2].Label = "log tiles and records (static)", "log server database"
	horizon := map[int]map[string]stored{}
	for q := 0; q <= 4*cfg.Horizons[len(cfg.Horizons)-1]; q++ {
		t := first.AddDate(0, 3*q, 0)
		n := releasesBy(t)
		st, err := storeAt(n)
		if err != nil {
			return nil, err
		}
		if q%4 == 0 && slices.Contains(cfg.Horizons, q/4) {
			horizon[q/4] = st
		}
		for i, d := range storeDesigns {
			storage.Add(Fixed{float64(q) / 4, 2}, t.Format(time.DateOnly), n, d.name, d.witnesses, st[d.name].files, st[d.name].bytes)
			storeSeries[i].Points = append(storeSeries[i].Points, Point{float64(q) / 4, float64(st[d.name].bytes) / 1e6})
		}
	}
	storeFig.Series = storeSeries
	o.progress("scale", 4, steps, "peaks")

	// Summary: the last real year's mean, the busiest day, the peak after an
	// emergency release.
	summary := &Table{Name: "scale-summary", Doc: "one row per design", Columns: []Column{
		{Name: "design", Doc: "as in scale-monthly.csv"},
		{Name: "witnesses", Doc: "as in scale-monthly.csv"},
		{Name: "check_bytes_no_update", Doc: "bytes of a check that finds nothing new (at the last real release)"},
		{Name: "check_bytes_update", Doc: "mean bytes of a check that finds a new release, over the last real year"},
		{Name: "bytes_per_day", Doc: "mean bytes served a day over the last real year"},
		{Name: "bytes_per_day_max", Doc: "the busiest day of the replay"},
		{Name: "peak_requests_per_second", Doc: "requests a second in the busiest hour (the day's mean × PeakFactor) of the busiest emergency-release day"},
		{Name: "surge_requests_per_second", Doc: "the same day's requests if every check came within one hour"},
		{Name: "storage_10y_bytes", Doc: "storage ten years after the first release (log designs: log-tiles for the static ones, log-db for log)"},
		{Name: "storage_10y_files", Doc: "static files ten years after the first release (0 for the log server)"},
	}}
	lastYear := lastReal.AddDate(-1, 0, 0)
	var findings []string
	findings = append(findings, fmt.Sprintf("schedule: %d real releases (%s to %s), %d in the %d-year horizon after resampling by year; %.0f checks a day; gaps since the previous check: %s",
		len(real), first.Format(time.DateOnly), lastReal.Format(time.DateOnly), len(sched), cfg.Horizons[len(cfg.Horizons)-1], cfg.ChecksPerDay, gapText(cfg.Gaps)))
	n10 := releasesBy(first.AddDate(10, 0, 0))
	for i, des := range designs {
		var sumB, sumUpd, nUpd float64
		n := 0
		maxDay, peakReq := 0.0, 0.0
		var peakDay time.Time
		for _, d := range days {
			b := d.cost[i].Bytes * cfg.ChecksPerDay
			maxDay = max(maxDay, b)
			if d.emerg && d.cost[i].Requests > peakReq {
				peakReq, peakDay = d.cost[i].Requests, d.date
			}
			if d.date.After(lastYear) {
				sumB += b
				n++
			}
		}
		// Bytes of an updating check over the last year: from the daily costs, the
		// mean of (cost − (1 − update)·no-update cost)/update.
		none := noUpdateCost(des, sizes, checkpoint, int64(len(real)))
		for _, d := range days {
			if d.date.After(lastYear) && d.update > 0 {
				// the day's cost is update·(updating check) + (1 − update)·none
				sumUpd += d.cost[i].Bytes - (1-d.update)*none
				nUpd += d.update
			}
		}
		st, err := storeDesign(des, sizes, lg, n10, checkpoint)
		if err != nil {
			return nil, err
		}
		perSecond := cfg.ChecksPerDay / 86400 * peakReq
		summary.Add(des.name, des.witnesses, Fixed{none, 0}, Fixed{safeDiv(sumUpd, nUpd), 0}, Fixed{safeDiv(sumB, float64(n)), 0}, Fixed{maxDay, 0},
			Fixed{perSecond * cfg.PeakFactor, 1}, Fixed{perSecond * 24, 1}, st.bytes, st.files)
		if des.name != scaleTilesCold {
			findings = append(findings, fmt.Sprintf("%s: %s a check with nothing new, %s with a new release; %s a day over the last year (busiest day %s); %.0f requests/s at the peak hour of the busiest emergency-release day (%s; %.0f if all its checks came within an hour); %s in %d files after ten years",
				des.label(), humanBytes(none), humanBytes(safeDiv(sumUpd, nUpd)), humanBytes(safeDiv(sumB, float64(n))), humanBytes(maxDay),
				perSecond*cfg.PeakFactor, peakDay.Format(time.DateOnly), perSecond*24, humanBytes(float64(st.bytes)), st.files))
		}
	}
	for _, y := range cfg.Horizons {
		st := horizon[y]
		findings = append(findings, fmt.Sprintf("storage after %d years (%d releases): chainiac static export %s (%d files), log tiles %s (%d files), log server %s",
			y, releasesBy(first.AddDate(y, 0, 0)), humanBytes(float64(st[scaleChainiac].bytes)), st[scaleChainiac].files,
			humanBytes(float64(st["log-tiles"].bytes)), st["log-tiles"].files, humanBytes(float64(st["log-db"].bytes))))
	}
	if st, ok := horizon[10]; ok {
		one := int64(len(chain.Block(0).Roster().Encode()))
		roster := one * (n10 + 1)
		c := st[scaleChainiac].bytes
		findings = append(findings, fmt.Sprintf("of chainiac's export after ten years, %s (%.0f%%) is the %d-member roster (%s) repeated in every served block file; with the roster stored once, the export would be %s",
			humanBytes(float64(roster)), 100*float64(roster)/float64(c), cfg.Roster, humanBytes(float64(one)), humanBytes(float64(c-roster+one))))
	}
	o.progress("scale", steps, steps, "done")
	return &Result{Scenario: "scale", Title: "Serving cost at Tor Browser's scale: static chain files against log tiles",
		Intro: fmt.Sprintf(`Pure arithmetic over measured sizes. A chain and a log of the whole schedule are built
for real (roster %d, %d targets a release, the log's checkpoints signed by it and
cosigned by each witness), and every size comes from their encodings: chainiac's
timestamp, headers, payloads, served blocks and links, tlog's proofs and tiles
(tlog.ProveTree, ProveRecord, TileHashReader over the stored hashes) and the signed
notes. At %d pairs of tree sizes drawn with the seed, the size models are first
checked against what the real chainiac client and the HTTP log client fetch. The schedule is the real Tor Browser
release dates (simulation/data/tor-browser-releases.csv, both channels, published at
00:00 UTC on their day), resampled by whole calendar years beyond 2026-07-23. Each day
of the replay from %s, %.0f checks each find k = N(today) − N(today − g) new releases,
with g the days since that client's previous check (%s).`,
			cfg.Roster, cfg.Platforms, cfg.Validate, dailyFrom.Format(time.DateOnly), cfg.ChecksPerDay, gapText(cfg.Gaps)),
		Tables:   []*Table{summary, monthly, storage},
		Figures:  []*Figure{perDay, storeFig},
		Findings: findings,
		Limits: []string{
			"the gap distribution between a client's checks is assumed, not measured; so are 2 million checks a day and the peak-hour factor",
			"response bodies only: HTTP and TLS headers (a few hundred bytes a request) and the MAR downloads themselves (tens of megabytes each, dwarfing all of this) are not counted",
			"every check follows both channels; a release-channel client whose newest block is an alpha also walks back-links to the newest release (a few hundred bytes)",
			"no roster or witness changes, no CDN caching effects, no failed or retried requests",
			"the warm tile cache holds the tiles of the client's last inclusion proof, not everything it ever fetched",
		},
	}, nil
}

type stored struct{ files, bytes int64 }

// storeDesign is what design d stores for n releases: chainiac's export, the log's
// tiles (static designs) or its server database.
func storeDesign(d scaleDesign, s *chainiacSizes, lg *txlog, n int64, checkpoint func(int64, int) (int, error)) (stored, error) {
	if d.name == scaleChainiac {
		f, b := s.storage(uint64(n))
		return stored{f, b}, nil
	}
	cp, err := checkpoint(max(n, 1), d.witnesses)
	if err != nil {
		return stored{}, err
	}
	tf, tb, db := logStorage(lg, n, cp)
	if d.name == scaleLog {
		return stored{0, db}, nil
	}
	return stored{tf, tb}, nil
}

func noUpdateCost(d scaleDesign, s *chainiacSizes, checkpoint func(int64, int) (int, error), n int64) float64 {
	if d.name == scaleChainiac {
		return s.express(uint64(n), uint64(n)).Bytes
	}
	cp, _ := checkpoint(n, d.witnesses)
	return float64(cp)
}

func safeDiv(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func gapText(gs []GapClass) string {
	var parts []string
	for _, g := range gs {
		if g.MinDays == g.MaxDays {
			parts = append(parts, fmt.Sprintf("%.0f%% %d day", 100*g.Share, g.MinDays))
		} else {
			parts = append(parts, fmt.Sprintf("%.0f%% %d–%d days", 100*g.Share, g.MinDays, g.MaxDays))
		}
	}
	return strings.Join(parts, ", ")
}

// validateScale compares the size models with what the real clients fetch, from
// seeded pairs of tree sizes within the real schedule.
func validateScale(ctx context.Context, cfg ScaleConfig, o Options, chain *testchain.Chain, lg *txlog, sizes *chainiacSizes, realN int64) error {
	tmp, err := os.MkdirTemp("", "chainiac-sim-scale-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	chainURL, stopChain, err := loopback(chain.Handler())
	if err != nil {
		return err
	}
	defer stopChain()
	logURL, stopLog, err := loopback(lg)
	if err != nil {
		return err
	}
	defer stopLog()
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	hc := &http.Client{Transport: transport, Timeout: time.Minute}
	side := &chainiacSide{chain: chain, url: chainURL, now: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), tmp: tmp, http: hc}
	var devKeys []release.DeveloperKey
	for _, d := range chain.Devs() {
		devKeys = append(devKeys, d.Public())
	}
	policy, err := release.NewPolicy(devKeys, 2)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(o.Seed, 0x7a11d))
	for i := 0; i < cfg.Validate; i++ {
		from := 1 + rng.Int64N(realN-1)
		to := from + 1 + rng.Int64N(min(realN-from, 40))
		to = min(to, realN)
		if err := sizes.validateExpress(ctx, side, uint64(from), uint64(to)); err != nil {
			return err
		}
		w := cfg.Witnesses[i%len(cfg.Witnesses)]
		lc := func(tiles bool) *logClient { return newLogClient(logURL, hc, lg, w, policy, tiles) }
		if err := validateLog(ctx, lc, lg, w, from, to); err != nil {
			return err
		}
	}
	return nil
}
