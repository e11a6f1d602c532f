package owned

import (
	"context"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// The query the nounits fixture was written with (its seven columns).
const fixtureQuery = "index,uuid,name,memory.total,power.draw,power.limit,utilization.gpu"

const fixtureUUID = "GPU-15eaac1e-c3ac-f04d-57f3-9ac0dc3bb406"

func parseFile(t *testing.T, name, query string) ([]Sample, error) {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return ParseCSV(f, query)
}

// The two CSV forms of real H200 output (driver 580.159.04).
func TestParseCSVFixtures(t *testing.T) {
	for _, tc := range []struct {
		name, file, query string
		watts             float64
	}{
		{"header and units", "query-gpu.csv", "", 122.42},
		{"header and units, query ignored", "query-gpu.csv", "uuid,name,power.draw", 122.42},
		{"noheader,nounits with the query", "query-gpu-nounits.csv", fixtureQuery, 121.66},
		{"query with spaces", "query-gpu-nounits.csv", "index, uuid, name, memory.total, power.draw, power.limit, utilization.gpu", 121.66},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseFile(t, tc.file, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			want := Sample{ID: fixtureUUID, Name: "NVIDIA H200", MemoryTotalMiB: 143771, PowerDrawW: tc.watts}
			if len(got) != 1 || got[0] != want {
				t.Errorf("samples %+v, want [%+v]", got, want)
			}
		})
	}
}

func TestParseCSVErrors(t *testing.T) {
	for _, tc := range []struct{ name, file, text, query, want string }{
		{name: "noheader without the query", file: "query-gpu-nounits.csv",
			want: "line 1: the output has no header: give nvidia_smi_query, the --query-gpu list it was written with"},
		{name: "table output", file: "nvidia-smi.txt",
			want: "this is nvidia-smi's table or XML output; write the file with nvidia-smi --query-gpu=uuid,name,memory.total,power.draw --format=csv"},
		{name: "XML output", text: "<?xml version=\"1.0\" ?>\n<!DOCTYPE nvidia_smi_log SYSTEM \"nvsmi_device_v12.dtd\">\n<nvidia_smi_log>\n</nvidia_smi_log>\n",
			want: "this is nvidia-smi's table or XML output; write the file with nvidia-smi --query-gpu=uuid,name,memory.total,power.draw --format=csv"},
		{name: "query shorter than the rows", file: "query-gpu-nounits.csv", query: "index,uuid,name,memory.total,power.draw",
			want: "line 1: 7 fields, want 5 (as in the header or query)"},
		{name: "no power field", text: "uuid, name, memory.total [MiB]\nGPU-1, NVIDIA H200, 143771 MiB\n",
			want: "line 1: header: no power.draw field (query at least uuid,name,memory.total,power.draw)"},
		{name: "no id field", text: "name, power.draw [W]\nNVIDIA H200, 100 W\n",
			want: "line 1: header: no uuid or index field: GPUs cannot be told apart across samples"},
		{name: "bad number", text: "uuid, name, power.draw [W]\nGPU-1, NVIDIA H200, lots W\n",
			want: `line 2: power.draw: "lots" is not a number of W`},
		{name: "empty", text: "uuid, name, power.draw [W]\n", want: "no GPU rows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.file != "" {
				_, err = parseFile(t, tc.file, tc.query)
			} else {
				_, err = ParseCSV(strings.NewReader(tc.text), tc.query)
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
}

// smiLog is `nvidia-smi -l` style output of a mixed host: two H200s sampled
// twice (the header repeated between samples), an L4, and a reading the
// driver could not give.
const smiLog = `uuid, name, memory.total [MiB], power.draw [W]
GPU-a, NVIDIA H200, 143771 MiB, 100.00 W
GPU-b, NVIDIA H200, 143771 MiB, 300.00 W
GPU-c, NVIDIA L4, 23034 MiB, 30.00 W
uuid, name, memory.total [MiB], power.draw [W]
GPU-a, NVIDIA H200, 143771 MiB, 500.00 W
GPU-b, NVIDIA H200, 143771 MiB, [N/A]
GPU-b, NVIDIA H200, 143771 MiB, 700.00 W
`

func TestMeasure(t *testing.T) {
	cat := price.DefaultCatalog()
	samples, err := ParseCSV(strings.NewReader(smiLog), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name      string
		statistic string
		want      float64
	}{
		// H200 readings: 100, 300, 500, 700 (the N/A is skipped).
		{"mean", PowerMean, 400},     // 1600 / 4
		{"median", PowerMedian, 400}, // (300 + 500) / 2
		{"max", PowerMax, 700},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Measure(samples, cat, "H200", tc.statistic)
			if err != nil {
				t.Fatal(err)
			}
			want := Measurement{Raw: "NVIDIA H200", GPUs: 2, Samples: 4, WattsPerGPU: tc.want, Statistic: tc.statistic,
				MemoryGB: 141, Form: "sxm", Skipped: 2}
			if m != want {
				t.Errorf("got  %+v\nwant %+v", m, want)
			}
		})
	}
	t.Run("the L4 of the same file", func(t *testing.T) {
		m, err := Measure(samples, cat, "L4", PowerMean)
		if err != nil || m.GPUs != 1 || m.WattsPerGPU != 30 || m.MemoryGB != 24 {
			t.Errorf("got %+v, %v", m, err)
		}
	})
	t.Run("a model the file does not have", func(t *testing.T) {
		_, err := Measure(samples, cat, "A100", PowerMean)
		want := "no A100 GPU in the file (it lists NVIDIA H200, NVIDIA L4; names are mapped through the catalog's nvidia-smi table)"
		if err == nil || err.Error() != want {
			t.Errorf("error %v\nwant %s", err, want)
		}
	})
	t.Run("the real fixture", func(t *testing.T) {
		s, err := parseFile(t, "query-gpu.csv", "")
		if err != nil {
			t.Fatal(err)
		}
		m, err := Measure(s, cat, "H200", PowerMean)
		if err != nil || m.GPUs != 1 || m.WattsPerGPU != 122.42 || m.MemoryGB != 141 {
			t.Errorf("got %+v, %v", m, err)
		}
	})
}

