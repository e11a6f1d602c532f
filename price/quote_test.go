package price

import (
	"math"
	"strings"
	"testing"
)

func TestFormatNumber(t *testing.T) {
	for _, tc := range []struct {
		name string
		v    float64
		want string
	}{
		{"whole count", 8, "8"},
		{"one sixth", 1.0 / 6, "0.1667"},
		{"one third", 1.0 / 3, "0.3333"},
		{"memory", 80, "80"},
		{"H200 memory", 141, "141"},
		{"half", 0.5, "0.5"},
		{"eighth keeps its three decimals", 0.125, "0.125"},
		{"already rounded", 0.1667, "0.1667"},
		{"rounds half away from zero", 0.33335, "0.3334"},
		{"rounds down", 2.00004, "2"},
		{"large", 12345.678949, "12345.6789"},
		{"huge", 1e12, "1000000000000"},
		{"negative", -2.5, "-2.5"},
		{"zero is absent", 0, ""},
		{"negative zero is absent", math.Copysign(0, -1), ""},
		{"NaN is absent", math.NaN(), ""},
		{"Inf is absent", math.Inf(1), ""},
		{"-Inf is absent", math.Inf(-1), ""},
		{"tiny rounds to zero", 0.00001, "0"},
		{"tiny negative does not render -0", -0.00001, "0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := FormatNumber(tc.v); got != tc.want {
				t.Errorf("FormatNumber(%v) = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
	// Rounding must not overflow to Inf for the largest finite values.
	if got := FormatNumber(math.MaxFloat64); !strings.HasPrefix(got, "17976931348623157") || strings.ContainsAny(got, "+Ie.") {
		t.Errorf("FormatNumber(MaxFloat64) = %q", got)
	}
}

func TestAppendNumber(t *testing.T) {
	b := []byte(`gpu_count="`)
	b = AppendNumber(b, 1.0/6)
	b = AppendNumber(b, 0) // absent: appends nothing
	if got := string(b); got != `gpu_count="0.1667` {
		t.Errorf("AppendNumber = %q", got)
	}
	buf := make([]byte, 0, 32)
	if n := testing.AllocsPerRun(100, func() { buf = AppendNumber(buf[:0], 0.3333) }); n != 0 {
		t.Errorf("AppendNumber allocates %v times per call, want 0", n)
	}
}

func TestGPUUSDPerHour(t *testing.T) {
	for _, tc := range []struct {
		name  string
		usd   float64
		count float64
		want  float64 // NaN means "no per-GPU price"
	}{
		{"8x H100", 98.32, 8, 12.29},
		{"one GPU", 2.49, 1, 2.49},
		{"a sixth of an A10", 0.454, 1.0 / 6, 2.724},
		{"a sixth as the catalog writes it", 0.454, 0.1667, 0.454 / 0.1667},
		{"an eighth of an MI25", 0.125, 0.125, 1},
		{"a quarter MIG slice", 0.5, 0.25, 2},
		{"fractional L4 on g6f", 0.2, 0.125, 1.6},
		{"zero GPUs", 1.2, 0, math.NaN()},
		{"negative GPUs", 1.2, -1, math.NaN()},
		{"NaN GPUs", 1.2, math.NaN(), math.NaN()},
		{"free allocation", 0, 4, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := Quote{USDPerHour: tc.usd, GPUCount: tc.count}
			got := q.GPUUSDPerHour()
			if math.IsNaN(tc.want) {
				if !math.IsNaN(got) {
					t.Errorf("GPUUSDPerHour() = %v, want NaN", got)
				}
				return
			}
			if math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("GPUUSDPerHour() = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestSeriesKey(t *testing.T) {
	base := Quote{
		Provider:     "azure",
		InstanceType: "Standard_NV6ads_A10_v5",
		Region:       "eastus",
		PricingModel: Spot,
		GPUCount:     1.0 / 6,
		// Fields outside the series identity.
		Geo:        "na",
		GPUModel:   "A10",
		USDPerHour: 0.454,
	}
	same := func(mod func(*Quote)) Quote {
		q := base
		mod(&q)
		return q
	}
	for _, tc := range []struct {
		name  string
		other Quote
		equal bool
	}{
		{"count written as the catalog does", same(func(q *Quote) { q.GPUCount = 0.1667 }), true},
		{"count that formats the same", same(func(q *Quote) { q.GPUCount = 0.16668 }), true},
		{"another price", same(func(q *Quote) { q.USDPerHour = 0.5 }), true},
		{"another geo and model", same(func(q *Quote) { q.Geo = "eu"; q.GPUModel = Unknown }), true},
		{"count that formats differently", same(func(q *Quote) { q.GPUCount = 0.1668 }), false},
		{"another zone", same(func(q *Quote) { q.Zone = "eastus-1" }), false},
		{"another pricing model", same(func(q *Quote) { q.PricingModel = OnDemand }), false},
		{"another region", same(func(q *Quote) { q.Region = "westeurope" }), false},
		{"another size", same(func(q *Quote) { q.InstanceType = "Standard_NV12ads_A10_v5" }), false},
		{"another provider", same(func(q *Quote) { q.Provider = "aws" }), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := base.Key() == tc.other.Key(); got != tc.equal {
				t.Errorf("%v == %v is %v, want %v", base.Key(), tc.other.Key(), got, tc.equal)
			}
		})
	}

	whole := Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a", PricingModel: Spot, GPUCount: 8}
	if a, b := whole.Key(), (&Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: "us-east-1a", PricingModel: Spot, GPUCount: 8.00001}).Key(); a != b {
		t.Errorf("8 and 8.00001 GPUs give keys %v and %v, want equal", a, b)
	}
	if got, want := whole.Key().String(), "aws/p5.48xlarge/us-east-1/us-east-1a/spot/8"; got != want {
		t.Errorf("Key().String() = %q, want %q", got, want)
	}
	if got := (&Quote{Provider: "vastai", PricingModel: OnDemand}).Key().GPUCount; got != "" {
		t.Errorf("unknown count formats as %q, want empty", got)
	}
}

func TestPricingModelValid(t *testing.T) {
	for _, m := range PricingModels {
		if !m.Valid() {
			t.Errorf("%q.Valid() = false", m)
		}
	}
	for _, m := range []PricingModel{OnDemand, Spot, Reserved1y, Reserved3y, Amortized, Fixed} {
		if !m.Valid() {
			t.Errorf("%q.Valid() = false", m)
		}
	}
	for _, m := range []PricingModel{"", "ondemand", "on-demand", "On_Demand", "SPOT", "interruptible", "reserved", "reserved_5y", " spot"} {
		if m.Valid() {
			t.Errorf("%q.Valid() = true", m)
		}
	}
}
