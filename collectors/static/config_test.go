package static

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config/configtest"
	"github.com/gpuprice/gpuprice/price"
)

func TestConfigLoad(t *testing.T) {
	b := Of(configtest.Load(t, "static.yml"))
	if len(b.Entries) != 2 {
		t.Fatalf("%d entries", len(b.Entries))
	}
	s0, s1 := b.Entries[0], b.Entries[1]
	configtest.Check(t, configtest.Fields{
		"static_interval":                          {time.Duration(b.Interval), 30 * time.Minute},
		"static[0].pricing_model default":          {s0.PricingModel, price.Fixed},
		"static[0].gpu_count default":              {s0.GPUCount, 1.0},
		"static[0].usd_per_hour 0 kept":            {*s0.USDPerHour, 0.0},
		"static[0].instance_type default":          {s0.InstanceType, "1x_A100_40GB"},
		"static[0].geo from region":                {s0.Geo, "na"},
		"static[0].max_gpu_hours_per_month":        {s0.MaxGPUHoursPerMonth, 2000.0},
		"static[1].instance_type":                  {s1.InstanceType, "h100-reserved"},
		"static[1].gpu_memory_gb from the catalog": {s1.GPUMemoryGB, 80.0},
		"static[1] per GPU-hour":                   {s1.GPUUSDPerHour(), 2.0},
		"static[1].geo":                            {s1.Geo, "eu"},
	})
}

func TestConfigErrors(t *testing.T) {
	const static = "static:\n  - {provider: uni, gpu_model: A100, gpu_memory_gb: 40"
	configtest.YAMLErrors(t, map[string][2]string{
		"static without price":  {static + "}\n", "x.yml:2: static[0].usd_per_hour: required (0 is allowed: a free allocation)"},
		"static negative price": {static + ", usd_per_hour: -1}\n", "x.yml:2: static[0].usd_per_hour: must not be negative"},
		"static provider upper-case": {"static:\n  - {provider: CalculQuebec, gpu_model: A100, usd_per_hour: 1}\n",
			`x.yml:2: static[0].provider: "CalculQuebec" is not a provider name (lower-case letters, digits, - and _)`},
		"static pricing model": {static + ", usd_per_hour: 1, pricing_model: free}\n",
			`x.yml:2: static[0].pricing_model: "free" is not a pricing model (fixed, on_demand, spot, reserved_1y, reserved_3y, amortized)`},
		"static cap": {static + ", usd_per_hour: 1, max_gpu_hours_per_month: -1}\n", "x.yml:2: static[0].max_gpu_hours_per_month: must not be negative (0: no cap)"},
		"static same series": {static + ", usd_per_hour: 0}\n" + static[len("static:\n"):] + ", usd_per_hour: 1}\n",
			"x.yml:3: static[1]: the same series as static[0] (provider, instance_type, region, zone, pricing_model, gpu_count): give it its own instance_type"},
	})
}
