package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

func TestLoadOwnedStatic(t *testing.T) {
	cfg, err := LoadFile(filepath.Join("testdata", "owned-static.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Owned) != 2 || len(cfg.Static) != 2 {
		t.Fatalf("%d owned, %d static entries", len(cfg.Owned), len(cfg.Static))
	}
	a, h := cfg.Owned[0], cfg.Owned[1]
	s0, s1 := cfg.Static[0], cfg.Static[1]
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"owned_interval", time.Duration(cfg.OwnedInterval), 30 * time.Minute},
		{"static_interval default", time.Duration(cfg.StaticInterval), time.Hour},
		{"owned[0].purchase_usd", *a.PurchaseUSD, 120000.0},
		{"owned[0].amortization", time.Duration(a.Amortization), 4 * 365 * 24 * time.Hour},
		{"owned[0].pue", a.PUE, 1.3},
		{"owned[0].region lower-cased", a.Region, "ca-qc"},
		{"owned[0].geo from region", a.Geo, "na"},
		{"owned[1].amortization default 3y", time.Duration(h.Amortization), 3 * 365 * 24 * time.Hour},
		{"owned[1].pue default", h.PUE, 1.0},
		{"owned[1].gpu_count counted later", h.GPUCount, 0.0},
		{"owned[1] form and memory from the catalog", h.GPUForm + " " + price.FormatNumber(h.GPUMemoryGB), "sxm 141"},
		{"owned[1].nvidia_smi_file relative to the config", h.NvidiaSMIFile, "testdata/power.csv"},
		{"owned[1].power_statistic", h.PowerStatistic, "max"},
		{"owned[1].purchase_usd absent", h.PurchaseUSD == nil, true},
		{"static[0].pricing_model default", s0.PricingModel, price.Fixed},
		{"static[0].gpu_count default", s0.GPUCount, 1.0},
		{"static[0].usd_per_hour 0 kept", *s0.USDPerHour, 0.0},
		{"static[0].instance_type default", s0.InstanceType, "1x_A100_40GB"},
		{"static[0].geo from region", s0.Geo, "na"},
		{"static[0].max_gpu_hours_per_month", s0.MaxGPUHoursPerMonth, 2000.0},
		{"static[1].instance_type", s1.InstanceType, "h100-reserved"},
		{"static[1].gpu_memory_gb from the catalog", s1.GPUMemoryGB, 80.0},
		{"static[1] per GPU-hour", s1.GPUUSDPerHour(), 2.0},
		{"static[1].geo", s1.Geo, "eu"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	usd, src, err := h.Purchase(price.DefaultCatalog(), 8)
	if err != nil || usd != 8*35000 || src[:len("catalog: 35000 × 8 GPUs (")] != "catalog: 35000 × 8 GPUs (" {
		t.Errorf("owned[1] purchase = %g, %q, %v; want 280000 from the catalog", usd, src, err)
	}
}

func TestOwnedStaticErrors(t *testing.T) {
	const a100 = "owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, utilization: 0.5"
	const static = "static:\n  - {provider: uni, gpu_model: A100, gpu_memory_gb: 40"
	for _, tc := range []struct{ name, yaml, want string }{
		{"unknown key", "owned:\n  - name: lab\n    purchse_usd: 1\n",
			"x.yml:3: owned[0].purchse_usd: unknown key (check its spelling and indentation)"},
		{"negative purchase", a100 + ", purchase_usd: -5}\n", "x.yml:2: owned[0].purchase_usd: must not be negative"},
		{"no utilization", "owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8}\n",
			"x.yml:2: owned[0].utilization: must be in (0, 1]: the share of hours the GPUs do useful work"},
		{"utilization above 1", "owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, utilization: 1.5}\n", "x.yml:2: owned[0].utilization: must be in (0, 1]: the share of hours the GPUs do useful work"},
		{"no gpu_count", "owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_count: must be positive (or give nvidia_smi_file to count the GPUs)"},
		{"no model", "owned:\n  - {name: lab, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_model: required (a catalog model such as H100, A100, MI300X)"},
		{"unknown model", "owned:\n  - {name: lab, gpu_model: A1000, gpu_count: 1, utilization: 1}\n",
			`x.yml:2: owned[0].gpu_model: "A1000" is not in the GPU catalog (see /api/v1/gpus)`},
		{"unknown memory", "owned:\n  - {name: lab, gpu_model: H100, gpu_memory_gb: 40, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_memory_gb: the catalog has no H100 40GB"},
		{"no catalog price", "owned:\n  - {name: lab, gpu_model: L4, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].purchase_usd: required: the catalog has no purchase price for L4 pcie 24GB"},
		{"ambiguous catalog price", "owned:\n  - {name: lab, gpu_model: A100, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].purchase_usd: required: the catalog's prices of A100 differ by form or memory: give gpu_form and gpu_memory_gb, or purchase_usd"},
		{"power without price", a100 + ", power_watts: 6500}\n", "x.yml:2: owned[0].usd_per_kwh: required with power_watts, host_watts or nvidia_smi_file"},
		{"price without power", a100 + ", usd_per_kwh: 0.1}\n", "x.yml:2: owned[0].usd_per_kwh: given without power_watts or nvidia_smi_file: the power would cost nothing"},
		{"watts and file", a100 + ", power_watts: 6500, usd_per_kwh: 0.1, nvidia_smi_file: testdata/power.csv}\n",
			"x.yml:2: owned[0].nvidia_smi_file: power_watts and nvidia_smi_file are mutually exclusive"},
		{"missing file", a100 + ", usd_per_kwh: 0.1, nvidia_smi_file: testdata/nope.csv}\n",
			"x.yml:2: owned[0].nvidia_smi_file: stat ./testdata/nope.csv: no such file or directory"},
		{"bad statistic", a100 + ", usd_per_kwh: 0.1, nvidia_smi_file: testdata/power.csv, power_statistic: p99}\n",
			`x.yml:2: owned[0].power_statistic: "p99" is not one of mean, median, max`},
		{"statistic without file", a100 + ", power_statistic: max}\n", "x.yml:2: owned[0].power_statistic: only applies with nvidia_smi_file"},
		{"pue below 1", a100 + ", power_watts: 10, usd_per_kwh: 0.1, pue: 0.9}\n", "x.yml:2: owned[0].pue: must be at least 1 (facility power / IT power)"},
		{"bad geo", a100 + ", geo: europe}\n", `x.yml:2: owned[0].geo: "europe" is not one of na, sa, eu, asia, oc, me, af`},
		{"duplicate name", a100 + "}\n" + a100[len("owned:\n"):] + "}\n", `x.yml:3: owned[1].name: "lab" is already the name of owned[0]`},
		{"name with a space", "owned:\n  - {name: my lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 1, utilization: 1}\n",
			`x.yml:2: owned[0].name: "my lab" is not a name (non-empty, no spaces): it is the instance_type label`},
		{"short interval", "owned_interval: 1s\n", "x.yml:1: owned_interval: 1s is below the minimum of 5s"},
		{"static without price", static + "}\n", "x.yml:2: static[0].usd_per_hour: required (0 is allowed: a free allocation)"},
		{"static negative price", static + ", usd_per_hour: -1}\n", "x.yml:2: static[0].usd_per_hour: must not be negative"},
		{"static provider of a section", "static:\n  - {provider: azure, gpu_model: A100, usd_per_hour: 1}\n",
			`x.yml:2: static[0].provider: "azure" is taken by a collector: give the static prices a name of their own (e.g. azure-contract)`},
		{"static provider owned", "static:\n  - {provider: owned, gpu_model: A100, usd_per_hour: 1}\n",
			`x.yml:2: static[0].provider: "owned" is taken by a collector: give the static prices a name of their own (e.g. owned-contract)`},
		{"static provider upper-case", "static:\n  - {provider: CalculQuebec, gpu_model: A100, usd_per_hour: 1}\n",
			`x.yml:2: static[0].provider: "CalculQuebec" is not a provider name (lower-case letters, digits, - and _)`},
		{"static pricing model", static + ", usd_per_hour: 1, pricing_model: free}\n",
			`x.yml:2: static[0].pricing_model: "free" is not a pricing model (fixed, on_demand, spot, reserved_1y, reserved_3y, amortized)`},
		{"static cap", static + ", usd_per_hour: 1, max_gpu_hours_per_month: -1}\n", "x.yml:2: static[0].max_gpu_hours_per_month: must not be negative (0: no cap)"},
		{"static same series", static + ", usd_per_hour: 0}\n" + static[len("static:\n"):] + ", usd_per_hour: 1}\n",
			"x.yml:3: static[1]: the same series as static[0] (provider, instance_type, region, zone, pricing_model, gpu_count): give it its own instance_type"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.yaml), "x.yml")
			if err == nil {
				t.Fatal("loaded without error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestOwnedStaticDefaultsEmpty(t *testing.T) {
	cfg := Builtin()
	if len(cfg.Owned) != 0 || len(cfg.Static) != 0 {
		t.Errorf("built-in defaults have %d owned and %d static entries", len(cfg.Owned), len(cfg.Static))
	}
	if cfg.OwnedInterval != DefaultListInterval || cfg.StaticInterval != DefaultListInterval {
		t.Errorf("intervals %s, %s; want %s", cfg.OwnedInterval, cfg.StaticInterval, DefaultListInterval)
	}
}
