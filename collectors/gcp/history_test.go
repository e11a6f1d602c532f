package gcp

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// TestHistory runs the collector under the Runner with the SQLite store, as
// `gpuprice serve` does: the fake's prices move between the first and the
// second refresh and stay for the third, so every series gets its first
// point, then one change point, and nothing more.
func TestHistory(t *testing.T) {
	var walks atomic.Int64
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{MaxPageSize: 100, Drift: fakecloud.Drift{
		Tick: time.Hour,
		Now:  func() time.Time { return time.Unix(0, 0).Add(time.Duration(min(walks.Load(), 2)) * time.Hour) },
	}})
	url := collectortest.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/") && r.URL.Query().Get("pageToken") == "" {
			walks.Add(1) // a walk's first page: the fake's clock ticks
		}
		fake.ServeHTTP(w, r)
	}))
	c := newCollector(t, url, setup{key: fakecloud.GCPDemoKey})

	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	runner := collectors.NewRunner(slog.New(slog.DiscardHandler), st, nil)
	runner.Apply([]collectors.Job{{Collector: c, Settings: collectors.Settings{
		Interval: 50 * time.Millisecond, Timeout: 10 * time.Second, StaleAfter: time.Hour, MaxGPUUSDPerHour: 200,
	}}})
	ctx := context.Background()
	deadline := time.Now().Add(30 * time.Second)
	var polls []store.Poll
	for len(polls) < 3 {
		if time.Now().After(deadline) {
			t.Fatalf("%d refreshes logged, want 3", len(polls))
		}
		time.Sleep(20 * time.Millisecond)
		if polls, err = st.Polls(ctx, Name, time.Time{}, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	runner.Stop()
	if got := runner.States(); len(got) != 0 {
		t.Errorf("%d providers still running", len(got))
	}

	quotes := len(wantSeries())
	polls, _ = st.Polls(ctx, Name, time.Time{}, time.Time{})
	for i, p := range polls {
		if !p.OK || p.Quotes != quotes {
			t.Errorf("refresh %d: ok %v, %d quotes (%s); want %d", i, p.OK, p.Quotes, p.Error, quotes)
		}
	}

	series, err := st.History(ctx, store.Query{Provider: Name})
	if err != nil {
		t.Fatal(err)
	}
	if len(series) != quotes {
		t.Errorf("%d series stored, want %d", len(series), quotes)
	}
	changed := 0
	for _, s := range series {
		n := len(s.Points)
		if n < 1 || n > 2 || s.Points[n-1].Withdrawn {
			t.Errorf("%s: points %+v, want a first point and at most one change", s.Labels.Key(), s.Points)
		}
		if n == 2 {
			changed++
		}
	}
	// Drift rounds to 1e-4 USD, so a few cheap per-GPU series may not move.
	if changed < quotes*9/10 {
		t.Errorf("%d of %d series changed, want nearly all", changed, quotes)
	}

	a3, err := st.History(ctx, store.Query{Provider: Name, InstanceType: "a3-highgpu-8g", Region: "us-central1", PricingModel: price.OnDemand})
	if err != nil {
		t.Fatal(err)
	}
	if len(a3) != 1 || len(a3[0].Points) != 2 || a3[0].Points[0].USDPerHour == a3[0].Points[1].USDPerHour {
		t.Fatalf("a3-highgpu-8g us-central1 on demand: %+v, want two different points", a3)
	}
	if l := a3[0].Labels; l.GPUModel != "H100" || l.GPUCount != 8 || l.Geo != "na" || l.GPURaw != "nvidia-h100-80gb" {
		t.Errorf("stored labels %+v", l)
	}

	// After a restart, the last known prices come back from the store.
	last, err := st.LastKnown(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 1 || last[0].Provider != Name || len(last[0].Quotes) != quotes {
		t.Errorf("last known: %d snapshots, want gcp's %d quotes", len(last), quotes)
	}
}

// TestUnknownCounted checks that the Runner counts the unknown GPU's
// quotes (and logs the raw name once).
func TestUnknownCounted(t *testing.T) {
	c := newCollector(t, collectortest.Serve(t, fakecloud.NewGCP(fakecloud.GCPOptions{})), setup{key: fakecloud.GCPDemoKey})
	var logs strings.Builder
	runner := collectors.NewRunner(slog.New(slog.NewTextHandler(&logs, nil)), nil, nil)
	runner.Apply([]collectors.Job{{Collector: c, Settings: collectors.Settings{
		Interval: time.Hour, Timeout: 10 * time.Second, StaleAfter: 3 * time.Hour, MaxGPUUSDPerHour: 200,
	}}})
	defer runner.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for !runner.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("no refresh")
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := runner.States()[0]
	// nvidia-r200: four Americas regions, on demand and spot.
	if !st.Success || st.UnknownGPUs != 8 {
		t.Errorf("success %v, %d unknown-GPU quotes (%s); want 8", st.Success, st.UnknownGPUs, st.LastError)
	}
	if n := strings.Count(logs.String(), "raw=nvidia-r200"); n != 1 {
		t.Errorf("the unknown GPU was logged %d times, want once:\n%s", n, logs.String())
	}
}

// BenchmarkCollect walks a catalog of the real one's size (some 40,000
// SKUs, nine pages of 5,000) and builds the quotes. Its per-row figures
// are per SKU.
//
//	go test -run '^$' -bench 'Collect$' -benchtime 3x ./collectors/gcp/
func BenchmarkCollect(b *testing.B) {
	fake := fakecloud.NewGCP(fakecloud.GCPOptions{Filler: 40000})
	c := newCollector(b, collectortest.Serve(b, fake), setup{key: fakecloud.GCPDemoKey, client: collectors.NewHTTPClient(collectors.HTTPOptions{})})
	collectortest.PerRow(b, fake.Len(), func() {
		snap, err := c.Collect(context.Background())
		if err != nil || len(snap.Quotes) == 0 {
			b.Fatal(err)
		}
	})
}
