package remotewrite

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/value"
	"github.com/prometheus/prometheus/prompb"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

const (
	p5   = "gpuprice_gpu_usd_per_hour{geo=na,gpu_count=8,gpu_form=sxm,gpu_memory_gb=80,gpu_model=H100,instance_type=p5.48xlarge,pricing_model=spot,provider=aws,region=us-east-1,zone=us-east-1a}"
	p5i  = "gpuprice_instance_usd_per_hour{geo=na,gpu_count=8,gpu_form=sxm,gpu_memory_gb=80,gpu_model=H100,instance_type=p5.48xlarge,pricing_model=spot,provider=aws,region=us-east-1,zone=us-east-1a}"
	a100 = "gpuprice_gpu_usd_per_hour{geo=na,gpu_count=8,gpu_form=sxm,gpu_memory_gb=40,gpu_model=A100,instance_type=p4d.24xlarge,pricing_model=spot,provider=aws,region=us-east-1,zone=us-east-1a}"
)

// historyStore holds two AWS spot series: p5 with points 10 days, 2 days,
// 25 hours and 1 hour before t0; p4d from 2 days before t0, withdrawn 30
// minutes before it.
func historyStore(t *testing.T) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	quote := func(typ, model string, mem, usd float64, at time.Time) price.Quote {
		return price.Quote{Provider: "aws", InstanceType: typ, Region: "us-east-1", Zone: "us-east-1a", Geo: "na",
			PricingModel: price.Spot, GPUModel: model, GPUForm: "sxm", GPUMemoryGB: mem, GPUCount: 8,
			USDPerHour: usd, ObservedAt: at, EffectiveAt: at}
	}
	var quotes []price.Quote
	for _, p := range []struct {
		ago time.Duration
		usd float64
	}{{240 * time.Hour, 40}, {48 * time.Hour, 32}, {25 * time.Hour, 24}, {time.Hour, 16}} {
		quotes = append(quotes, quote("p5.48xlarge", "H100", 80, p.usd, t0.Add(-p.ago)))
	}
	quotes = append(quotes, quote("p4d.24xlarge", "A100", 40, 12, t0.Add(-48*time.Hour)))
	ctx := context.Background()
	if _, err := st.Backfill(ctx, quotes); err != nil {
		t.Fatal(err)
	}
	// A refresh without p4d withdraws it.
	last := quote("p5.48xlarge", "H100", 80, 16, t0.Add(-30*time.Minute))
	snap := &price.Snapshot{Provider: "aws", Time: last.ObservedAt, Quotes: []price.Quote{last}}
	if _, err := st.Record(ctx, store.Poll{Provider: "aws", Start: last.ObservedAt, OK: true, Quotes: 1}, snap); err != nil {
		t.Fatal(err)
	}
	return st
}

func withHistory(maxAge time.Duration) func(*config.RemoteWrite) {
	return func(rw *config.RemoteWrite) { rw.History.MaxAge = config.Duration(maxAge) }
}

func TestHistory(t *testing.T) {
	st := historyStore(t)
	r, srv := newReceiver(t)
	noLive := func() []byte { return nil }
	reg := start(t, target1(srv.URL, withHistory(72*time.Hour)), Options{Families: noLive, History: st, Now: newClock(t0).now})
	waitFor(t, "the watermark at t0", func() bool { w, _ := st.Watermark(context.Background(), "test"); return w.Equal(t0) })

	got := r.samples()
	want := map[string][]prompb.Sample{
		p5:   {{Value: 4, Timestamp: t0.Add(-48 * time.Hour).UnixMilli()}, {Value: 3, Timestamp: t0.Add(-25 * time.Hour).UnixMilli()}, {Value: 2, Timestamp: t0.Add(-time.Hour).UnixMilli()}},
		p5i:  {{Value: 32, Timestamp: t0.Add(-48 * time.Hour).UnixMilli()}, {Value: 24, Timestamp: t0.Add(-25 * time.Hour).UnixMilli()}, {Value: 16, Timestamp: t0.Add(-time.Hour).UnixMilli()}},
		a100: {{Value: 1.5, Timestamp: t0.Add(-48 * time.Hour).UnixMilli()}, {Value: staleNaN, Timestamp: t0.Add(-30 * time.Minute).UnixMilli()}},
	}
	for name, w := range want {
		g := got[name]
		if len(g) != len(w) {
			t.Errorf("%s: %v, want %v", name, g, w)
			continue
		}
		for i := range w {
			same := g[i].Value == w[i].Value || (value.IsStaleNaN(w[i].Value) && value.IsStaleNaN(g[i].Value))
			if !same || g[i].Timestamp != w[i].Timestamp {
				t.Errorf("%s[%d] = %v, want %v", name, i, g[i], w[i])
			}
		}
	}
	if n := len(got); n != 4 {
		t.Errorf("%d series, want 4 (two metrics of two series): %v", n, got)
	}
	if v := metricValue(t, reg, "gpuprice_remote_write_samples_dropped_total", "too_old"); v != 2 {
		t.Errorf("dropped{too_old} = %g, want 2 (the point 10 days back, both metrics)", v)
	}
	if v := metricValue(t, reg, "gpuprice_remote_write_samples_sent_total", "history"); v != 10 {
		t.Errorf("sent{history} = %g, want 10", v)
	}
}

// TestHistoryResumes: a second run sends only what is newer than the
// watermark.
func TestHistoryResumes(t *testing.T) {
	st := historyStore(t)
	if err := st.SetWatermark(context.Background(), "test", t0.Add(-26*time.Hour)); err != nil {
		t.Fatal(err)
	}
	r, srv := newReceiver(t)
	start(t, target1(srv.URL, withHistory(72*time.Hour)), Options{Families: func() []byte { return nil }, History: st, Now: newClock(t0).now})
	waitFor(t, "the watermark at t0", func() bool { w, _ := st.Watermark(context.Background(), "test"); return w.Equal(t0) })
	got := r.samples()
	if g := got[p5]; len(g) != 2 || g[0].Timestamp != t0.Add(-25*time.Hour).UnixMilli() {
		t.Errorf("p5 after the watermark: %v, want the points 25 h and 1 h back", g)
	}
	if g := got[a100]; len(g) != 1 || !value.IsStaleNaN(g[0].Value) {
		t.Errorf("p4d after the watermark: %v, want its withdrawal only", g)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
