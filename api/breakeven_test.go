package api

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/planner"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// breakevenEnd ends the test window; the history is backfilled (no poll
// log), so each price holds until its series' next point.
var breakevenEnd = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)

// newBreakevenServer serves a store holding two H100 on_demand series:
// azure at 3.0 per GPU-hour all along, vastai at 2.0 until 6 hours into
// the 10-hour window, then 3.5. Sampled hourly (11 samples) the cheapest
// is 2.0 six times, then 3.0 five times: median 2, mean 27/11, last 3.
func newBreakevenServer(t *testing.T, withStore bool) *httptest.Server {
	t.Helper()
	cfg, err := config.Load([]byte(`owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, purchase_usd: 240000, amortization: 4y,
     power_watts: 10200, pue: 1.5, usd_per_kwh: 0.1, maintenance_usd_per_year: 12000, utilization: 0.5}
static:
  - {provider: calculquebec, gpu_model: H100, usd_per_hour: 0, max_gpu_hours_per_month: 1000}
`), "api.yml")
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Config: func() *config.Config { return cfg }}
	if withStore {
		st, err := sqlite.Open(t.TempDir(), sqlite.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		start := breakevenEnd.Add(-10 * time.Hour)
		q := func(provider, instance, region string, usd float64, at time.Duration) price.Quote {
			return price.Quote{Provider: provider, InstanceType: instance, Region: region, PricingModel: price.OnDemand,
				GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8, USDPerHour: usd, EffectiveAt: start.Add(at)}
		}
		if _, err := st.Backfill(context.Background(), []price.Quote{
			q("azure", "Standard_ND96isr_H100_v5", "eastus", 24, -5*time.Hour),
			q("vastai", "8x_H100_SXM_80GB", "us", 16, -time.Hour),
			q("vastai", "8x_H100_SXM_80GB", "us", 28, 6*time.Hour),
		}); err != nil {
			t.Fatal(err)
		}
		opts.Store = st
	}
	mux := http.NewServeMux()
	New(opts).Register(mux)
	ts := httptest.NewServer(mux)
	t.Cleanup(ts.Close)
	return ts
}

