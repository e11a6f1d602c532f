package remotewrite

import "github.com/prometheus/client_golang/prometheus"

// metrics are the self-metrics of every target, by target name.
type metrics struct {
	sent, dropped          *prometheus.CounterVec
	failed, retries        *prometheus.CounterVec
	lastSuccess, queue, wm *prometheus.GaugeVec
	historyPending         *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	target := []string{"target"}
	m := &metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuprice_remote_write_samples_sent_total",
			Help: "Samples the remote-write target accepted, by kind: live (current values) or history (stored points)."},
			[]string{"target", "kind"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuprice_remote_write_samples_failed_total",
			Help: "Samples not sent because the target failed (5xx, 429 or network errors after retries); history is sent again later."}, target),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuprice_remote_write_samples_dropped_total",
			Help: "Samples never sent, by reason: too_old (older than history.max_age) or rejected (a 4xx answer other than 429)."},
			[]string{"target", "reason"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "gpuprice_remote_write_retries_total",
			Help: "Requests retried after a 5xx, a 429 or a network error."}, target),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuprice_remote_write_last_success_timestamp_seconds",
			Help: "When the target last accepted a request."}, target),
		queue: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuprice_remote_write_queue_samples",
			Help: "Samples held for sending: the live round in flight and the history batch being sent."}, target),
		wm: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuprice_remote_write_history_watermark_timestamp_seconds",
			Help: "How far the target's stored history has been sent (0: not yet)."}, target),
		historyPending: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "gpuprice_remote_write_history_pending_days",
			Help: "Days of stored history still to send to the target."}, target),
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.failed, m.dropped, m.retries, m.lastSuccess, m.queue, m.wm, m.historyPending)
	}
	return m
}

// targetMetrics are one target's metrics.
type targetMetrics struct {
	sent, dropped         *prometheus.CounterVec
	failed, retries       prometheus.Counter
	lastSuccess, wm       prometheus.Gauge
	queue, historyPending prometheus.Gauge
}

func (m *metrics) target(name string) targetMetrics {
	l := prometheus.Labels{"target": name}
	tm := targetMetrics{
		sent:           m.sent.MustCurryWith(l),
		dropped:        m.dropped.MustCurryWith(l),
		failed:         m.failed.With(l),
		retries:        m.retries.With(l),
		lastSuccess:    m.lastSuccess.With(l),
		queue:          m.queue.With(l),
		wm:             m.wm.With(l),
		historyPending: m.historyPending.With(l),
	}
	for _, reason := range []string{"too_old", "rejected"} {
		tm.dropped.WithLabelValues(reason)
	}
	for _, kind := range []string{"live", "history"} {
		tm.sent.WithLabelValues(kind)
	}
	return tm
}
