package simulation

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// CosiSweep is the cosi scenario: RunCosi at each size. Base gives everything but
// the size (Base.Nodes is ignored).
type CosiSweep struct {
	Sizes []int
	Base  CosiConfig
}

// DefaultCosiSweep is the sweep of `simulate cosi --output` and `simulate all`.
func DefaultCosiSweep(quick bool) CosiSweep {
	if quick {
		return CosiSweep{Sizes: []int{8, 16, 32}, Base: CosiConfig{Rounds: 3, Warmup: 1}}
	}
	return CosiSweep{Sizes: []int{16, 64, 256, 1024, 4096}, Base: CosiConfig{Rounds: 10, Warmup: 1}}
}

// RunCosiSweep runs the sweep, calling report after each round, and returns the
// measured rounds (warm-up left out) as a Result. onet's process-wide set-up
// (localnet.Register) is the caller's.
func RunCosiSweep(ctx context.Context, sw CosiSweep, o Options, report func(Round)) (*Result, error) {
	if len(sw.Sizes) == 0 {
		return nil, fmt.Errorf("simulation: cosi: no sizes")
	}
	t := &Table{Name: "cosi", Doc: "one row per measured signing round (warm-up rounds left out)", Columns: []Column{
		{Name: "nodes", Doc: "roster size: onet servers in this process, each with its own TCP listener on 127.0.0.1"},
		{Name: "round", Doc: "round number within its size, from 1 (warm-up rounds included in the count)"},
		{Name: "seconds", Doc: "latency of the round at the root, from start to a verified collective signature", Measured: true},
		{Name: "signers", Doc: "members whose share is in the signature"},
		{Name: "tree", Doc: "tree shape: two-level:S (S sub-leaders) or binary"},
	}}
	total, done := len(sw.Sizes)*(sw.Base.Warmup+sw.Base.Rounds), 0
	latencies := map[int][]time.Duration{}
	for _, n := range sw.Sizes {
		cfg := sw.Base
		cfg.Nodes = n
		if err := cfg.validate(); err != nil {
			return nil, err
		}
		tree := fmt.Sprintf("two-level:%d", cfg.Subtrees)
		if cfg.Binary {
			tree = "binary"
		}
		err := RunCosi(ctx, cfg, func(r Round) {
			done++
			o.progress("cosi", done, total, "%d nodes, round %d", n, r.Round)
			if report != nil {
				report(r)
			}
			if !r.Warmup && r.Err == nil {
				t.Add(r.Nodes, r.Round, Fixed{r.Latency.Seconds(), 6}, r.Signers, tree)
				latencies[n] = append(latencies[n], r.Latency)
			}
		})
		if err != nil {
			return nil, err
		}
	}
	res := &Result{Scenario: "cosi", Title: "Collective signing rounds against roster size",
		Intro: fmt.Sprintf(`Every size runs as onet servers in this one process, each with its own TCP listener on
127.0.0.1 and its own cosi key, over the tree protocol of cosi/protocol (default policy
n − ⌊(n−1)/3⌋). %d warm-up round(s) per size open the connections and are left out; %d
rounds are measured. The figure is the median with the 10th and 90th percentile.`, sw.Base.Warmup, sw.Base.Rounds),
		Tables: []*Table{t},
		Limits: []string{
			"all members share this machine's cores: the figure is the total CPU of the round more than its critical path in a deployment with a machine per member",
			"no failing or slow members, no network latency",
		},
	}
	fig := &Figure{Name: "cosi-latency", Title: "Signing round latency", XLabel: "roster size (nodes)", YLabel: "seconds per round",
		LogX: true, LogY: true, Caption: "Latency of one collective signing round at the root against the roster size, in one process on this machine."}
	var med, p10, p90 Series
	med.Label, p10.Label, p90.Label = "median", "10th percentile", "90th percentile"
	for _, n := range sw.Sizes {
		l := slices.Clone(latencies[n])
		if len(l) == 0 {
			continue
		}
		slices.Sort(l)
		m, lo, hi := quantile(l, 0.5), quantile(l, 0.1), quantile(l, 0.9)
		med.Points = append(med.Points, Point{float64(n), m.Seconds()})
		p10.Points = append(p10.Points, Point{float64(n), lo.Seconds()})
		p90.Points = append(p90.Points, Point{float64(n), hi.Seconds()})
		res.Findings = append(res.Findings, fmt.Sprintf("%d nodes: median %.3f s per round (p10 %.3f s, p90 %.3f s, %d rounds)", n, m.Seconds(), lo.Seconds(), hi.Seconds(), len(l)))
	}
	fig.Series = []Series{med, p10, p90}
	res.Figures = []*Figure{fig}
	return res, nil
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
