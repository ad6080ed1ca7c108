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

	"github.com/safecontact/safecontact/bot"
	"github.com/safecontact/safecontact/handoff"
)

// metrics is what GET /metrics serves, in Prometheus's text format. No
// label holds personal data: routes, status codes, states, priorities.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	// opened counts the cards this process posted, by priority;
	// escalations the alerts, by kind; undelivered the officers' texts
	// that did not reach the tenant, by why.
	opened, escalations, undelivered *prometheus.CounterVec
	// queueEvery is how often the queue is read at most, however often
	// /metrics is asked.
	queueEvery time.Duration
}

// durationBuckets end at 15 s: Twilio gives up on a webhook that has not
// answered in 15 seconds (Twilio's docs, "Webhooks: connection overrides",
// the default read timeout).
var durationBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15}

func newMetrics(log *slog.Logger) *metrics {
	m := &metrics{
		reg:        prometheus.NewRegistry(),
		queueEvery: 5 * time.Second,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safecontact_http_requests_total",
			Help: "HTTP requests answered, by route and status code.",
		}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "safecontact_http_request_duration_seconds",
			Help:    "How long HTTP requests took to answer, by route. Twilio gives up at 15 s.",
			Buckets: durationBuckets,
		}, []string{"route"}),
		opened: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safecontact_cases_opened_total",
			Help: "Case cards this process posted for officers, by priority.",
		}, []string{"priority"}),
		escalations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safecontact_escalations_total",
			Help: "Alerts this process posted (on-call, managers, reminders), by kind.",
		}, []string{"kind"}),
		undelivered: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "safecontact_texts_undelivered_total",
			Help: "Officers' texts that did not reach the tenant, by why: opted_out or failed.",
		}, []string{"why"}),
	}
	bi := readBuildInfo()
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "safecontact_build_info",
		Help:        "Always 1: the running build's version, commit and Go release.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "commit": bi.Commit, "goversion": bi.Go},
	})
	build.Set(1)
	// Every series starts at zero, so that the first failures after a
	// start are counted by increase() rather than lost as its first sample.
	for p := bot.Standard; p <= bot.Urgent; p++ {
		m.opened.WithLabelValues(p.String())
	}
	for _, a := range []handoff.Alert{handoff.AlertOnCall, handoff.AlertWarn, handoff.AlertRemind, handoff.AlertDue,
		handoff.AlertDutyWarn, handoff.AlertDutyDue, handoff.AlertNoCard, handoff.AlertDanger} {
		m.escalations.WithLabelValues(string(a))
	}
	m.undelivered.WithLabelValues("failed")
	m.undelivered.WithLabelValues("opted_out")
	m.reg.MustRegister(m.requests, m.duration, m.opened, m.escalations, m.undelivered, build,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// watchQueue adds the officer queue's gauges, read at each scrape.
func (m *metrics) watchQueue(queue *handoff.Queue, log *slog.Logger) {
	m.reg.MustRegister(&queueCollector{queue: queue, log: log, every: m.queueEvery})
}

// watchJobs adds safecontact_jobs_dead{kind}, the jobs given up that a
// person should retry or drop, read at each scrape.
func (m *metrics) watchJobs(log *slog.Logger, sources ...jobSource) {
	m.reg.MustRegister(&jobsCollector{sources: sources, log: log, every: m.queueEvery})
}

// posted counts what the queue's worker posted (handoff.Options.Posted).
func (m *metrics) posted(kind handoff.JobKind, c *handoff.Case, a handoff.Alert) {
	switch kind {
	case handoff.JobCard:
		m.opened.WithLabelValues(c.Priority.String()).Inc()
	case handoff.JobAlert:
		m.escalations.WithLabelValues(string(a)).Inc()
	}
}

// textUndelivered counts an officer's text that did not reach the tenant.
func (m *metrics) textUndelivered(optedOut bool) {
	why := "failed"
	if optedOut {
		why = "opted_out"
	}
	m.undelivered.WithLabelValues(why).Inc()
}

// instrument counts a route's requests and times them.
func (m *metrics) instrument(route string, h http.Handler) http.Handler {
	l := prometheus.Labels{"route": route}
	return promhttp.InstrumentHandlerDuration(m.duration.MustCurryWith(l),
		promhttp.InstrumentHandlerCounter(m.requests.MustCurryWith(l), h))
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
	every time.Duration
	mu    sync.Mutex
	last  handoff.Stats
	at    time.Time
	// read: the queue has been read at least once; up: the last read
	// worked.
	read, up bool
}

// stats returns the queue's figures as last read, reading it again when
// they are older than a few seconds. When Redis does not answer, the
// last figures stand and up is false: the series do not vanish exactly
// when they matter.
func (c *queueCollector) stats() (st handoff.Stats, read, up bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.read && c.up && time.Since(c.at) < c.every {
		return c.last, true, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.queue.Stats(ctx)
	if err != nil {
		c.log.Warn("metrics: queue not read", "err", err)
		c.up = false
		return c.last, c.read, false
	}
	c.last, c.at, c.read, c.up = st, time.Now(), true, true
	return st, true, true
}

var (
	casesOpen = prometheus.NewDesc("safecontact_cases_open",
		"Open cases in the officer queue, by state and priority.", []string{"state", "priority"}, nil)
	oldestQueued = prometheus.NewDesc("safecontact_cases_oldest_unclaimed_timestamp_seconds",
		"When the longest-waiting unclaimed case was opened, as a Unix time; 0 when none waits. Alert on time() minus this.", nil, nil)
	earliestDue = prometheus.NewDesc("safecontact_cases_contact_due_timestamp_seconds",
		"The earliest contact deadline of the open cases not yet contacted, as a Unix time; 0 when none. Alert on time() past it: a tenant was promised contact by then.", nil, nil)
	queueUp = prometheus.NewDesc("safecontact_queue_up",
		"1 when the officer queue was read from Redis at this scrape; 0 when Redis did not answer and the queue's figures are the last read.", nil, nil)
	boardJobs = prometheus.NewDesc("safecontact_board_jobs_waiting",
		"Posts for Slack (or the console) waiting to be made or retried.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- casesOpen
	ch <- oldestQueued
	ch <- boardJobs
	ch <- earliestDue
	ch <- queueUp
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	st, read, up := c.stats()
	ch <- prometheus.MustNewConstMetric(queueUp, prometheus.GaugeValue, map[bool]float64{true: 1}[up])
	if !read {
		return
	}
	for _, state := range []handoff.State{handoff.StateQueued, handoff.StateClaimed} {
		for p := bot.Standard; p <= bot.Urgent; p++ {
			ch <- prometheus.MustNewConstMetric(casesOpen, prometheus.GaugeValue, float64(st.Open[state][p]), string(state), p.String())
		}
	}
	var oldest float64
	if !st.OldestQueued.IsZero() {
		oldest = float64(st.OldestQueued.UnixMilli()) / 1000
	}
	ch <- prometheus.MustNewConstMetric(oldestQueued, prometheus.GaugeValue, oldest)
	var due float64
	if !st.EarliestDue.IsZero() {
		due = float64(st.EarliestDue.UnixMilli()) / 1000
	}
	ch <- prometheus.MustNewConstMetric(earliestDue, prometheus.GaugeValue, due)
	ch <- prometheus.MustNewConstMetric(boardJobs, prometheus.GaugeValue, float64(st.Jobs))
}

var jobsDead = prometheus.NewDesc("safecontact_jobs_dead",
	"Jobs given up, by kind (text: an officer's text to a tenant), waiting for a person to retry or drop them with `safecontact jobs`.",
	[]string{"kind"}, nil)

// jobsCollector counts the dead jobs of each source at each scrape, at
// most every few seconds. When Redis does not answer, a source's last
// count stands (safecontact_queue_up tells that Redis is down).
type jobsCollector struct {
	sources []jobSource
	log     *slog.Logger
	every   time.Duration
	mu      sync.Mutex
	last    map[string]int64 // by kind, once read
	at      time.Time
}

func (c *jobsCollector) counts() map[string]int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last != nil && time.Since(c.at) < c.every {
		return c.last
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	next := map[string]int64{}
	for _, src := range c.sources {
		n, err := src.Dead(ctx)
		if err != nil {
			c.log.Warn("metrics: dead jobs not counted", "kind", src.Kind(), "err", err)
			if prev, ok := c.last[src.Kind()]; ok {
				next[src.Kind()] = prev
			}
			continue
		}
		next[src.Kind()] = n
	}
	c.last, c.at = next, time.Now()
	return next
}

func (c *jobsCollector) Describe(ch chan<- *prometheus.Desc) { ch <- jobsDead }

func (c *jobsCollector) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range c.counts() {
		ch <- prometheus.MustNewConstMetric(jobsDead, prometheus.GaugeValue, float64(n), kind)
	}
}
