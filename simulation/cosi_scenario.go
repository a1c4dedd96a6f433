package simulation

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/chainiac/chainiac/cosi/protocol"
)

// CosiSweep is the cosi scenario: at each size, one set of servers runs every variant
// in turn, and the CPU floor is measured in the same run. Base gives everything but
// the size (Base.Nodes is ignored); a sweep without variants runs Base alone.
type CosiSweep struct {
	Sizes    []int
	Base     CosiConfig
	Variants []CosiVariant
}

// CosiVariant is one way of running the rounds at every size: a tree shape, where
// partials are checked, and failing members.
type CosiVariant struct {
	Subtrees          int // sub-leaders; 0: ⌈√(n−1)⌉; Flat: n−1
	Binary            bool
	CheckAtSubLeaders bool
	Crashed, Silent   int           // failing members; F: ⌊(n−1)/3⌋
	Timeout           time.Duration // 0: Base's
	MaxNodes          int           // 0: every size; else only sizes up to this
}

// Flat as CosiVariant.Subtrees, and F as CosiVariant.Crashed or Silent, stand for a
// value that depends on the size.
const (
	Flat = -1
	F    = -1
)

// ComparisonVariants is the comparison `simulate cosi --compare` and `simulate all`
// run: the tree as it was (sub-leaders check every partial) against optimistic
// aggregation, the flat and binary shapes, and f silent or crashed members. Silent
// members cost their share of the timeout, hence a short one and small sizes;
// crashed ones come last, since a crashed server stays down. The flat tree stops at
// 1024 nodes: at 4096 its root's connection to every member would take this process
// past its 20,000 file descriptors.
func ComparisonVariants(quick bool) []CosiVariant {
	silentUpTo, silentTimeout := 256, 4*time.Second
	if quick {
		silentUpTo, silentTimeout = 8, time.Second
	}
	return []CosiVariant{
		{CheckAtSubLeaders: true},
		{},
		{Subtrees: Flat, MaxNodes: 1024},
		{Binary: true, MaxNodes: 256},
		{Silent: F, Timeout: silentTimeout, MaxNodes: silentUpTo},
		{CheckAtSubLeaders: true, Crashed: F},
		{Crashed: F},
	}
}

// config is v at size n over base.
func (v CosiVariant) config(base CosiConfig, n int) CosiConfig {
	c := base
	c.Nodes = n
	if v.Subtrees != 0 || v.Binary {
		c.Subtrees, c.Binary = v.Subtrees, v.Binary
	}
	if c.Subtrees == Flat {
		c.Subtrees = n - 1
	}
	c.CheckAtSubLeaders = c.CheckAtSubLeaders || v.CheckAtSubLeaders
	if v.Crashed != 0 {
		c.Crashed = v.Crashed
	}
	if v.Silent != 0 {
		c.Silent = v.Silent
	}
	if c.Crashed == F {
		c.Crashed = faultyOf(n)
	}
	if c.Silent == F {
		c.Silent = faultyOf(n)
	}
	if v.Timeout != 0 {
		c.Timeout = v.Timeout
	}
	return c
}

// DefaultCosiSweep is the sweep of `simulate all`.
func DefaultCosiSweep(quick bool) CosiSweep {
	if quick {
		return CosiSweep{Sizes: []int{8, 16, 32}, Base: CosiConfig{Rounds: 3, Warmup: 1}, Variants: ComparisonVariants(true)}
	}
	return CosiSweep{Sizes: []int{16, 64, 256, 1024, 4096}, Base: CosiConfig{Rounds: 10, Warmup: 1}, Variants: ComparisonVariants(false)}
}

// CosiRound is a round of the sweep with the variant it ran.
type CosiRound struct {
	Round
	Config CosiConfig
}

// variant names a configuration in the tables and findings.
func variantName(c CosiConfig) string {
	parts := []string{c.Tree(), c.Aggregation()}
	if c.Crashed > 0 {
		parts = append(parts, fmt.Sprintf("%d crashed", c.Crashed))
	}
	if c.Silent > 0 {
		parts = append(parts, fmt.Sprintf("%d silent", c.Silent))
	}
	return strings.Join(parts, ", ")
}