func ptr(v float64) *float64 { return &v }

// near compares computed costs with hand-computed ones.
func near(got, want float64) bool {
	return math.Abs(got-want) <= 1e-12*math.Max(1, math.Abs(want))
}

// loadOwned loads owned: entries through config, as the daemon does.
func loadOwned(t *testing.T, yaml string) *config.Config {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"query-gpu.csv", "query-gpu-nounits.csv"} {
		b, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "gpuprice.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Amortization by hand. 3y = 26280 h, 4y = 35040 h.
func TestCompute(t *testing.T) {
	for _, tc := range []struct {
		name                         string
		entry                        string
		capital, maint, power, amort float64
		count                        float64
		purchase                     float64
		purchaseSource, countSource  string
	}{
		{
			name:  "DESIGN example: 8 A100, 120k, 3y, 6.5 kW at 0.12, 70%",
			entry: "{name: lab-a100, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, purchase_usd: 120000, amortization: 3y, power_watts: 6500, usd_per_kwh: 0.12, utilization: 0.7}",
			// 120000 / 8 / 26280; 6500 / 1000 / 8 × 0.12
			capital: 15000.0 / 26280, power: 0.0975, amort: (15000.0/26280 + 0.0975) / 0.7,
			count: 8, purchase: 120000, purchaseSource: "config", countSource: "config",
		},
		{
			name:  "catalog price, maintenance and PUE: 8 H100, 4y, 10.2 kW × 1.5 at 0.10, 12k/y, 50%",
			entry: "{name: h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, amortization: 4y, power_watts: 10200, pue: 1.5, usd_per_kwh: 0.1, maintenance_usd_per_year: 12000, utilization: 0.5}",
			// 30000 × 8 / 8 / 35040; 12000 / 8 / 8760; 10200 / 1000 / 8 × 1.5 × 0.1
			capital: 30000.0 / 35040, maint: 1500.0 / 8760, power: 0.19125,
			amort: (30000.0/35040 + 1500.0/8760 + 0.19125) / 0.5,
			count: 8, purchase: 240000, countSource: "config",
			purchaseSource: "catalog: 30000 × 8 GPUs (aiinframap.com/tools/chips/h100-vs-h200-vs-b200-tco, mid-2026 street estimate)",
		},
		{
			name:  "measured: the real H200 fixture, counted, mean 122.42 W at 0.10",
			entry: "{name: h200, gpu_model: H200, nvidia_smi_file: query-gpu.csv, usd_per_kwh: 0.1, utilization: 1}",
			// 35000 / 1 / 26280; 122.42 / 1000 × 0.1
			capital: 35000.0 / 26280, power: 0.012242, amort: 35000.0/26280 + 0.012242,
			count: 1, purchase: 35000, countSource: "nvidia-smi",
			purchaseSource: "catalog: 35000 × 1 GPUs (aiinframap.com/tools/chips/h100-vs-h200-vs-b200-tco, mid-2026 street estimate)",
		},
		{
			name:  "measured without header, 4 GPUs configured, host watts",
			entry: "{name: h200, gpu_model: H200, gpu_count: 4, purchase_usd: 100000, nvidia_smi_file: query-gpu-nounits.csv, nvidia_smi_query: '" + fixtureQuery + "', host_watts: 513.36, usd_per_kwh: 0.2, utilization: 0.8}",
			// 100000 / 4 / 26280; (121.66 × 4 + 513.36) / 1000 / 4 × 0.2 = 1 / 4 × 0.2
			capital: 25000.0 / 26280, power: 0.05, amort: (25000.0/26280 + 0.05) / 0.8,
			count: 4, purchase: 100000, purchaseSource: "config", countSource: "config",
		},
		{
			name:  "donated, unpowered: free",
			entry: "{name: gift, gpu_model: V100, gpu_form: sxm, gpu_memory_gb: 32, gpu_count: 4, purchase_usd: 0, utilization: 0.3}",
			count: 4, purchaseSource: "config", countSource: "config",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := loadOwned(t, "owned:\n  - "+tc.entry+"\n")
			c, err := Compute(&Of(cfg).Entries[0], price.DefaultCatalog())
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				what      string
				got, want float64
			}{
				{"capital", c.CapitalUSDPerGPUHour, tc.capital},
				{"maintenance", c.MaintenanceUSDPerGPUHour, tc.maint},
				{"power", c.PowerUSDPerGPUHour, tc.power},
				{"amortized", c.AmortizedUSDPerGPUHour(), tc.amort},
				{"gpu_count", c.GPUCount, tc.count},
				{"purchase_usd", c.PurchaseUSD, tc.purchase},
			} {
				if !near(f.got, f.want) {
					t.Errorf("%s = %.15g, want %.15g", f.what, f.got, f.want)
				}
			}
			if c.PurchaseSource != tc.purchaseSource || c.GPUCountSource != tc.countSource {
				t.Errorf("sources: purchase %q, count %q; want %q, %q", c.PurchaseSource, c.GPUCountSource, tc.purchaseSource, tc.countSource)
			}
		})
	}
}

