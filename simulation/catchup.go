package simulation

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/chainiac/chainiac/client"
	"github.com/chainiac/chainiac/internal/testchain"
	"github.com/chainiac/chainiac/release"
	"golang.org/x/mod/sumdb/tlog"
)

// CatchupConfig is the catchup scenario: an updater that missed k releases catches
// up, by each design.
type CatchupConfig struct {
	Ks        []uint64 // releases missed
	Roster    int      // chainiac's roster (and the linear chain's)
	Witnesses []int    // witness counts of the log
	// Samples is how many starting blocks, drawn with the seed, each k is measured
	// from (the same starts for every design); Repeats the timed runs per start.
	Samples, Repeats int
	// LinearSample is how many real links the linear chain's verification time is
	// measured on (at most k), scaled to k.
	LinearSample int
}

// DefaultCatchup is the run of `simulate catchup`.
func DefaultCatchup(quick bool) CatchupConfig {
	if quick {
		return CatchupConfig{Ks: []uint64{1, 10, 100, 1000}, Roster: 16, Witnesses: []int{3, 16, 128},
			Samples: 2, Repeats: 1, LinearSample: 8}
	}
	return CatchupConfig{Ks: []uint64{1, 3, 10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000}, Roster: 128,
		Witnesses: []int{3, 16, 128}, Samples: 5, Repeats: 5, LinearSample: 32}
}

func (c *CatchupConfig) validate() error {
	switch {
	case len(c.Ks) == 0 || slices.Contains(c.Ks, 0) || !slices.IsSorted(c.Ks):
		return errors.New("simulation: catchup: k values must be positive and sorted")
	case c.Roster < 1:
		return errors.New("simulation: catchup: no roster")
	case c.Samples < 1 || c.Repeats < 1 || c.LinearSample < 1:
		return errors.New("simulation: catchup: at least one sample, repeat and linear link")
	}
	for _, w := range c.Witnesses {
		if w < 1 {
			return errors.New("simulation: catchup: witness counts must be positive")
		}
	}
	return nil
}

// Designs of the catchup scenario, in the order of the tables.
const (
	designExpress  = "express"
	designLinks    = "links"
	designLinear   = "linear"
	designLog      = "log"
	designLogTiles = "log-tiles"
)

var catchupDesigns = []string{designExpress, designLinks, designLinear, designLog, designLogTiles}

type catchupKey struct {
	design    string
	k         uint64
	witnesses int
}

// catchupAcc sums one key's samples.
type catchupAcc struct {
	samples                                                  int
	sigChecks, hops, bytes, payload, proofHashes, roundTrips float64
	cpu, wall                                                []time.Duration
}

func (a *catchupAcc) add(m *catchupMeasure) {
	a.samples++
	a.sigChecks += m.SignatureChecks
	a.hops += m.Hops
	a.bytes += m.Bytes
	a.payload += m.PayloadBytes
	a.proofHashes += m.ProofHashes
	a.roundTrips += m.RoundTrips
	a.cpu = append(a.cpu, m.CPU...)
	a.wall = append(a.wall, m.Wall...)
}

func (a *catchupAcc) mean(v float64) float64 { return v / float64(a.samples) }

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return quantile(s, 0.5)
}

