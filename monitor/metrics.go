package monitor

import (
	"net/http"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are a monitor's Prometheus metrics, in a registry of their own.
type Metrics struct {
	reg          *prometheus.Registry
	blocks       prometheus.Counter
	last         prometheus.Gauge
	alarms       *prometheus.CounterVec
	active       *prometheus.GaugeVec
	mirrorErrors *prometheus.CounterVec
	tsAge        prometheus.Gauge
	evidence     prometheus.Gauge
	runs         prometheus.Counter
	checks       *prometheus.GaugeVec
	checksDone   *prometheus.GaugeVec
}

func newMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		blocks: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainiac_monitor_blocks_verified_total",
			Help: "Blocks verified (every link, signature and timeline rule) since the process started."}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainiac_monitor_last_verified_index",
			Help: "Index of the newest verified block."}),
		alarms: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainiac_monitor_alarms_total",
			Help: "Alarms raised, one per alarm per run, by kind."}, []string{"kind"}),
		active: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainiac_monitor_active_alarms",
			Help: "Alarms raised by the last run, by kind."}, []string{"kind"}),
		mirrorErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "chainiac_monitor_mirror_errors_total",
			Help: "Failed or refused answers, by mirror."}, []string{"mirror"}),
		tsAge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainiac_monitor_timestamp_age_seconds",
			Help: "Age of the newest verified cosigned timestamp at the last run."}),
		evidence: prometheus.NewGauge(prometheus.GaugeOpts{Name: "chainiac_monitor_evidence_files",
			Help: "Fork evidence files kept and not yet removed by a person."}),
		runs: prometheus.NewCounter(prometheus.CounterOpts{Name: "chainiac_monitor_runs_total",
			Help: "Runs completed."}),
		checks: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainiac_monitor_release_checks",
			Help: "Releases by the result of their last check (mars: signed MARs on their download server; rebuild: independent rebuild)."},
			[]string{"check", "result"}),
		checksDone: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "chainiac_monitor_release_checks_done_index",
			Help: "Every release up to this block has been checked at least once."}, []string{"check"}),
	}
	m.reg.MustRegister(m.blocks, m.last, m.alarms, m.active, m.mirrorErrors, m.tsAge, m.evidence, m.runs, m.checks, m.checksDone,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	for _, k := range kinds {
		m.alarms.WithLabelValues(k)
		m.active.WithLabelValues(k)
	}
	return m
}

func (m *Metrics) observe(alarms []Alarm, evidence int) {
	counts := map[string]int{}
	for _, a := range alarms {
		counts[a.Kind]++
		m.alarms.WithLabelValues(a.Kind).Inc()
	}
	for _, k := range kinds {
		m.active.WithLabelValues(k).Set(float64(counts[k]))
	}
	m.evidence.Set(float64(evidence))
	m.runs.Inc()
}

// observeChecks publishes what a release check's log says.
func (m *Metrics) observeChecks(check string, c *CheckReport) {
	if c == nil {
		return
	}
	m.checks.WithLabelValues(check, "passed").Set(float64(c.Passed))
	m.checks.WithLabelValues(check, "failed").Set(float64(len(c.Failed)))
	m.checks.WithLabelValues(check, "pending").Set(float64(len(c.Pending)))
	m.checksDone.WithLabelValues(check).Set(float64(c.Done))
}

// Registry is the registry the metrics are in.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}