func getBreakeven(t *testing.T, ts *httptest.Server, query string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(ts.URL + "/api/v1/breakeven?" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, body
}

func TestBreakeven(t *testing.T) {
	ts := newBreakevenServer(t, true)
	window := "&window=10h&step=1h&end=" + url.QueryEscape(breakevenEnd.Format(time.RFC3339))
	code, body := getBreakeven(t, ts, "gpu_model=h100&gpu_hours=1460&months=12"+window)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	var answer struct{ Data planner.Plan }
	if err := json.Unmarshal(body, &answer); err != nil {
		t.Fatal(err)
	}
	p := answer.Data
	near := func(v *float64, want float64) bool { return v != nil && math.Abs(*v-want) < 1e-9*math.Max(1, want) }
	od, spot := p.Prices[0], p.Prices[1]
	if !near(od.GPUUSDPerHour, 2) || !near(od.Mean, 27.0/11) || !near(od.Last, 3) || od.Series != 2 ||
		len(od.Cheapest) != 2 || od.Cheapest[0].Provider != "vastai" || od.Cheapest[0].Samples != 6 {
		t.Errorf("on_demand %+v", od)
	}
	if spot.GPUUSDPerHour != nil || spot.Missing != "no spot series of H100 in the store" {
		t.Errorf("spot %+v", spot)
	}
	// c = 240000/8/35040 + 12000/8/8760 + 10200/1000/8 × 1.5 × 0.1 per GPU
	// and wall-clock hour; 1460 GPU-hours a month is 2 GPUs busy all the
	// time.
	c := 30000.0/35040 + 1500.0/8760 + 0.19125
	want := map[string]float64{
		"rent on_demand":                   1460 * 2,
		"own lab-h100":                     1460 * c,
		"static calculquebec/1x_H100_80GB": 460 * 2, // 1000 free GPU-hours, 460 on demand
	}
	for _, o := range p.Options {
		w, ok := want[o.Name]
		if !ok {
			if o.Name != "rent spot" || o.USDPerMonth != nil {
				t.Errorf("unexpected option %+v", o)
			}
			continue
		}
		if !near(o.USDPerMonth, w) || !near(o.USDTotal, 12*w) {
			t.Errorf("%s: %v a month, want %v", o.Name, *o.USDPerMonth, w)
		}
		delete(want, o.Name)
	}
	if len(want) != 0 {
		t.Errorf("options missing: %v", want)
	}
	if p.Cheapest != "static calculquebec/1x_H100_80GB" {
		t.Errorf("cheapest %q", p.Cheapest)
	}
	if len(p.BreakEven) != 1 || !near(p.BreakEven[0].Utilization, c/2) || !p.BreakEven[0].Buy {
		t.Errorf("break-even %+v", p.BreakEven)
	}
	if p.Request.GPUModel != "H100" || p.Request.Stat != "median" || p.Request.Months != 12 {
		t.Errorf("request echoed as %+v", p.Request)
	}
}

func TestBreakevenErrors(t *testing.T) {
	ts := newBreakevenServer(t, true)
	for _, tc := range []struct {
		name, query string
		code        int
		want        string
	}{
		{"no model", "gpu_hours=10", 400, `bad parameter "gpu_model": required (a catalog model such as H100, A100, MI300X)`},
		{"unknown model", "gpu_model=H10&gpu_hours=1", 400,
			`bad parameter "gpu_model": "H10" is not a GPU model of the catalog; close matches: H100, H100NVL, A10, A100, A10G (every model: /api/v1/gpus)`},
		{"no workload", "gpu_model=H100", 400, `bad parameter "gpu_hours": required: GPU-hours per month (or a profile: baseline_gpus, peak_gpus, peak_hours)`},
		{"not a number", "gpu_model=H100&gpu_hours=lots", 400, `bad parameter "gpu_hours": "lots" is not a number`},
		{"gpu_hours beyond any workload", "gpu_model=H100&gpu_hours=1e308", 400,
			`bad parameter "gpu_hours": 1e+308 is out of range: allowed (0, 1000000000] GPU-hours per month`},
		{"gpu_hours beyond float64", "gpu_model=H100&gpu_hours=1e400", 400,
			`bad parameter "gpu_hours": +Inf is out of range: allowed (0, 1000000000] GPU-hours per month`},
		{"peak_gpus huge", "gpu_model=H100&peak_gpus=1e300&peak_hours=10", 400,
			`bad parameter "peak_gpus": 1e+300 is out of range: allowed whole numbers of GPUs in [0, 1000000]`},
		{"months huge", "gpu_model=H100&gpu_hours=1&months=1000000", 400, `bad parameter "months": 1000000 is out of range: allowed [1, 600]`},
		{"window beyond a century", "gpu_model=H100&gpu_hours=1&window=200y", 400,
			`bad parameter "window": 200y is out of range: allowed (0, 100y]`},
		{"bad window", "gpu_model=H100&gpu_hours=1&window=a+month", 400, `bad parameter "window": "a month" is not a positive duration (like 30d or 1h)`},
		{"bad stat", "gpu_model=H100&gpu_hours=1&stat=p99", 400, `bad parameter "stat": "p99" is not one of median, p10, mean, min, last`},
		{"unknown parameter", "gpu_model=H100&gpu_hours=1&provider=aws", 400,
			`unknown parameter "provider"; this endpoint takes gpu_model, gpu_memory_gb, gpu_form, geo, gpu_hours, baseline_gpus, peak_gpus, peak_hours, months, stat, window, step, end`},
		{"too many samples", "gpu_model=H100&gpu_hours=1&window=400d&step=1s", 400, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := getBreakeven(t, ts, tc.query)
			var e struct{ Error string }
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("%s: %v", body, err)
			}
			if code != tc.code || (tc.want != "" && e.Error != tc.want) || e.Error == "" {
				t.Errorf("%d %q\nwant %d %q", code, e.Error, tc.code, tc.want)
			}
		})
	}
	t.Run("no store", func(t *testing.T) {
		code, body := getBreakeven(t, newBreakevenServer(t, false), "gpu_model=H100&gpu_hours=1")
		if code != http.StatusServiceUnavailable {
			t.Errorf("%d %s", code, body)
		}
	})
}

// TestBreakevenAtTheLimits: the largest workload and horizon every range
// allows still give finite numbers, so the answer encodes.
func TestBreakevenAtTheLimits(t *testing.T) {
	ts := newBreakevenServer(t, true)
	for _, q := range []string{
		"gpu_model=H100&gpu_hours=1000000000&months=600",
		"gpu_model=H100&baseline_gpus=1000000&peak_gpus=1000000&peak_hours=730&months=600",
		"gpu_model=H100&gpu_hours=0.000001&months=1&window=100y&step=100y",
	} {
		code, body := getBreakeven(t, ts, q)
		var answer struct{ Data map[string]any }
		if err := json.Unmarshal(body, &answer); code != http.StatusOK || err != nil || answer.Data == nil {
			t.Errorf("%s: %d %v %.300s", q, code, err, body)
		}
	}
}

// TestUnencodableAnswer: a value JSON cannot carry is a logged 500 with a
// JSON error, never a 200 with an empty body.
func TestUnencodableAnswer(t *testing.T) {
	a := New(Options{})
	rec := httptest.NewRecorder()
	a.writeJSON(rec, httptest.NewRequest(http.MethodGet, "/api/v1/breakeven", nil), map[string]float64{"usd": math.Inf(1)})
	if rec.Code != http.StatusInternalServerError {
		t.Fatalf("status %d, want 500: %s", rec.Code, rec.Body)
	}
	checkError(t, rec, "encoding the answer: json: unsupported value: +Inf")
}
