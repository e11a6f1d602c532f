// Package remotewrite pushes gpuprice's samples to Prometheus remote-write
// receivers (Prometheus, Mimir, Thanos Receive, VictoriaMetrics).
//
// Change-only is the storage format, not the wire format: PromQL looks a
// sample up at most 5 minutes back, so every send_interval each target is
// sent the current value of every live series, the same samples /metrics
// serves (price and collector families, not the process's own metrics). A
// series that goes away is sent one stale marker. Stored history is sent
// once per target, as deep as its history.max_age, oldest day first; how
// far it got is the target's watermark in the store, where a restart
// resumes.
//
// Requests use the remote-write 1.0 protocol (prometheus.WriteRequest,
// snappy), which every receiver takes, through client_golang's remote API:
// 5xx and 429 are retried with backoff honouring Retry-After, other 4xx are
// not. A live round that fails is dropped, not queued: the next one carries
// newer values. Nothing a target does blocks the collectors or /metrics.
package remotewrite

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/common/config"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/store"
)

// Watermarks keep, per target, how far its history has been sent. The
// SQLite store implements it.
type Watermarks interface {
	Watermark(ctx context.Context, target string) (time.Time, error)
	SetWatermark(ctx context.Context, target string, t time.Time) error
}

// History is the store a target reads stored history from: it counts the
// points too old to send without reading them.
type History interface {
	store.Reader
	store.Counter
}

// Options are what a Writer sends and where it reports.
type Options struct {
	// Families returns the exporter's current families in the text
	// format (exporter.Exporter.Families): the same slice until they
	// change.
	Families func() []byte
	// History supplies stored history for targets with a history.max_age;
	// nil sends live values only. When it is also Watermarks, each
	// target's progress is kept there.
	History History
	// Registerer receives the targets' self-metrics; nil registers none.
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Backoff overrides the retry backoff (tests); zero means the
	// remote API's default (1s to 10s, 10 retries).
	Backoff remote.BackoffConfig
	// Replica is this process's name in an HA group; targets with a
	// replica_label label every sample with it.
	Replica string
}

// Writer sends to every configured target.
type Writer struct {
	targets []*target
}

// New builds a Writer for the targets of cfgs; it sends nothing until Run.
func New(cfgs []config.RemoteWrite, opts Options) (*Writer, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := newMetrics(opts.Registerer)
	w := &Writer{}
	for i := range cfgs {
		t, err := newTarget(cfgs[i], opts, m)
		if err != nil {
			return nil, fmt.Errorf("remote_write[%d] (%s): %w", i, cfgs[i].TargetName(), err)
		}
		w.targets = append(w.targets, t)
	}
	return w, nil
}

// Run sends until ctx is done.
func (w *Writer) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, t := range w.targets {
		wg.Go(func() { t.live(ctx) })
		if t.cfg.History.MaxAge > 0 && t.opts.History != nil {
			wg.Go(func() { t.history(ctx) })
		}
	}
	wg.Wait()
}

// target is one receiver.
type target struct {
	name string
	// extra are the labels added to every sample (external_labels and the
	// replica label), sorted by name.
	extra []prompb.Label
	cfg   config.RemoteWrite
	opts  Options
	api   *remote.API
	log   *slog.Logger
	m     targetMetrics
}

func newTarget(cfg config.RemoteWrite, opts Options, m *metrics) (*target, error) {
	name := cfg.TargetName()
	client, err := promconfig.NewClientFromConfig(cfg.HTTPClientConfig(), "remote_write_"+name)
	if err != nil {
		return nil, err
	}
	client.Timeout = time.Duration(cfg.RemoteTimeout)
	client.Transport = statusRecorder{client.Transport}
	t := &target{name: name, cfg: cfg, opts: opts, log: opts.Logger.With("remote_write", name), m: m.target(name)}
	for k, v := range cfg.ExternalLabels {
		t.extra = append(t.extra, prompb.Label{Name: k, Value: v})
	}
	if cfg.ReplicaLabel != "" && opts.Replica != "" {
		t.extra = append(t.extra, prompb.Label{Name: cfg.ReplicaLabel, Value: opts.Replica})
	}
	slices.SortFunc(t.extra, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	apiOpts := []remote.APIOption{remote.WithAPIHTTPClient(client), remote.WithAPIPath(""), remote.WithAPILogger(t.log)}
	if opts.Backoff != (remote.BackoffConfig{}) {
		apiOpts = append(apiOpts, remote.WithAPIBackoff(opts.Backoff))
	}
	if t.api, err = remote.NewAPI(cfg.URL, apiOpts...); err != nil {
		return nil, err
	}
	return t, nil
}

// send writes series in requests of at most max_samples_per_send
// samples, in order; it returns the first error that stopped it, after
// which nothing more is sent. Samples of a request the receiver refused
// with a 4xx other than 429 are counted as dropped ("rejected") and the
// rest go on: sending them again would be refused again.
func (t *target) send(ctx context.Context, kind string, series []prompb.TimeSeries) error {
	max := t.cfg.Queue.MaxSamplesPerSend
	for len(series) > 0 {
		batch, n := series, 0
		for i, ts := range series {
			if n > 0 && n+len(ts.Samples) > max {
				batch = series[:i]
				break
			}
			n += len(ts.Samples)
		}
		series = series[len(batch):]
		status := new(int)
		_, err := t.api.Write(context.WithValue(ctx, statusKey{}, status), remote.WriteV1MessageType, &prompb.WriteRequest{Timeseries: batch},
			remote.WithWriteRetryCallback(func(error) { t.m.retries.Inc() }))
		switch {
		case err == nil:
			t.m.sent.WithLabelValues(kind).Add(float64(n))
			t.m.lastSuccess.Set(float64(t.opts.Now().UnixNano()) / 1e9)
		case *status/100 == 4 && *status != http.StatusTooManyRequests:
			t.m.dropped.WithLabelValues("rejected").Add(float64(n))
			t.log.Error("the receiver refused samples; they are dropped", "kind", kind, "samples", n, "err", err)
		default:
			t.m.failed.Add(float64(n))
			return err
		}
	}
	return nil
}

// withExtra returns labels with the target's extra labels added (a
// series' own label of the same name wins), sorted by name. It is applied
// once where a series is made, not on every send.
func (t *target) withExtra(labels []prompb.Label) []prompb.Label {
	if len(t.extra) == 0 {
		return labels
	}
	out := make([]prompb.Label, 0, len(labels)+len(t.extra))
	out = append(out, labels...)
	for _, e := range t.extra {
		if !slices.ContainsFunc(labels, func(l prompb.Label) bool { return l.Name == e.Name }) {
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b prompb.Label) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// statusRecorder records the status of each answer where the request's
// context asks for it (statusKey): the remote API's errors do not say
// whether a request was refused (4xx) or failed.
type statusRecorder struct{ next http.RoundTripper }

type statusKey struct{}

func (r statusRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.next.RoundTrip(req)
	if status, ok := req.Context().Value(statusKey{}).(*int); ok && resp != nil {
		*status = resp.StatusCode
	}
	return resp, err
}
