package service

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/veraison/ear"

	"github.com/ccakit/cca/verifier"
)

// Metrics are the service's Prometheus measurements, in a registry of
// their own (several services in one process, as in tests, do not clash).
// A nil *Metrics measures nothing.
type Metrics struct {
	reg         *prometheus.Registry
	sessions    prometheus.Counter
	verdicts    *prometheus.CounterVec
	rejections  *prometheus.CounterVec
	provisions  *prometheus.CounterVec
	requests    *prometheus.CounterVec
	latency     *prometheus.HistogramVec
	verifyTimes prometheus.Histogram
}

// NewMetrics makes the metrics, with the Go runtime's and the process's.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		sessions: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "ccakit_sessions_created_total", Help: "Challenge-response sessions created."}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccakit_verdicts_total", Help: "Evidence appraised, by EAR status of the platform and of the realm."},
			[]string{"platform", "realm"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccakit_rejected_requests_total", Help: "Requests refused before appraisal, by reason."},
			[]string{"reason"}),
		provisions: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccakit_provisioning_submissions_total", Help: "Endorsement submissions, by outcome."},
			[]string{"outcome"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "ccakit_http_requests_total", Help: "HTTP requests, by handler and status code."},
			[]string{"handler", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "ccakit_http_request_duration_seconds", Help: "HTTP request latency, by handler.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14)}, []string{"handler"}),
		verifyTimes: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "ccakit_verify_duration_seconds", Help: "Time to verify and appraise evidence and sign its EAR.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 12)}),
	}
	m.reg.MustRegister(m.sessions, m.verdicts, m.rejections, m.provisions, m.requests, m.latency, m.verifyTimes,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

func (m *Metrics) sessionCreated() {
	if m != nil {
		m.sessions.Inc()
	}
}

func (m *Metrics) rejected(reason string) {
	if m != nil {
		m.rejections.WithLabelValues(reason).Inc()
	}
}

func (m *Metrics) provisioned(outcome string) {
	if m != nil {
		m.provisions.WithLabelValues(outcome).Inc()
	}
}

func (m *Metrics) request(handler string, code int, d time.Duration) {
	if m != nil {
		m.requests.WithLabelValues(handler, strconv.Itoa(code)).Inc()
		m.latency.WithLabelValues(handler).Observe(d.Seconds())
	}
}

func (m *Metrics) verified(d time.Duration, platform, realm string, err error) {
	if m == nil {
		return
	}
	m.verifyTimes.Observe(d.Seconds())
	if err != nil {
		platform, realm = "error", "error"
	}
	m.verdicts.WithLabelValues(platform, realm).Inc()
}

// earStatuses are the ear.status of the two submodules, for metrics and
// logs ("none" for an absent submodule, as after a failed platform).
func earStatuses(ar *ear.AttestationResult) (platform, realm string) {
	if ar == nil {
		return "error", "error"
	}
	status := func(name string) string {
		if a := ar.Submods[name]; a != nil && a.Status != nil {
			return a.Status.String()
		}
		return "absent"
	}
	if _, failed := ar.Submods[verifier.SubmodFailure]; failed {
		// Veraison's failure shape: one ARM_CCA submodule, no others.
		return status(verifier.SubmodFailure), "absent"
	}
	return status(verifier.SubmodPlatform), status(verifier.SubmodRealm)
}
