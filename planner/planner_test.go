package planner

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// memSource is a history in memory, filtered as the store filters. It has
// no poll log: every price holds until its series' next point.
type memSource []store.Series

func (m memSource) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	for _, s := range m {
		l := &s.Labels
		if (q.GPUModel != "" && l.GPUModel != q.GPUModel) || (q.PricingModel != "" && l.PricingModel != q.PricingModel) ||
			(q.GPUMemoryGB != 0 && l.GPUMemoryGB != q.GPUMemoryGB) || (q.GPUForm != "" && l.GPUForm != q.GPUForm) ||
			(q.Geo != "" && l.Geo != q.Geo) {
			continue
		}
		if err := fn(s); err != nil {
			return err
		}
	}
	return nil
}

func (memSource) Polls(context.Context, string, time.Time, time.Time) ([]store.Poll, error) {
	return nil, nil
}

// end is the end of the test window; start is 10 hours before, and the
// grid samples every hour: 11 samples, start+0h ... start+10h.
var (
	end   = time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	start = end.Add(-10 * time.Hour)
)

func at(hours float64) time.Time { return start.Add(time.Duration(hours * float64(time.Hour))) }

func h100(provider, instance, region string, model price.PricingModel) price.Quote {
	return price.Quote{Provider: provider, InstanceType: instance, Region: region, Geo: price.Geo(region), PricingModel: model,
		GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8}
}

// history: per GPU-hour,
//
//	A azure on_demand 3.0 all along;
//	B vastai on_demand 2.0 until it is withdrawn at 4h30, back at 8h at 2.5;
//	C vastai spot 1.0 all along.
//
// The cheapest on_demand price at the 11 samples: 2 2 2 2 2 (B) 3 3 3 (A)
// 2.5 2.5 2.5 (B). Min 2, p10 2, median 2.5 (2 holds 5/11 < 1/2 of the
// time, 2.5 brings it to 8/11), mean 26.5/11, max 3, last 2.5. B is the
// cheapest at 8 of 11 samples, A at 3.
var history = memSource{
	{Labels: h100("azure", "Standard_ND96isr_H100_v5", "eastus", price.OnDemand),
		Points: []store.Point{{Time: at(-5), USDPerHour: 24}}},
	{Labels: h100("vastai", "8x_H100_SXM_80GB", "us", price.OnDemand),
		Points: []store.Point{{Time: at(-1), USDPerHour: 16}, {Time: at(4.5), Withdrawn: true}, {Time: at(8), USDPerHour: 20}}},
	{Labels: h100("vastai", "8x_H100_SXM_80GB", "us", price.Spot),
		Points: []store.Point{{Time: at(-2), USDPerHour: 8}}},
}

// entries are the configuration's owned and static entries. lab-h100 costs
// per GPU and wall-clock hour 240000/8/35040 + 12000/8/8760 +
// 10200/1000/8 × 1.5 × 0.1 = 0.8562 + 0.1712 + 0.19125 = 1.2186.
const entries = `
owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, purchase_usd: 240000, amortization: 4y,
     power_watts: 10200, pue: 1.5, usd_per_kwh: 0.1, maintenance_usd_per_year: 12000, utilization: 0.5}
  - {name: lab-a100, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, purchase_usd: 120000, power_watts: 6500, usd_per_kwh: 0.12, utilization: 0.7}
static:
  - {provider: calculquebec, gpu_model: H100, gpu_form: sxm, usd_per_hour: 0.85, max_gpu_hours_per_month: 2000}
  - {provider: calculquebec, gpu_model: A100, gpu_memory_gb: 40, usd_per_hour: 0}
`

func inputs(t *testing.T) Inputs {
	t.Helper()
	cfg, err := config.Load([]byte(entries), "planner.yml")
	if err != nil {
		t.Fatal(err)
	}
	return Inputs{History: history, Owned: owned.Of(cfg).Entries, Static: static.Of(cfg).Entries}
}