// RunCosiSweep runs the sweep, calling report after each round, and returns the
// measured rounds (warm-up left out) as a Result. onet's process-wide set-up
// (localnet.Register) is the caller's.
func RunCosiSweep(ctx context.Context, sw CosiSweep, o Options, report func(CosiRound)) (*Result, error) {
	if len(sw.Sizes) == 0 {
		return nil, fmt.Errorf("simulation: cosi: no sizes")
	}
	variants := sw.Variants
	if len(variants) == 0 {
		variants = []CosiVariant{{}}
	}
	t := &Table{Name: "cosi", Doc: "one row per measured signing round (warm-up rounds left out)", Columns: []Column{
		{Name: "nodes", Doc: "roster size: onet servers in this process, each with its own TCP listener on 127.0.0.1"},
		{Name: "round", Doc: "round number within its size and variant, from 1 (warm-up rounds included in the count)"},
		{Name: "seconds", Doc: "latency of the round at the root, from start to a verified collective signature", Measured: true},
		{Name: "cpu_seconds", Doc: "CPU time of the whole process (every server) during the round", Measured: true},
		{Name: "bytes", Doc: "bytes sent by every server during the round (onet's counters: messages and framing)", Measured: true},
		{Name: "signers", Doc: "members whose share is in the signature"},
		{Name: "tree", Doc: "tree shape: two-level:S (S sub-leaders; S = n−1 is flat) or binary"},
		{Name: "aggregation", Doc: "checked: every sub-leader verifies its children's partials (the protocol before optimistic aggregation); optimistic: only the root verifies, and descends on failure"},
		{Name: "crashed", Doc: "members whose server was closed before the rounds"},
		{Name: "silent", Doc: "members that take the announcement and never answer"},
	}}
	ft := &Table{Name: "cosi-floor", Doc: "one row per measurement of the CPU floor: every member's share and one pairing check, on every core, no network", Columns: []Column{
		{Name: "nodes", Doc: "roster size"},
		{Name: "run", Doc: "measurement number within its size: half before the rounds, half after"},
		{Name: "seconds", Doc: "wall time of the floor's work (below 1024 nodes, the mean of 1024/n repetitions)", Measured: true},
		{Name: "cpu_seconds", Doc: "CPU time of the floor's work, likewise", Measured: true},
	}}
	type key struct {
		n    int
		name string
	}
	latencies := map[key][]time.Duration{}
	cpus := map[key][]time.Duration{}
	bytes := map[key][]float64{}
	floors := map[int][]time.Duration{}
	var names []string
	total, done := 0, 0
	for _, n := range sw.Sizes {
		for _, v := range variants {
			if v.MaxNodes == 0 || n <= v.MaxNodes {
				total += sw.Base.Warmup + sw.Base.Rounds
			}
		}
	}
	for _, n := range sw.Sizes {
		var cfgs []CosiConfig
		for _, v := range variants {
			if v.MaxNodes != 0 && n > v.MaxNodes {
				continue
			}
			cfg := v.config(sw.Base, n)
			if err := cfg.validate(); err != nil {
				return nil, err
			}
			cfgs = append(cfgs, cfg)
		}
		err := func() error {
			cn, err := startCosiNet(n)
			if err != nil {
				return err
			}
			defer cn.close()
			// A small floor is a few milliseconds, less than the machine's scheduling
			// noise: each measurement repeats it to about 1024 shares and takes the mean.
			repeat := max(1, 1024/n)
			measureFloor := func(first int) error {
				for i := 0; i < (sw.Base.Rounds+1)/2; i++ {
					var wall, cpu time.Duration
					for j := 0; j < repeat; j++ {
						w, c, err := cn.floor([]byte(fmt.Sprintf("chainiac simulation floor %d.%d", first+i, j)))
						if err != nil {
							return err
						}
						wall, cpu = wall+w, cpu+c
					}
					wall, cpu = wall/time.Duration(repeat), cpu/time.Duration(repeat)
					ft.Add(n, first+i, Fixed{wall.Seconds(), 6}, Fixed{cpu.Seconds(), 6})
					floors[n] = append(floors[n], wall)
				}
				return nil
			}
			if err := measureFloor(1); err != nil {
				return err
			}
			for _, cfg := range cfgs {
				name := variantName(cfg)
				k := key{n, variantLabel(cfg)}
				if !slices.Contains(names, k.name) {
					names = append(names, k.name)
				}
				err := cn.run(ctx, cfg, func(r Round) {
					done++
					o.progress("cosi", done, total, "%d nodes, %s, round %d", n, name, r.Round)
					if report != nil {
						report(CosiRound{Round: r, Config: cfg})
					}
					if !r.Warmup && r.Err == nil {
						t.Add(r.Nodes, r.Round, Fixed{r.Latency.Seconds(), 6}, Fixed{r.CPU.Seconds(), 6}, r.Bytes,
							r.Signers, cfg.Tree(), cfg.Aggregation(), cfg.Crashed, cfg.Silent)
						latencies[k] = append(latencies[k], r.Latency)
						cpus[k] = append(cpus[k], r.CPU)
						bytes[k] = append(bytes[k], float64(r.Bytes))
					}
				})
				if err != nil {
					return fmt.Errorf("%d nodes, %s: %w", n, name, err)
				}
			}
			return measureFloor((sw.Base.Rounds+1)/2 + 1)
		}()
		if err != nil {
			return nil, err
		}
	}
	res := &Result{Scenario: "cosi", Title: "Collective signing rounds against roster size",
		Intro: fmt.Sprintf(`Every size runs as onet servers in this one process, each with its own TCP listener on
127.0.0.1 and its own cosi key, over the tree protocol of cosi/protocol (default policy
n − ⌊(n−1)/3⌋). The same servers run every variant in turn: the tree shape, where
partial signatures are checked ("checked" at every sub-leader, as the protocol did
before optimistic aggregation, or "optimistic" at the root only), and f = ⌊(n−1)/3⌋
members silent or crashed. %d warm-up round(s) per variant open the connections and
are left out; %d rounds are measured. The floor is every member's share and one
pairing check on all cores with no network, measured at each size in the same run
(half before the rounds, half after); "× floor" is the median round over the median
floor. The figure shows each variant's median and the floor; the findings add the
10th and 90th percentile.`, sw.Base.Warmup, sw.Base.Rounds),
		Tables: []*Table{t, ft},
		Limits: []string{
			"all members share this machine's cores: the figure is the total CPU of the round more than its critical path in a deployment with a machine per member",
			"no network latency; crashed members refuse connections at once, silent ones cost their parent's share of the timeout",
			"the machine is shared with other work: compare variants and the floor of the same size, not runs of different days",
		},
	}
	fig := &Figure{Name: "cosi-latency", Title: "Signing round latency", XLabel: "roster size (nodes)", YLabel: "seconds per round (median)",
		LogX: true, LogY: true, Caption: "Median latency of one collective signing round at the root against the roster size, per variant, in one process on this machine, with the CPU floor measured in the same run."}
	floorSeries := Series{Label: "floor (shares + one check)"}
	for _, n := range sw.Sizes {
		f := slices.Clone(floors[n])
		if len(f) == 0 {
			continue
		}
		slices.Sort(f)
		fm := quantile(f, 0.5)
		floorSeries.Points = append(floorSeries.Points, Point{float64(n), fm.Seconds()})
		res.Findings = append(res.Findings, fmt.Sprintf("%d nodes: floor %.3f s (%d runs)", n, fm.Seconds(), len(f)))
		for _, name := range names {
			k := key{n, name}
			l := slices.Clone(latencies[k])
			if len(l) == 0 {
				continue
			}
			slices.Sort(l)
			c := slices.Clone(cpus[k])
			slices.Sort(c)
			b := slices.Clone(bytes[k])
			slices.Sort(b)
			m, lo, hi := quantile(l, 0.5), quantile(l, 0.1), quantile(l, 0.9)
			res.Findings = append(res.Findings, fmt.Sprintf("%d nodes, %s: median %.3f s per round (p10 %.3f s, p90 %.3f s, %d rounds), %.2f× floor, CPU %.3f s, %.0f KB sent",
				n, name, m.Seconds(), lo.Seconds(), hi.Seconds(), len(l), m.Seconds()/fm.Seconds(), quantile(c, 0.5).Seconds(), quantile(b, 0.5)/1000))
		}
	}
	for _, name := range names {
		s := Series{Label: name}
		for _, n := range sw.Sizes {
			l := slices.Clone(latencies[key{n, name}])
			if len(l) == 0 {
				continue
			}
			slices.Sort(l)
			s.Points = append(s.Points, Point{float64(n), quantile(l, 0.5).Seconds()})
		}
		fig.Series = append(fig.Series, s)
	}
	fig.Series = append(fig.Series, floorSeries)
	res.Figures = []*Figure{fig}
	return res, nil
}

// variantLabel names a configuration independently of the size: the tree by its kind
// (two-level √n, flat, binary, or a fixed number of sub-leaders).
func variantLabel(c CosiConfig) string {
	tree := fmt.Sprintf("two-level:%d", c.Subtrees)
	switch {
	case c.Binary:
		tree = "binary"
	case c.Subtrees == c.Nodes-1 && c.Nodes > 2:
		tree = "flat"
	case c.Subtrees == protocol.DefaultSubtrees(c.Nodes):
		tree = "two-level √n"
	}
	parts := []string{tree, c.Aggregation()}
	if c.Crashed > 0 {
		parts = append(parts, "f crashed")
	}
	if c.Silent > 0 {
		parts = append(parts, "f silent")
	}
	return strings.Join(parts, ", ")
}

// quantile of sorted values, by linear interpolation.
func quantile[T ~int64 | ~float64](sorted []T, q float64) T {
	if len(sorted) == 0 {
		return 0
	}
	pos := q * float64(len(sorted)-1)
	i := int(pos)
	if i >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	frac := pos - float64(i)
	return T(float64(sorted[i]) + frac*float64(sorted[i+1]-sorted[i]))
}