// RunCatchup measures every design at every k.
func RunCatchup(ctx context.Context, cfg CatchupConfig, o Options) (res *Result, err error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	defer guard(&err)
	h := harness{}
	maxK := cfg.Ks[len(cfg.Ks)-1]
	length := maxK + max(maxK/10, 64)
	steps := int(length/1000) + 1 + len(cfg.Ks)*cfg.Samples
	done := 0

	// The cothority's chain: length releases, built once.
	chain := testchain.New(h, testchain.Options{Members: cfg.Roster})
	for built := uint64(0); built < length; {
		n := min(1000, length-built)
		chain.Releases(h, int(built)+1, int(n))
		built += n
		done++
		o.progress("catchup", done, steps, "building a chain of %d releases, roster %d: %d", length, cfg.Roster, built)
		if err := ctxErr(ctx); err != nil {
			return nil, err
		}
	}
	head := chain.Head().Index()
	tmp, err := os.MkdirTemp("", "chainiac-sim-catchup-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	chainURL, stopChain, err := loopback(chain.Handler())
	if err != nil {
		return nil, err
	}
	defer stopChain()
	// One transport for every client of the run, its idle connections closed at the end.
	transport := &http.Transport{}
	defer transport.CloseIdleConnections()
	httpClient := &http.Client{Transport: transport, Timeout: time.Minute}
	side := &chainiacSide{chain: chain, url: chainURL, now: time.Date(2026, 1, 1, 1, 0, 0, 0, time.UTC), tmp: tmp, http: httpClient}

	linear, err := newLinearSide(chain, cfg.LinearSample)
	if err != nil {
		return nil, err
	}

	// The log: record i is block i+1's payload, the same bytes.
	records := make([][]byte, length)
	for i := range records {
		records[i] = chain.Block(uint64(i) + 1).Payload()
	}
	maxW := slices.Max(append([]int{0}, cfg.Witnesses...))
	lg, err := newTxLog(records, maxW, o.Seed)
	if err != nil {
		return nil, err
	}
	logURL, stopLog, err := loopback(lg)
	if err != nil {
		return nil, err
	}
	defer stopLog()
	var devKeys []release.DeveloperKey
	for _, d := range chain.Devs() {
		devKeys = append(devKeys, d.Public())
	}
	policy, err := release.NewPolicy(devKeys, 2)
	if err != nil {
		return nil, err
	}

	acc := map[catchupKey]*catchupAcc{}
	add := func(k catchupKey, m *catchupMeasure) {
		if acc[k] == nil {
			acc[k] = &catchupAcc{}
		}
		acc[k].add(m)
	}
	for _, k := range cfg.Ks {
		rng := rand.New(rand.NewPCG(o.Seed, k))
		for sample := 0; sample < cfg.Samples; sample++ {
			if err := ctxErr(ctx); err != nil {
				return nil, err
			}
			start := 1 + rng.Uint64N(length-k) // trusted block, in [1, length−k]
			to := start + k
			o.progress("catchup", done, steps, "k = %d, start %d of %d", k, sample+1, cfg.Samples)
			template, err := side.trusted(ctx, start)
			if err != nil {
				return nil, err
			}
			chain.SetVisible(to)
			for _, mode := range []client.Mode{client.Express, client.Links} {
				m, err := side.catchUp(ctx, template, mode, cfg.Repeats, to)
				if err != nil {
					return nil, err
				}
				add(catchupKey{mode.String(), k, cfg.Roster}, m)
			}
			chain.SetVisible(head)
			if err := os.RemoveAll(template); err != nil {
				return nil, err
			}
			m, err := linear.catchUp(k, to)
			if err != nil {
				return nil, err
			}
			add(catchupKey{designLinear, k, cfg.Roster}, m)

			trusted, err := lg.treeAt(int64(start))
			if err != nil {
				return nil, err
			}
			for _, w := range cfg.Witnesses {
				if _, err := lg.set(int64(to), w); err != nil {
					return nil, err
				}
				for _, tiles := range []bool{false, true} {
					m, err := logCatchUp(ctx, newLogClient(logURL, httpClient, lg, w, policy, tiles), trusted, cfg.Repeats, records[to-1])
					if err != nil {
						return nil, err
					}
					design := designLog
					if tiles {
						design = designLogTiles
					}
					add(catchupKey{design, k, w}, m)
				}
			}
			done++
		}
	}
	o.progress("catchup", steps, steps, "done")
	return catchupResult(cfg, o, acc, length), nil
}

// logCatchUp measures one catch-up of the log client: a warm-up run, then repeats
// timed ones.
func logCatchUp(ctx context.Context, c *logClient, trusted tlog.Tree, repeats int, newest []byte) (*catchupMeasure, error) {
	m := &catchupMeasure{}
	for i := 0; i <= repeats; i++ {
		wall, cpu, err := measure(func() error {
			_, err := c.catchUp(ctx, trusted)
			return err
		})
		if err != nil {
			return nil, err
		}
		if c.stats.PayloadBytes != int64(len(newest)) {
			return nil, errors.New("simulation: the log client did not reach the newest release")
		}
		if i == 0 {
			continue
		}
		st := c.stats
		m.SignatureChecks, m.ProofHashes, m.RoundTrips = float64(st.SignatureChecks), float64(st.ProofHashes), float64(st.RoundTrips)
		m.Bytes, m.PayloadBytes = float64(st.Bytes), float64(st.PayloadBytes)
		m.CPU, m.Wall = append(m.CPU, cpu), append(m.Wall, wall)
	}
	return m, nil
}

func catchupLabel(design string, w int) string {
	switch design {
	case designLog, designLogTiles:
		return fmt.Sprintf("%s, %d witnesses", design, w)
	}
	return fmt.Sprintf("%s, roster %d", design, w)
}

func catchupResult(cfg CatchupConfig, o Options, acc map[catchupKey]*catchupAcc, length uint64) *Result {
	main := &Table{Name: "catchup", Doc: "one row per design, k and witness count: the mean over the sampled starts (median for times)", Columns: []Column{
		{Name: "design", Doc: "`express` and `links`: chainiac's two paths (the real client); `linear`: one collective signature per block; `log`: Merkle log, proofs asked of the server; `log-tiles`: the same log read through static tiles"},
		{Name: "k", Doc: "releases missed: the client trusts block (tree size) s and the newest is s + k"},
		{Name: "witnesses", Doc: "the log's witnesses that cosign each checkpoint; for chainiac and linear, the roster size"},
		{Name: "hops", Doc: "forward links followed (links), blocks walked (linear, = k); 0 for express and the logs (their proof sizes are in catchup-costs.csv)"},
		{Name: "bytes", Doc: "response bodies received in the catch-up: proofs, signatures and the newest release's payload (about 600 bytes here, the same bytes in every design)"},
		{Name: "verify_seconds", Doc: "median CPU time of one catch-up (getrusage: the client and the in-process server over loopback); linear: measured on real links and scaled to k", Measured: true},
		{Name: "round_trips", Doc: "HTTP requests of the catch-up (linear: the fewest its API allows, 3)"},
	}}
	costs := &Table{Name: "catchup-costs", Doc: "the same rows with every cost apart", Columns: []Column{
		{Name: "design", Doc: "as in catchup.csv"},
		{Name: "k", Doc: "as in catchup.csv"},
		{Name: "witnesses", Doc: "as in catchup.csv"},
		{Name: "samples", Doc: "starting blocks measured (each with its own timed runs)"},
		{Name: "signature_checks", Doc: "signatures verified: collective BLS signatures for chainiac and linear, Ed25519 note signatures (the log's and each witness's) for the logs; the release's developer signatures, the same in every design, are not counted"},
		{Name: "proof_hashes", Doc: "Merkle hashes in the consistency and inclusion proofs (logs)"},
		{Name: "proof_bytes", Doc: "bytes apart from the payload"},
		{Name: "payload_bytes", Doc: "the newest release's payload"},
		{Name: "cpu_seconds", Doc: "median CPU time of one catch-up, as verify_seconds", Measured: true},
		{Name: "wall_seconds", Doc: "median wall time of one catch-up (chainiac's includes two fsyncs of its state file)", Measured: true},
	}}
	var keys []catchupKey
	for k := range acc {
		keys = append(keys, k)
	}
	order := func(d string) int { return slices.Index(catchupDesigns, d) }
	slices.SortFunc(keys, func(a, b catchupKey) int {
		if c := order(a.design) - order(b.design); c != 0 {
			return c
		}
		if a.witnesses != b.witnesses {
			return a.witnesses - b.witnesses
		}
		return int(a.k) - int(b.k)
	})
	bytesFig := &Figure{Name: "catchup-bytes", Title: "Catch-up: bytes received against releases missed", XLabel: "releases missed (k)", YLabel: "bytes", LogX: true, LogY: true,
		Caption: "Bytes an updater receives to catch up after missing k releases (proofs, signatures, the newest payload), log-log. Express is flat; chainiac's forward links and the log's proofs grow with log k; the linear chain grows with k; the log's checkpoint grows with the number of witnesses (one Ed25519 signature line each)."}
	timeFig := &Figure{Name: "catchup-verify", Title: "Catch-up: CPU time against releases missed", XLabel: "releases missed (k)", YLabel: "CPU seconds per catch-up", LogX: true, LogY: true,
		Caption: "Median CPU time of one catch-up (client and in-process server over loopback HTTP), log-log. One BLS pairing check costs about as much as 30–40 Ed25519 verifications, so a log with few witnesses verifies faster than chainiac, and one with 128 witnesses slower; the linear chain's k signature checks dominate beyond a few releases."}
	rtFig := &Figure{Name: "catchup-round-trips", Title: "Catch-up: HTTP requests against releases missed", XLabel: "releases missed (k)", YLabel: "requests", LogX: true, LogY: true,
		Caption: "HTTP requests of one catch-up, log-log. Express and the log with proofs take a fixed 3; chainiac's forward-link path one per hop; the tile client one per tile it needs (cached within the catch-up, fetchable in parallel)."}
	series := map[string]*Series{}
	var labels []string
	for _, k := range keys {
		a := acc[k]
		hops := a.mean(a.hops)
		if k.design == designLog || k.design == designLogTiles {
			hops = 0
		}
		cpu, wall := median(a.cpu), median(a.wall)
		main.Add(k.design, k.k, k.witnesses, hops, a.mean(a.bytes), Fixed{cpu.Seconds(), 6}, a.mean(a.roundTrips))
		costs.Add(k.design, k.k, k.witnesses, a.samples, a.mean(a.sigChecks), a.mean(a.proofHashes),
			a.mean(a.bytes-a.payload), a.mean(a.payload), Fixed{cpu.Seconds(), 6}, Fixed{wall.Seconds(), 6})
		label := catchupLabel(k.design, k.witnesses)
		if series[label] == nil {
			series[label] = &Series{Label: label}
			labels = append(labels, label)
		}
		s := series[label]
		s.Points = append(s.Points, Point{float64(k.k), a.mean(a.bytes)})
	}
	for _, l := range labels {
		bytesFig.Series = append(bytesFig.Series, *series[l])
	}
	for _, fig := range []*Figure{timeFig, rtFig} {
		cur := ""
		for _, k := range keys {
			a := acc[k]
			label := catchupLabel(k.design, k.witnesses)
			if label != cur {
				fig.Series = append(fig.Series, Series{Label: label})
				cur = label
			}
			y := median(a.cpu).Seconds()
			if fig == rtFig {
				y = a.mean(a.roundTrips)
			}
			s := &fig.Series[len(fig.Series)-1]
			s.Points = append(s.Points, Point{float64(k.k), y})
		}
	}
	res := &Result{Scenario: "catchup", Title: "Catch-up cost: chainiac against a linear chain and a witnessed transparency log",
		Intro: fmt.Sprintf(`An updater trusts block s (for the log: the tree of s records) and the newest is s + k.
For each k, %d starting points s are drawn with the seed, the same for every design, and
each catch-up is run once to warm up and %d times timed. Chainiac is the real client
package (express and forward-link paths, a roster of %d, threshold %d) against an
internal/testchain cothority of %d releases served over loopback HTTP, as
client/bench_test.go measures it. The linear chain's bytes come from chainiac's real
encodings (k level-0 links); its verification time is measured on up to %d real links
and scaled to k. The log holds the same payloads as records, built and proved with
golang.org/x/mod/sumdb/tlog (stored hashes, tlog.ProveTree/CheckTree,
ProveRecord/CheckRecord, tiles of height 8 through tlog.TileHashReader); its checkpoint
is a sumdb/note signed by the log and cosigned by every witness (Ed25519), opened with
note.Open, and a client needs the log's signature and n − ⌊(n−1)/3⌋ of the witnesses'.
Every client, chainiac's and the log's, also checks the newest release's developer
signatures.`, cfg.Samples, cfg.Repeats, cfg.Roster, cfgThreshold(cfg.Roster), length, cfg.LinearSample),
		Tables:  []*Table{main, costs},
		Figures: []*Figure{bytesFig, timeFig, rtFig},
		Limits: []string{
			"no network latency: round trips are counted, not timed; over a real network each costs one RTT (tile fetches can overlap)",
			"no roster or witness changes: a chainiac roster change adds one forward-link path to it and the new roster's block (about 20 KB at 128 members)",
			"the tile client starts with an empty cache; a client that kept the tiles of its last check fetches fewer",
			"C2SP static logs serve records in bundles of 256 (tile/entries); here the tile client fetches the one record it needs",
			"note.Open refuses notes with more than 100 signatures, so the 128-witness checkpoint is served as two notes of the same tree",
			"CPU time includes the in-process server's work (copying ready answers; for the log, proofs from stored hashes in memory)",
		},
	}
	res.Findings = catchupFindings(cfg, acc)
	return res
}

func cfgThreshold(n int) int { return n - (n-1)/3 }

func catchupFindings(cfg CatchupConfig, acc map[catchupKey]*catchupAcc) []string {
	ref := cfg.Ks[len(cfg.Ks)-1]
	if slices.Contains(cfg.Ks, 10_000) {
		ref = 10_000
	}
	describe := func(k catchupKey) string {
		a := acc[k]
		if a == nil {
			return ""
		}
		return fmt.Sprintf("%s: signature checks %s, %s, %s CPU, %s round trips", catchupLabel(k.design, k.witnesses),
			num(a.mean(a.sigChecks)), humanBytes(a.mean(a.bytes)), humanSeconds(median(a.cpu).Seconds()), num(a.mean(a.roundTrips)))
	}
	var out []string
	ex := make([]string, 0, len(cfg.Ks))
	for _, k := range cfg.Ks {
		if a := acc[catchupKey{designExpress, k, cfg.Roster}]; a != nil {
			ex = append(ex, fmt.Sprintf("%s/%s", num(a.mean(a.sigChecks)), humanBytes(a.mean(a.bytes))))
		}
	}
	out = append(out, fmt.Sprintf("express (roster %d), signature checks/bytes for k = %s: %s", cfg.Roster, joinK(cfg.Ks), strings.Join(ex, ", ")))
	for _, d := range []string{designExpress, designLinks, designLinear} {
		out = append(out, fmt.Sprintf("k = %d, %s", ref, describe(catchupKey{d, ref, cfg.Roster})))
	}
	for _, d := range []string{designLog, designLogTiles} {
		for _, w := range cfg.Witnesses {
			out = append(out, fmt.Sprintf("k = %d, %s", ref, describe(catchupKey{d, ref, w})))
		}
	}
	// Where the log's proofs cost fewer bytes than chainiac's express path.
	for _, w := range cfg.Witnesses {
		var cheaper []string
		for _, k := range cfg.Ks {
			e, l := acc[catchupKey{designExpress, k, cfg.Roster}], acc[catchupKey{designLog, k, w}]
			if e != nil && l != nil && l.mean(l.bytes) < e.mean(e.bytes) {
				cheaper = append(cheaper, fmt.Sprint(k))
			}
		}
		if len(cheaper) == 0 {
			out = append(out, fmt.Sprintf("log with %d witnesses: more bytes than express at every k measured", w))
		} else {
			out = append(out, fmt.Sprintf("log with %d witnesses: fewer bytes than express at k = %s", w, strings.Join(cheaper, ", ")))
		}
	}
	return out
}

func joinK(ks []uint64) string {
	s := make([]string, len(ks))
	for i, k := range ks {
		s[i] = fmt.Sprint(k)
	}
	return strings.Join(s, ", ")
}

func num(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprint(int64(v))
	}
	return fmt.Sprintf("%.1f", v)
}

func humanBytes(b float64) string {
	switch {
	case b >= 1e12:
		return fmt.Sprintf("%.2f TB", b/1e12)
	case b >= 1e9:
		return fmt.Sprintf("%.2f GB", b/1e9)
	case b >= 1e6:
		return fmt.Sprintf("%.2f MB", b/1e6)
	case b >= 1e4:
		return fmt.Sprintf("%.1f KB", b/1e3)
	}
	return fmt.Sprintf("%.0f B", b)
}

func humanSeconds(s float64) string {
	switch {
	case s >= 1:
		return fmt.Sprintf("%.2f s", s)
	case s >= 1e-3:
		return fmt.Sprintf("%.2f ms", s*1e3)
	}
	return fmt.Sprintf("%.0f µs", s*1e6)
}
