package remotewrite

import (
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpuprice/gpuprice/config"
)

// receiver is an in-process remote-write receiver: client_golang's write
// handler, with a hook deciding each answer.
type receiver struct {
	mu       sync.Mutex
	requests []*prompb.WriteRequest
	// answer returns the status of the n-th request (0-based); 0 accepts.
	answer func(n int, w http.ResponseWriter) int
	got    chan struct{}
}

func newReceiver(t *testing.T) (*receiver, *httptest.Server) {
	r := &receiver{got: make(chan struct{}, 1000)}
	h := remote.NewWriteHandler(r, remote.MessageTypes{remote.WriteV1MessageType})
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.answer != nil {
			if code := r.answer(int(n.Add(1)-1), w); code != 0 {
				w.WriteHeader(code)
				io.WriteString(w, "refused by the test")
				return
			}
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	return r, srv
}

func (r *receiver) Store(req *http.Request, _ remote.WriteMessageType) (*remote.WriteResponse, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, err
	}
	var wr prompb.WriteRequest
	if err := wr.Unmarshal(body); err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.requests = append(r.requests, &wr)
	r.mu.Unlock()
	r.got <- struct{}{}
	return remote.NewWriteResponse(), nil
}

// samples returns every sample received, by series (name and labels as
// "name{a=b,...}"), in arrival order.
func (r *receiver) samples() map[string][]prompb.Sample {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string][]prompb.Sample{}
	for _, wr := range r.requests {
		for _, ts := range wr.Timeseries {
			out[seriesName(ts.Labels)] = append(out[seriesName(ts.Labels)], ts.Samples...)
		}
	}
	return out
}

func seriesName(labels []prompb.Label) string {
	var name string
	var rest []string
	for _, l := range labels {
		if l.Name == "__name__" {
			name = l.Value
		} else {
			rest = append(rest, l.Name+"="+l.Value)
		}
	}
	return name + "{" + strings.Join(rest, ",") + "}"
}

func (r *receiver) wait(t *testing.T, n int) {
	t.Helper()
	for range n {
		select {
		case <-r.got:
		case <-time.After(10 * time.Second):
			t.Fatalf("the receiver got fewer than %d requests", n)
		}
	}
}

const families = `# HELP gpuprice_gpu_usd_per_hour Price per GPU-hour.
# TYPE gpuprice_gpu_usd_per_hour gauge
gpuprice_gpu_usd_per_hour{provider="aws",instance_type="p5.48xlarge",region="us-east-1",zone="",gpu_model="H100",gpu_count="8"} 4.5
gpuprice_gpu_usd_per_hour{provider="vastai",instance_type="1x_H100",region="us",zone="",gpu_model="H100",gpu_count="1"} 1.9
# HELP gpuprice_market_gpu_usd_per_hour Offers.
# TYPE gpuprice_market_gpu_usd_per_hour summary
gpuprice_market_gpu_usd_per_hour{provider="vastai",gpu_model="H100",quantile="0.1"} 1.9
gpuprice_market_gpu_usd_per_hour{provider="vastai",gpu_model="H100",quantile="0.5"} 2.2
gpuprice_market_gpu_usd_per_hour_sum{provider="vastai",gpu_model="H100"} 6.3
gpuprice_market_gpu_usd_per_hour_count{provider="vastai",gpu_model="H100"} 3
# HELP gpuprice_collector_success 1 if the last refresh succeeded.
# TYPE gpuprice_collector_success gauge
gpuprice_collector_success{provider="aws"} 1
gpuprice_collector_success{provider="vastai"} 1
`

// clock is a settable clock.
type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time   { return time.Unix(0, c.ns.Load()) }
func (c *clock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }

var t0 = time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)

func target1(url string, edit func(*config.RemoteWrite)) []config.RemoteWrite {
	cfg, err := config.Load([]byte("remote_write:\n  - {url: \""+url+"\", name: test, send_interval: 50ms}\n"), "x.yml")
	if err != nil {
		panic(err)
	}
	if edit != nil {
		edit(&cfg.RemoteWrite[0])
	}
	return cfg.RemoteWrite
}

