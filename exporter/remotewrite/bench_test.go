package remotewrite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/exp/api/remote"
	dto "github.com/prometheus/client_model/go"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/aws"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// discard is a receiver that decodes nothing: the benchmarks measure the
// sender.
func discard(b *testing.B) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(srv.Close)
	return srv.URL
}

// syntheticFamilies is a gpuprice_gpu_usd_per_hour family of n series
// labelled as the exporter labels them.
func syntheticFamilies(n int) []byte {
	var s strings.Builder
	s.WriteString("# TYPE gpuprice_gpu_usd_per_hour gauge\n")
	for i := range n {
		fmt.Fprintf(&s, "gpuprice_gpu_usd_per_hour{provider=\"azure\",instance_type=\"Standard_ND%d\",region=\"r%d\",zone=\"\",geo=\"na\","+
			"pricing_model=\"on_demand\",gpu_model=\"H100\",gpu_form=\"sxm\",gpu_memory_gb=\"80\",gpu_count=\"8\"} %g\n", i, i%60, 1+float64(i)/1e5)
	}
	return []byte(s.String())
}

// BenchmarkLive100k is one live round of 100k series: the families read
// once (as after a render), then sent in requests of 2000 samples. It
// reports the samples sent per second and the heap the round holds
// (queue-MB: the parsed series, kept between renders).
func BenchmarkLive100k(b *testing.B) {
	const n = 100_000
	text := syntheticFamilies(n)
	cfgs := target1(discard(b), nil)
	w, err := New(cfgs, Options{Families: func() []byte { return text }})
	if err != nil {
		b.Fatal(err)
	}
	t := w.targets[0]
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	series, err := parseFamilies(text)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	queueMB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)
	b.ResetTimer()
	start := time.Now()
	for b.Loop() {
		for i := range series {
			series[i].Samples[0].Timestamp = time.Now().UnixMilli()
		}
		if err := t.send(context.Background(), "live", series); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(n*b.N)/time.Since(start).Seconds(), "samples/s")
	b.ReportMetric(queueMB, "queue-MB")
	runtime.KeepAlive(series)
}

// BenchmarkParse100k reads 100k series of families, as each render makes
// the live round do once.
func BenchmarkParse100k(b *testing.B) {
	text := syntheticFamilies(100_000)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseFamilies(text); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkHistoryAWSBackfill sends the history of a 90-day AWS spot
// backfill: the AWS collector against its fake (three regions, spot
// prices changing 12 times a day per type and zone) backfills a store
// once; each iteration is then one history pass to a receiver that
// discards, from a fresh watermark. It reports samples sent per second.
func BenchmarkHistoryAWSBackfill(b *testing.B) {
	now := time.Now().Truncate(time.Hour)
	fake := httptest.NewServer(fakecloud.NewAWS(fakecloud.AWSOptions{Now: func() time.Time { return now }, ChangesPerDay: 12,
		Regions: []string{"us-east-1", "us-west-2", "eu-west-1"}}))
	b.Cleanup(fake.Close)
	cfg := config.Default()
	for _, name := range cfg.Providers.Names() {
		cfg.Providers[name].Shared().Enabled = name == aws.Name
	}
	a := cfg.Providers[aws.Name].(*aws.Config)
	a.EC2Endpoint, a.PricingEndpoint, a.Endpoint = fake.URL, fake.URL, fake.URL+fakecloud.AWSOfferPath
	a.AccessKeyID, a.SecretAccessKey = "AKIDBENCH", "bench"
	a.Regions = []string{"us-east-1", "us-west-2", "eu-west-1"}
	a.OnDemandSource = aws.OnDemandBulk
	a.Timeout = config.Duration(10 * time.Minute)
	st, err := sqlite.Open(b.TempDir(), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	jobs, err := collectors.Build(cfg, slog.New(slog.DiscardHandler), price.DefaultCatalog(), st)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := jobs[0].Collector.Collect(context.Background()); err != nil {
		b.Fatal(err)
	}
	cfgs := target1(discard(b), func(rw *config.RemoteWrite) { rw.History.MaxAge = config.Duration(91 * 24 * time.Hour) })
	b.ResetTimer()
	var samples float64
	start := time.Now()
	for i := 0; b.Loop(); i++ {
		cfgs[0].Name = fmt.Sprint("bench-", i) // a fresh watermark
		w, err := New(cfgs, Options{History: st, Now: func() time.Time { return now }, Backoff: remote.BackoffConfig{MaxRetries: 1}})
		if err != nil {
			b.Fatal(err)
		}
		tg := w.targets[0]
		if err := tg.historyPass(context.Background()); err != nil {
			b.Fatal(err)
		}
		samples += metricOf(tg.m.sent.WithLabelValues("history"))
	}
	b.ReportMetric(samples/time.Since(start).Seconds(), "samples/s")
	b.ReportMetric(samples/float64(b.N), "samples/pass")
}

func metricOf(c interface{ Write(*dto.Metric) error }) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
