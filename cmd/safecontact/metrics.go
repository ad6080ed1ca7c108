package main

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"safecontact/bot"
	"safecontact/handoff"
)

// metrics is what GET /metrics serves, in Prometheus's text format. No
// label holds personal data: routes, status codes, states, priorities.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
}

func newMetrics(queue *handoff.Queue, log *slog.Logger) *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safecontact_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
	}
	bi := readBuildInfo()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "safecontact_build_info",
		Help:        "Always 1: the running build's version, commit and Go release.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.Go},
	})
	build.Set(1)
	m.reg.MustRegister(m.requests, build, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if queue != nil {
		m.reg.MustRegister(&queueCollector{queue: queue, log: log})
	}
	return m
}

// instrument counts a route's requests.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	return promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(prometheus.Labels{"route": route}), h)
}

// handler serves the metrics; with a token, only to requests that carry
// it ("Authorization: Bearer …").
func (m *metrics) handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			http.Error(w, "metrics need the token", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// queueCollector reads the officer queue at each scrape: what managers
// and on-call watch (cases waiting, and for how long).
type queueCollector struct {
	queue *handoff.Queue
	log   *slog.Logger
	// The queue is read at most every few seconds, however often /metrics
	// is asked.
	mu   sync.Mutex
	last handoff.Stats
	at   time.Time
}

func (c *queueCollector) stats() (handoff.Stats, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.at) < 5*time.Second {
		return c.last, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.queue.Stats(ctx)
	if err != nil {
		return st, err
	}
	c.last, c.at = st, time.Now()
	return st, nil
}

var (
	casesOpen = prometheus.NewDesc("safecontact_cases_open",
		"Open cases in the officer queue, by state and priority.", []string{"state", "priority"}, nil)
	oldestQueued = prometheus.NewDesc("safecontact_cases_oldest_unclaimed_seconds",
		"How long the longest-waiting unclaimed case has waited; 0 when none waits.", nil, nil)
	boardJobs = prometheus.NewDesc("safecontact_board_jobs_waiting",
		"Posts for Slack (or the console) waiting to be made or retried.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- casesOpen
	ch <- oldestQueued
	ch <- boardJobs
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	st, err := c.stats()
	if err != nil {
		c.log.Warn("metrics: queue not read", "err", err)
		return
	}
	for _, state := range []handoff.State{handoff.StateQueued, handoff.StateClaimed} {
		for p := bot.Standard; p <= bot.Urgent; p++ {
			ch <- prometheus.MustNewConstMetric(casesOpen, prometheus.GaugeValue, float64(st.Open[state][p]), string(state), p.String())
		}
	}
	var waited float64
	if !st.OldestQueued.IsZero() {
		waited = time.Since(st.OldestQueued).Seconds()
	}
	ch <- prometheus.MustNewConstMetric(oldestQueued, prometheus.GaugeValue, waited)
	ch <- prometheus.MustNewConstMetric(boardJobs, prometheus.GaugeValue, float64(st.Jobs))
}