func plan(t *testing.T, r Request) *Plan {
	t.Helper()
	if r.Window == 0 {
		r.Window, r.Step, r.End = Duration(10*time.Hour), Duration(time.Hour), end
	}
	if err := r.Normalize(end); err != nil {
		t.Fatal(err)
	}
	p, err := Make(context.Background(), inputs(t), r)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func near(got, want float64) bool { return math.Abs(got-want) <= 1e-9*math.Max(1, math.Abs(want)) }

func val(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// c is lab-h100's cost of one GPU per wall-clock hour.
const c = 30000.0/35040 + 1500.0/8760 + 0.19125

func TestStatistics(t *testing.T) {
	for _, tc := range []struct {
		stat string
		want float64
	}{
		{StatMedian, 2.5},
		{StatP10, 2},
		{StatMin, 2},
		{StatMean, 26.5 / 11},
		{StatLast, 2.5},
	} {
		t.Run(tc.stat, func(t *testing.T) {
			p := plan(t, Request{GPUModel: "H100", GPUHours: 1000, Stat: tc.stat})
			od := p.Prices[0]
			if !near(val(od.GPUUSDPerHour), tc.want) {
				t.Errorf("on_demand %s = %v, want %v", tc.stat, val(od.GPUUSDPerHour), tc.want)
			}
			if od.Series != 2 || od.Samples != 11 || od.SampleTimes != 11 || !near(od.Coverage, 1) {
				t.Errorf("series %d, samples %d of %d, coverage %v", od.Series, od.Samples, od.SampleTimes, od.Coverage)
			}
			if !near(val(od.Max), 3) || !near(val(od.Last), 2.5) {
				t.Errorf("max %v, last %v", val(od.Max), val(od.Last))
			}
		})
	}
}

func TestCheapestSeriesAndVolatility(t *testing.T) {
	p := plan(t, Request{GPUModel: "H100", GPUHours: 1000})
	od := p.Prices[0]
	if len(od.Cheapest) != 2 || od.Cheapest[0].Provider != "vastai" || od.Cheapest[0].Samples != 8 ||
		od.Cheapest[1].Provider != "azure" || od.Cheapest[1].Samples != 3 || !near(od.Cheapest[0].Share, 8.0/11) {
		t.Errorf("cheapest series %+v", od.Cheapest)
	}
	// B's own samples: 2.0 for 5 h, 2.5 for 3 h. Mean 17.5/8 = 2.1875;
	// variance (5 × 0.1875² + 3 × 0.3125²) / 8 = 0.05859375.
	v := od.Volatility
	if v == nil || v.InstanceType != "8x_H100_SXM_80GB" || !near(val(v.CV), math.Sqrt(0.05859375)/2.1875) ||
		!near(val(v.Mean), 2.1875) || v.Changes != 1 || !near(v.Coverage, 8.0/11) {
		t.Errorf("volatility %+v (cv %v)", v, val(v.CV))
	}
	spot := p.Prices[1]
	if !near(val(spot.GPUUSDPerHour), 1) || spot.Volatility == nil || val(spot.Volatility.CV) != 0 || spot.Volatility.Changes != 0 {
		t.Errorf("spot %+v", spot)
	}
}

// The whole plan of a profile: 8 GPUs all month and 8 more for 100 hours,
// G = 8 × 730 + 8 × 100 = 6640 GPU-hours, 16 GPUs to own, median prices
// on_demand 2.5 and spot 1, over 36 months.
func TestPlanProfile(t *testing.T) {
	p := plan(t, Request{GPUModel: "H100", BaselineGPUs: 8, PeakGPUs: 8, PeakHours: 100})
	if p.Workload.GPUHoursPerMonth != 6640 || p.Workload.GPUsToOwn != 16 {
		t.Fatalf("workload %+v", p.Workload)
	}
	type want struct {
		name          string
		month         float64
		owned         float64
		util, upfront float64
		payback       float64
		missing       bool
	}
	nan := math.NaN()
	wants := []want{
		{"rent on_demand", 6640 * 2.5, 0, nan, nan, nan, false},
		{"rent spot", 6640 * 1, 0, nan, nan, nan, false},
		// 16 × 730 × c = 10000 capital + 2000 maintenance + 2233.8 power;
		// payback 480000 / (16600 − 2000 − 2233.8).
		{"own lab-h100", 14233.8, 16, 6640.0 / 11680, 480000, 480000 / 12366.2, false},
		// 8 × 730 × c = 7116.9, plus 800 GPU-h of peaks.
		{"hybrid lab-h100 + on_demand peaks", 7116.9 + 800*2.5, 8, 1, 240000, nan, false},
		{"hybrid lab-h100 + spot peaks", 7116.9 + 800*1, 8, 1, 240000, nan, false},
		// 2000 GPU-h at 0.85 under the cap, 4640 on demand at 2.5.
		{"static calculquebec/1x_H100_80GB", 2000*0.85 + 4640*2.5, 0, nan, nan, nan, false},
	}
	if len(p.Options) != len(wants) {
		t.Fatalf("%d options, want %d: %+v", len(p.Options), len(wants), p.Options)
	}
	for i, w := range wants {
		o := p.Options[i]
		t.Run(w.name, func(t *testing.T) {
			if o.Name != w.name {
				t.Fatalf("option %d is %q", i, o.Name)
			}
			if !near(val(o.USDPerMonth), w.month) || !near(val(o.USDTotal), 36*w.month) || !near(val(o.USDPerGPUHour), w.month/6640) {
				t.Errorf("month %v total %v per GPU-h %v; want %v", val(o.USDPerMonth), val(o.USDTotal), val(o.USDPerGPUHour), w.month)
			}
			sum := 0.0
			for _, l := range o.Arithmetic {
				sum += l.USDPerMonth
			}
			if !near(sum, w.month) {
				t.Errorf("the arithmetic sums to %v, not %v", sum, w.month)
			}
			if o.GPUsOwned != w.owned {
				t.Errorf("gpus_owned %v, want %v", o.GPUsOwned, w.owned)
			}
			for _, x := range []struct {
				what      string
				got, want float64
			}{{"utilization", val(o.Utilization), w.util}, {"upfront", val(o.UpfrontUSD), w.upfront}, {"payback", val(o.PaybackMonths), w.payback}} {
				if !(math.IsNaN(x.got) && math.IsNaN(x.want)) && !near(x.got, x.want) {
					t.Errorf("%s = %v, want %v", x.what, x.got, x.want)
				}
			}
		})
	}
	if p.Cheapest != "rent spot" {
		t.Errorf("cheapest %q", p.Cheapest)
	}
	if len(p.BreakEven) != 2 {
		t.Fatalf("break-even %+v", p.BreakEven)
	}
	od, spot := p.BreakEven[0], p.BreakEven[1]
	// On demand: buying beats renting above c / 2.5 = 48.7%; 16 owned
	// GPUs would be busy 6640 / 11680 = 56.8%.
	if od.Versus != price.OnDemand || !near(val(od.Utilization), c/2.5) || !near(val(od.GPUHoursPerMonth), c/2.5*730) || !od.Buy ||
		!near(od.WorkloadUtilization, 6640.0/11680) || !near(od.OwnUSDPerGPUHour, c) {
		t.Errorf("break-even vs on_demand %+v", od)
	}
	// Spot at 1.0: owning costs more even busy all the time.
	if spot.Versus != price.Spot || !near(val(spot.Utilization), c) || spot.Buy {
		t.Errorf("break-even vs spot %+v", spot)
	}
}

// A flat workload owns the fewest GPUs that deliver it: ceil(1000 / 730) = 2.
func TestPlanFlat(t *testing.T) {
	p := plan(t, Request{GPUModel: "H100", GPUHours: 1000, Months: 12})
	var own *Option
	for i := range p.Options {
		if p.Options[i].Name == "own lab-h100" {
			own = &p.Options[i]
		}
		if p.Options[i].Kind == KindHybrid {
			t.Errorf("a hybrid option without a profile: %s", p.Options[i].Name)
		}
	}
	if own == nil || own.GPUsOwned != 2 || !near(val(own.USDPerMonth), 1460*c) || !near(val(own.USDTotal), 12*1460*c) ||
		!near(val(own.Utilization), 1000.0/1460) {
		t.Errorf("own option %+v", own)
	}
	// Uncapped static: all 1000 GPU-h at 0.85.
	if o := p.Options[len(p.Options)-1]; o.Kind != KindStatic || !near(val(o.USDPerMonth), 850) || len(o.Arithmetic) != 1 {
		t.Errorf("static option %+v", o)
	}
}

// Where no price is known the plan says so and prices nothing it cannot.
func TestPlanMissingPrices(t *testing.T) {
	p := plan(t, Request{GPUModel: "A100", GPUMemoryGB: 80, GPUHours: 2000})
	for _, rp := range p.Prices {
		want := "no " + string(rp.PricingModel) + " series of A100 80GB in the store"
		if rp.GPUUSDPerHour != nil || rp.Missing != want {
			t.Errorf("%s: price %v, missing %q; want %q", rp.PricingModel, val(rp.GPUUSDPerHour), rp.Missing, want)
		}
	}
	names := map[string]Option{}
	for _, o := range p.Options {
		names[o.Name] = o
	}
	if o := names["rent on_demand"]; o.USDPerMonth != nil || o.Missing == "" {
		t.Errorf("rent on_demand priced without a price: %+v", o)
	}
	// lab-a100 is still priced: 3 GPUs × 730 h × (120000/8/26280 + 6500/1000/8 × 0.12).
	own := names["own lab-a100"]
	if !near(val(own.USDPerMonth), 3*730*(15000.0/26280+0.0975)) || own.PaybackMonths != nil {
		t.Errorf("own lab-a100 %+v", own)
	}
	if len(p.BreakEven) != 0 || p.Cheapest != "own lab-a100" {
		t.Errorf("break-even %+v, cheapest %q", p.BreakEven, p.Cheapest)
	}
	// The A100 40GB allocation is not the 80GB asked for.
	if _, ok := names["static calculquebec/1x_A100_40GB"]; ok {
		t.Error("a static option of another memory size")
	}

	t.Run("last with nothing at the end", func(t *testing.T) {
		p := plan(t, Request{GPUModel: "H100", GPUHours: 1000, Stat: StatLast, Window: Duration(5 * time.Hour), Step: Duration(time.Hour), End: at(5)})
		// At 5h B is withdrawn but A holds: 3.
		if !near(val(p.Prices[0].GPUUSDPerHour), 3) {
			t.Errorf("last = %v, want 3", val(p.Prices[0].GPUUSDPerHour))
		}
	})
}

func TestNormalizeErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Request
		want string
	}{
		{"no model", Request{GPUHours: 1}, "gpu_model: required (a catalog model such as H100, A100, MI300X)"},
		{"no workload", Request{GPUModel: "H100"}, "gpu_hours: required: GPU-hours per month (or a profile: baseline_gpus, peak_gpus, peak_hours)"},
		{"both workloads", Request{GPUModel: "H100", GPUHours: 5, BaselineGPUs: 1}, "gpu_hours: give either gpu_hours or a profile (baseline_gpus, peak_gpus, peak_hours), not both"},
		{"fractional GPUs", Request{GPUModel: "H100", BaselineGPUs: 1.5}, "baseline_gpus: 1.5 is out of range: allowed whole numbers of GPUs in [0, 1000000]"},
		{"peak without hours", Request{GPUModel: "H100", PeakGPUs: 2}, "peak_hours: required with peak_gpus: how many hours a month the peak lasts"},
		{"hours without peak", Request{GPUModel: "H100", BaselineGPUs: 1, PeakHours: 2}, "peak_gpus: required with peak_hours: how many GPUs the peak adds"},
		{"peak hours beyond a month", Request{GPUModel: "H100", PeakGPUs: 1, PeakHours: 800}, "peak_hours: 800 is out of range: allowed [0, 730] (hours in a month)"},
		{"stat", Request{GPUModel: "H100", GPUHours: 1, Stat: "p50"}, `stat: "p50" is not one of median, p10, mean, min, last`},
		{"months", Request{GPUModel: "H100", GPUHours: 1, Months: -1}, "months: -1 is out of range: allowed [1, 600]"},
		{"months beyond 50 years", Request{GPUModel: "H100", GPUHours: 1, Months: 601}, "months: 601 is out of range: allowed [1, 600]"},
		{"gpu_hours huge", Request{GPUModel: "H100", GPUHours: 1e308}, "gpu_hours: 1e+308 is out of range: allowed (0, 1000000000] GPU-hours per month"},
		{"gpu_hours negative", Request{GPUModel: "H100", GPUHours: -1}, "gpu_hours: -1 is out of range: allowed (0, 1000000000] GPU-hours per month"},
		{"gpu_hours NaN", Request{GPUModel: "H100", GPUHours: math.NaN()}, "gpu_hours: NaN is out of range: allowed (0, 1000000000] GPU-hours per month"},
		{"baseline huge", Request{GPUModel: "H100", BaselineGPUs: 1e300}, "baseline_gpus: 1e+300 is out of range: allowed whole numbers of GPUs in [0, 1000000]"},
		{"peak GPUs infinite", Request{GPUModel: "H100", PeakGPUs: math.Inf(1), PeakHours: 1}, "peak_gpus: +Inf is out of range: allowed whole numbers of GPUs in [0, 1000000]"},
		{"memory huge", Request{GPUModel: "H100", GPUHours: 1, GPUMemoryGB: 1e20}, "gpu_memory_gb: 1e+20 is out of range: allowed [0, 10000] GB (0: any)"},
		{"window beyond a century", Request{GPUModel: "H100", GPUHours: 1, Window: Duration(101 * 365 * 24 * time.Hour)}, "window: 101y is out of range: allowed (0, 100y]"},
		{"step", Request{GPUModel: "H100", GPUHours: 1, Window: Duration(time.Hour), Step: Duration(2 * time.Hour)}, "step: must be between 1s and the window (1h)"},
		{"geo", Request{GPUModel: "H100", GPUHours: 1, Geo: "mars"}, `geo: "mars" is not one of na, sa, eu, asia, oc, me, af`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.Normalize(end)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v\nwant %s", err, tc.want)
			}
		})
	}
	r := Request{GPUModel: "h100", GPUHours: 10}
	if err := r.Normalize(end); err != nil || r.GPUModel != "H100" || r.Months != 36 || r.Stat != StatMedian ||
		r.Window != Duration(30*24*time.Hour) || r.Step != Duration(time.Hour) || !r.End.Equal(end) {
		t.Errorf("defaults: %+v, %v", r, err)
	}
}

// The terminal table and the JSON answer, as golden files.
func TestGolden(t *testing.T) {
	p := plan(t, Request{GPUModel: "H100", BaselineGPUs: 8, PeakGPUs: 8, PeakHours: 100})
	var table bytes.Buffer
	if err := WriteTable(&table, p); err != nil {
		t.Fatal(err)
	}
	js, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	for name, got := range map[string][]byte{"plan.txt.golden": table.Bytes(), "plan.json.golden": append(js, '\n')} {
		path := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test -update)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs (go test -update rewrites it):\n%s", name, got)
		}
	}
	var back Plan
	if err := json.Unmarshal(js, &back); err != nil || back.Cheapest != p.Cheapest || len(back.Options) != len(p.Options) {
		t.Errorf("the JSON does not read back: %v", err)
	}
}
