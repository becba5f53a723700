package service

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

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

func (m *Metrics) verified(d time.Duration, res *verifier.Result, err error) {
	if m == nil {
		return
	}
	m.verifyTimes.Observe(d.Seconds())
	if err != nil {
		m.verdicts.WithLabelValues("error", "error").Inc()
		return
	}
	p, r := earStatuses(res)
	m.verdicts.WithLabelValues(p, r).Inc()
}

// earStatuses are the ear.status of the two submodules, for metrics and
// logs.
func earStatuses(res *verifier.Result) (platform, realm string) {
	platform, realm = "unknown", "unknown"
	ar, err := res.EAR()
	if err != nil {
		return
	}
	if a := ar.Submods[verifier.SubmodPlatform]; a != nil && a.Status != nil {
		platform = a.Status.String()
	}
	if a := ar.Submods[verifier.SubmodRealm]; a != nil && a.Status != nil {
		realm = a.Status.String()
	}
	return
}

const levelInfo = slog.LevelInfo

func attrSession(id string) slog.Attr { return slog.String("session", id) }

func attrVerdict(res *verifier.Result) slog.Attr {
	p, r := earStatuses(res)
	return slog.Group("verdict", slog.Bool("trustworthy", res.Trustworthy), slog.String("platform", p), slog.String("realm", r))
}
