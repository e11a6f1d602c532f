package static

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

const entries = `static_interval: 10m
static:
  - {provider: calculquebec, gpu_model: A100, gpu_memory_gb: 40, usd_per_hour: 0, region: ca-qc}
  - {provider: neocloud-contract, instance_type: h100-1y, gpu_model: H100, gpu_form: sxm, gpu_count: 8, usd_per_hour: 16, pricing_model: reserved_1y, geo: eu}
  - {provider: calculquebec, gpu_model: H100, gpu_form: sxm, usd_per_hour: 0.85, region: CA-QC, zone: Narval}
`

func build(t *testing.T) []collectors.Job {
	t.Helper()
	cfg, err := config.Load([]byte(entries), "static.yml")
	if err != nil {
		t.Fatal(err)
	}
	ps, err := collectors.Build(cfg, slog.New(slog.DiscardHandler), price.DefaultCatalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

// One collector per provider name, each with its own quotes; zero prices
// pass the Runner's checks.
func TestCollectThroughRunner(t *testing.T) {
	ps := build(t)
	if len(ps) != 2 || ps[0].Collector.Name() != "calculquebec" || ps[1].Collector.Name() != "neocloud-contract" {
		t.Fatalf("providers %v", names(ps))
	}
	if ps[0].Settings.Interval != 10*time.Minute || ps[0].Settings.StaleAfter != 30*time.Minute {
		t.Errorf("settings %+v", ps[0].Settings)
	}
	var got []price.Quote
	for _, p := range ps {
		snap, err := collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), p)
		if err != nil {
			t.Fatalf("%s: %v", p.Collector.Name(), err)
		}
		got = append(got, snap.Quotes...)
	}
	type row struct {
		provider, instance, region, zone, geo string
		model                                 price.PricingModel
		gpu                                   string
		mem, count, usd                       float64
	}
	want := []row{
		{"calculquebec", "1x_A100_40GB", "ca-qc", "", "na", price.Fixed, "A100", 40, 1, 0},
		{"calculquebec", "1x_H100_80GB", "ca-qc", "narval", "na", price.Fixed, "H100", 80, 1, 0.85},
		{"neocloud-contract", "h100-1y", "", "", "eu", price.Reserved1y, "H100", 80, 8, 16},
	}
	if len(got) != len(want) {
		t.Fatalf("%d quotes, want %d: %+v", len(got), len(want), got)
	}
	for i, q := range got {
		r := row{q.Provider, q.InstanceType, q.Region, q.Zone, q.Geo, q.PricingModel, q.GPUModel, q.GPUMemoryGB, q.GPUCount, q.USDPerHour}
		if r != want[i] {
			t.Errorf("quote %d\n got %+v\nwant %+v", i, r, want[i])
		}
	}
}

// The Runner and the store accept them as they are: each provider is
// recorded, with its zero price, under its own name.
func TestRecordedPerProvider(t *testing.T) {
	st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	r := collectors.NewRunner(slog.New(slog.DiscardHandler), st, nil)
	r.Apply(build(t))
	deadline := time.Now().Add(5 * time.Second)
	for !r.Ready() {
		if time.Now().After(deadline) {
			t.Fatal("no first refresh")
		}
		time.Sleep(5 * time.Millisecond)
	}
	r.Stop()
	for _, s := range r.States() {
		t.Errorf("%s still running after Stop", s.Provider)
	}
	snaps, err := st.LastKnown(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, s := range snaps {
		count[s.Provider] = len(s.Quotes)
	}
	if count["calculquebec"] != 2 || count["neocloud-contract"] != 1 || len(count) != 2 {
		t.Errorf("stored quotes per provider %v", count)
	}
}

func names(ps []collectors.Job) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Collector.Name())
	}
	return out
}
