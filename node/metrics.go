package node

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are a node's Prometheus series, on a registry of its own (never the global
// one), so that several nodes in one process each count their own.
type metrics struct {
	registry      *prometheus.Registry
	rounds        *prometheus.CounterVec   // kind, outcome
	roundSeconds  *prometheus.HistogramVec // kind
	refusals      *prometheus.CounterVec   // reason class
	rebuilds      *prometheus.CounterVec   // outcome
	rebuildTime   prometheus.Histogram
	httpRequests  *prometheus.CounterVec // path class, code
	proposalsBusy prometheus.Counter
}

func newMetrics(n *Node) *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		rounds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainiac_rounds_total", Help: "Signing rounds this node led, by kind (link, timestamp, genesis) and outcome.",
		}, []string{"kind", "outcome"}),
		roundSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "chainiac_round_duration_seconds", Help: "Duration of the signing rounds this node led.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 14),
		}, []string{"kind"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainiac_refusals_total", Help: "Refusals this node signed, by reason class.",
		}, []string{"reason"}),
		rebuilds: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainiac_rebuilds_total", Help: "Release rebuilds this node ran, by outcome (match, mismatch, error).",
		}, []string{"outcome"}),
		rebuildTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "chainiac_rebuild_duration_seconds", Help: "Duration of release rebuilds, fetches included.",
			Buckets: prometheus.ExponentialBuckets(0.1, 2, 14),
		}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "chainiac_http_requests_total", Help: "HTTP requests served, by path class and status code.",
		}, []string{"path", "code"}),
		proposalsBusy: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "chainiac_proposals_rejected_busy_total", Help: "Proposals turned away because too many were in flight.",
		}),
	}
	m.registry.MustRegister(m.rounds, m.roundSeconds, m.refusals, m.rebuilds, m.rebuildTime, m.httpRequests, m.proposalsBusy,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chainiac_chains", Help: "Chains this node keeps.",
	}, func() float64 { return float64(len(n.chainList())) }))
	m.registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "chainiac_pinned_trees", Help: "Round and recovery trees pinned at this node's onet server, so that onet never ships their roster here.",
	}, func() float64 {
		if n.pins == nil {
			return 0
		}
		_, trees := n.pins.count()
		return float64(trees)
	}))
	m.registry.MustRegister(&chainCollector{n: n,
		height: prometheus.NewDesc("chainiac_chain_height", "Index of the newest stored block.", []string{"genesis"}, nil),
		tsAge: prometheus.NewDesc("chainiac_timestamp_age_seconds", "Age of the newest cosigned timestamp.",
			[]string{"genesis"}, nil),
		peers: prometheus.NewDesc("chainiac_peers_reachable", "Members of the roster in force that answered the newest round this node led.",
			[]string{"genesis"}, nil),
	})
	return m
}

// chainCollector reports per-chain gauges at scrape time, from the chains themselves.
type chainCollector struct {
	n                    *Node
	height, tsAge, peers *prometheus.Desc
}

func (c *chainCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.height
	ch <- c.tsAge
	ch <- c.peers
}

func (c *chainCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.n.clock()
	for _, chn := range c.n.chainList() {
		g := chn.genesis.String()
		if h, err := chn.store.Head(); err == nil {
			ch <- prometheus.MustNewConstMetric(c.height, prometheus.GaugeValue, float64(h.Index()), g)
		}
		if ts := chn.newestTimestamp(); ts != nil {
			ch <- prometheus.MustNewConstMetric(c.tsAge, prometheus.GaugeValue, now.Sub(ts.Time).Seconds(), g)
		}
		if p, ok := c.n.history.peers(chn.genesis); ok {
			ch <- prometheus.MustNewConstMetric(c.peers, prometheus.GaugeValue, float64(p), g)
		}
	}
}

func (m *metrics) round(kind, outcome string, d time.Duration) {
	m.rounds.WithLabelValues(kind, outcome).Inc()
	m.roundSeconds.WithLabelValues(kind).Observe(d.Seconds())
}