// The collector, as the daemon builds it from the configuration, through
// the Runner's checks: a zero price is accepted.
func TestCollectThroughRunner(t *testing.T) {
	cfg := loadOwned(t, `owned:
  - {name: lab-a100, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, purchase_usd: 120000, power_watts: 6500, usd_per_kwh: 0.12, utilization: 0.7, region: CA-QC}
  - {name: rack-h200, gpu_model: H200, nvidia_smi_file: query-gpu.csv, usd_per_kwh: 0.1, utilization: 1, geo: eu}
  - {name: gift, gpu_model: V100, gpu_form: sxm, gpu_memory_gb: 32, gpu_count: 4, purchase_usd: 0, utilization: 0.3}
`)
	// No provider package is linked into this test: only owned is built.
	ps, err := collectors.Build(cfg, slog.New(slog.DiscardHandler), price.DefaultCatalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var p *collectors.Job
	for i := range ps {
		if ps[i].Collector.Name() == Name {
			p = &ps[i]
		}
	}
	if p == nil {
		t.Fatalf("Build made no owned collector: %d providers", len(ps))
	}
	if p.Settings.Interval.String() != "1h0m0s" || p.Settings.StaleAfter.String() != "3h0m0s" {
		t.Errorf("settings %+v", p.Settings)
	}
	snap, err := collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), *p)
	if err != nil {
		t.Fatal(err)
	}
	if len(snap.Quotes) != 3 {
		t.Fatalf("%d quotes, want 3: %+v", len(snap.Quotes), snap.Quotes)
	}
	for _, tc := range []struct {
		q                     price.Quote
		instance, region, geo string
		model                 string
		mem, count, perGPU    float64
	}{
		{snap.Quotes[0], "lab-a100", "ca-qc", "na", "A100", 80, 8, (15000.0/26280 + 0.0975) / 0.7},
		{snap.Quotes[1], "rack-h200", "", "eu", "H200", 141, 1, 35000.0/26280 + 0.012242},
		{snap.Quotes[2], "gift", "", "", "V100", 32, 4, 0},
	} {
		q := tc.q
		if q.Provider != "owned" || q.PricingModel != price.Amortized || q.InstanceType != tc.instance ||
			q.Region != tc.region || q.Geo != tc.geo || q.GPUModel != tc.model || q.GPUMemoryGB != tc.mem || q.GPUCount != tc.count {
			t.Errorf("quote labels %+v", q)
		}
		if !near(q.GPUUSDPerHour(), tc.perGPU) || !near(q.USDPerHour, tc.perGPU*tc.count) {
			t.Errorf("%s: %.15g per GPU-hour (%.15g per hour), want %.15g", q.InstanceType, q.GPUUSDPerHour(), q.USDPerHour, tc.perGPU)
		}
	}

	// The measured file goes away: the refresh fails, naming the entry.
	if err := os.Remove(Of(cfg).Entries[1].NvidiaSMIFile); err != nil {
		t.Fatal(err)
	}
	_, err = collectors.RefreshOnce(context.Background(), slog.New(slog.DiscardHandler), *p)
	if err == nil || !strings.HasPrefix(err.Error(), "owned entry rack-h200: open ") {
		t.Errorf("error %v, want the entry's open error", err)
	}
}

func TestNoEntriesNoCollector(t *testing.T) {
	ps, err := collectors.Build(config.Builtin(), slog.New(slog.DiscardHandler), price.DefaultCatalog(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		if p.Collector.Name() == Name {
			t.Error("an owned collector without owned entries")
		}
	}
}