// start runs a Writer until the test ends.
func start(t *testing.T, cfgs []config.RemoteWrite, opts Options) *prometheus.Registry {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	opts.Backoff = remote.BackoffConfig{Min: time.Millisecond, Max: 5 * time.Millisecond, MaxRetries: 3}
	w, err := New(cfgs, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return reg
}

func TestLive(t *testing.T) {
	r, srv := newReceiver(t)
	var body atomic.Pointer[[]byte]
	b := []byte(families)
	body.Store(&b)
	clk := newClock(t0)
	reg := start(t, target1(srv.URL, nil), Options{Families: func() []byte { return *body.Load() }, Now: clk.now})
	r.wait(t, 1)

	got := r.samples()
	for name, want := range map[string]float64{
		"gpuprice_gpu_usd_per_hour{gpu_count=8,gpu_model=H100,instance_type=p5.48xlarge,provider=aws,region=us-east-1}": 4.5,
		"gpuprice_market_gpu_usd_per_hour{gpu_model=H100,provider=vastai,quantile=0.5}":                                 2.2,
		"gpuprice_market_gpu_usd_per_hour_count{gpu_model=H100,provider=vastai}":                                        3,
		"gpuprice_collector_success{provider=vastai}":                                                                   1,
	} {
		s := got[name]
		if len(s) == 0 || s[0].Value != want || s[0].Timestamp != t0.UnixMilli() {
			t.Errorf("%s: %v, want %g at %d", name, s, want, t0.UnixMilli())
		}
	}
	if len(got) != 8 {
		t.Errorf("%d series, want 8 (the summary as its quantiles, _sum and _count)", len(got))
	}

	// The vastai shape goes away: one stale marker, then nothing.
	next := []byte(strings.Replace(families,
		"gpuprice_gpu_usd_per_hour{provider=\"vastai\",instance_type=\"1x_H100\",region=\"us\",zone=\"\",gpu_model=\"H100\",gpu_count=\"1\"} 1.9\n", "", 1))
	body.Store(&next)
	clk.set(t0.Add(time.Minute))
	r.wait(t, 3)
	gone := r.samples()["gpuprice_gpu_usd_per_hour{gpu_count=1,gpu_model=H100,instance_type=1x_H100,provider=vastai,region=us}"]
	stale := 0
	for _, s := range gone {
		if value.IsStaleNaN(s.Value) {
			stale++
			if s.Timestamp != t0.Add(time.Minute).UnixMilli() {
				t.Errorf("stale marker at %d", s.Timestamp)
			}
		} else if math.IsNaN(s.Value) || s.Timestamp > t0.UnixMilli() {
			t.Errorf("a withdrawn series was sent again: %v", s)
		}
	}
	if stale != 1 {
		t.Errorf("%d stale markers, want 1: %v", stale, gone)
	}
	if v := metricValue(t, reg, "gpuprice_remote_write_samples_sent_total", "live"); v < 8 {
		t.Errorf("samples_sent_total{kind=live} = %g", v)
	}
}

func TestBatches(t *testing.T) {
	r, srv := newReceiver(t)
	b := []byte(families)
	start(t, target1(srv.URL, func(rw *config.RemoteWrite) { rw.Queue.MaxSamplesPerSend = 4 }),
		Options{Families: func() []byte { return b }, Now: newClock(t0).now})
	r.wait(t, 3)
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, wr := range r.requests[:3] {
		if n := len(wr.Timeseries); n > 4 || n == 0 {
			t.Errorf("request %d holds %d samples, want 1 to 4", i, n)
		}
	}
}

func TestRefusedAndRetried(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   func(n int, w http.ResponseWriter) int
		requests int // the server answers this many before the test checks
		rejected float64
		retries  float64
	}{
		{"400 is dropped, not retried", func(n int, w http.ResponseWriter) int { return http.StatusBadRequest }, 2, 8 * 2, 0},
		{"503 then success", func(n int, w http.ResponseWriter) int {
			if n == 0 {
				return http.StatusServiceUnavailable
			}
			return 0
		}, 2, 0, 1},
		{"429 with Retry-After", func(n int, w http.ResponseWriter) int {
			if n == 0 {
				w.Header().Set("Retry-After", "0")
				return http.StatusTooManyRequests
			}
			return 0
		}, 2, 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, srv := newReceiver(t)
			var calls atomic.Int64
			seen := make(chan struct{}, 100)
			r.answer = func(n int, w http.ResponseWriter) int {
				calls.Add(1)
				seen <- struct{}{}
				return tc.answer(n, w)
			}
			b := []byte(families)
			reg := start(t, target1(srv.URL, nil), Options{Families: func() []byte { return b }, Now: newClock(t0).now})
			for range tc.requests {
				select {
				case <-seen:
				case <-time.After(10 * time.Second):
					t.Fatal("too few requests")
				}
			}
			// The counters move right after the answers: wait for them.
			deadline := time.Now().Add(5 * time.Second)
			for {
				rej := metricValue(t, reg, "gpuprice_remote_write_samples_dropped_total", "rejected")
				ret := metricValue(t, reg, "gpuprice_remote_write_retries_total", "")
				if (rej >= tc.rejected && ret >= tc.retries) || time.Now().After(deadline) {
					if rej < tc.rejected || (tc.rejected == 0 && rej != 0) {
						t.Errorf("dropped{rejected} = %g, want %g", rej, tc.rejected)
					}
					if ret < tc.retries || (tc.retries == 0 && ret != 0) {
						t.Errorf("retries = %g, want %g", ret, tc.retries)
					}
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// metricValue returns the value of the metric name whose kind or reason
// label is label ("" for any).
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			match := label == ""
			for _, l := range m.GetLabel() {
				if (l.GetName() == "kind" || l.GetName() == "reason") && l.GetValue() == label {
					match = true
				}
			}
			if match {
				return m.GetCounter().GetValue() + m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s{%s}", name, label)
	return 0
}

// TestReplicas: in an HA group every replica sends, each sample labelled
// with its replica (replica_label) and the external labels, for the
// receiver to deduplicate.
func TestReplicas(t *testing.T) {
	r, srv := newReceiver(t)
	b := []byte(families)
	cfgs := target1(srv.URL, func(rw *config.RemoteWrite) {
		rw.ReplicaLabel, rw.ExternalLabels = "__replica__", map[string]string{"cluster": "gpuprice"}
	})
	for _, replica := range []string{"a", "b"} {
		start(t, cfgs, Options{Families: func() []byte { return b }, Now: newClock(t0).now, Replica: replica})
	}
	r.wait(t, 2)
	got := r.samples()
	for _, replica := range []string{"a", "b"} {
		name := "gpuprice_collector_success{__replica__=" + replica + ",cluster=gpuprice,provider=aws}"
		if len(got[name]) == 0 {
			t.Errorf("no %s among %d series", name, len(got))
		}
	}
}
