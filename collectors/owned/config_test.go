package owned

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
	"github.com/gpuprice/gpuprice/price"
)

func TestConfigLoad(t *testing.T) {
	b := Of(configtest.Load(t, "owned.yml"))
	if len(b.Entries) != 2 {
		t.Fatalf("%d entries", len(b.Entries))
	}
	a, h := b.Entries[0], b.Entries[1]
	configtest.Check(t, configtest.Fields{
		"owned_interval":                                  {time.Duration(b.Interval), 30 * time.Minute},
		"owned[0].purchase_usd":                           {*a.PurchaseUSD, 120000.0},
		"owned[0].amortization":                           {time.Duration(a.Amortization), 4 * 365 * 24 * time.Hour},
		"owned[0].pue":                                    {a.PUE, 1.3},
		"owned[0].region lower-cased":                     {a.Region, "ca-qc"},
		"owned[0].geo from region":                        {a.Geo, "na"},
		"owned[1].amortization default 3y":                {time.Duration(h.Amortization), 3 * 365 * 24 * time.Hour},
		"owned[1].pue default":                            {h.PUE, 1.0},
		"owned[1].gpu_count counted later":                {h.GPUCount, 0.0},
		"owned[1] form and memory from the catalog":       {h.GPUForm + " " + price.FormatNumber(h.GPUMemoryGB), "sxm 141"},
		"owned[1].nvidia_smi_file relative to the config": {h.NvidiaSMIFile, "testdata/config/power.csv"},
		"owned[1].power_statistic":                        {h.PowerStatistic, "max"},
		"owned[1].purchase_usd absent":                    {h.PurchaseUSD == nil, true},
	})
	usd, src, err := h.Purchase(price.DefaultCatalog(), 8)
	if err != nil || usd != 8*35000 || src[:len("catalog: 35000 × 8 GPUs (")] != "catalog: 35000 × 8 GPUs (" {
		t.Errorf("owned[1] purchase = %g, %q, %v; want 280000 from the catalog", usd, src, err)
	}
}

func TestConfigDefaultsEmpty(t *testing.T) {
	b := Of(config.Builtin())
	if len(b.Entries) != 0 || b.Interval != DefaultInterval {
		t.Errorf("built-in defaults: %d entries, interval %s", len(b.Entries), b.Interval)
	}
}

func TestConfigErrors(t *testing.T) {
	const a100 = "owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, utilization: 0.5"
	configtest.YAMLErrors(t, map[string][2]string{
		"unknown key": {"owned:\n  - name: lab\n    purchse_usd: 1\n",
			"x.yml:3: owned[0].purchse_usd: unknown key (check its spelling and indentation)"},
		"negative purchase": {a100 + ", purchase_usd: -5}\n", "x.yml:2: owned[0].purchase_usd: must not be negative"},
		"no utilization": {"owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8}\n",
			"x.yml:2: owned[0].utilization: must be in (0, 1]: the share of hours the GPUs do useful work"},
		"utilization above 1": {"owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 8, utilization: 1.5}\n", "x.yml:2: owned[0].utilization: must be in (0, 1]: the share of hours the GPUs do useful work"},
		"no gpu_count": {"owned:\n  - {name: lab, gpu_model: A100, gpu_memory_gb: 80, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_count: must be positive (or give nvidia_smi_file to count the GPUs)"},
		"no model": {"owned:\n  - {name: lab, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_model: required (a catalog model such as H100, A100, MI300X)"},
		"unknown model": {"owned:\n  - {name: lab, gpu_model: A1000, gpu_count: 1, utilization: 1}\n",
			`x.yml:2: owned[0].gpu_model: "A1000" is not in the GPU catalog (see /api/v1/gpus)`},
		"unknown memory": {"owned:\n  - {name: lab, gpu_model: H100, gpu_memory_gb: 40, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].gpu_memory_gb: the catalog has no H100 40GB"},
		"no catalog price": {"owned:\n  - {name: lab, gpu_model: L4, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].purchase_usd: required: the catalog has no purchase price for L4 pcie 24GB"},
		"ambiguous catalog price": {"owned:\n  - {name: lab, gpu_model: A100, gpu_count: 1, utilization: 1}\n",
			"x.yml:2: owned[0].purchase_usd: required: the catalog's prices of A100 differ by form or memory: give gpu_form and gpu_memory_gb, or purchase_usd"},
		"power without price": {a100 + ", power_watts: 6500}\n", "x.yml:2: owned[0].usd_per_kwh: required with power_watts, host_watts or nvidia_smi_file"},
		"price without power": {a100 + ", usd_per_kwh: 0.1}\n", "x.yml:2: owned[0].usd_per_kwh: given without power_watts or nvidia_smi_file: the power would cost nothing"},
		"watts and file": {a100 + ", power_watts: 6500, usd_per_kwh: 0.1, nvidia_smi_file: testdata/config/power.csv}\n",
			"x.yml:2: owned[0].nvidia_smi_file: power_watts and nvidia_smi_file are mutually exclusive"},
		"missing file": {a100 + ", usd_per_kwh: 0.1, nvidia_smi_file: testdata/config/nope.csv}\n",
			"x.yml:2: owned[0].nvidia_smi_file: stat testdata/config/nope.csv: no such file or directory"},
		"bad statistic": {a100 + ", usd_per_kwh: 0.1, nvidia_smi_file: testdata/config/power.csv, power_statistic: p99}\n",
			`x.yml:2: owned[0].power_statistic: "p99" is not one of mean, median, max`},
		"statistic without file": {a100 + ", power_statistic: max}\n", "x.yml:2: owned[0].power_statistic: only applies with nvidia_smi_file"},
		"pue below 1":            {a100 + ", power_watts: 10, usd_per_kwh: 0.1, pue: 0.9}\n", "x.yml:2: owned[0].pue: must be at least 1 (facility power / IT power)"},
		"bad geo":                {a100 + ", geo: europe}\n", `x.yml:2: owned[0].geo: "europe" is not one of na, sa, eu, asia, oc, me, af`},
		"duplicate name":         {a100 + "}\n" + a100[len("owned:\n"):] + "}\n", `x.yml:3: owned[1].name: "lab" is already the name of owned[0]`},
		"name with a space": {"owned:\n  - {name: my lab, gpu_model: A100, gpu_memory_gb: 80, gpu_count: 1, utilization: 1}\n",
			`x.yml:2: owned[0].name: "my lab" is not a name (non-empty, no spaces): it is the instance_type label`},
		"short interval": {"owned_interval: 1s\n", "x.yml:1: owned_interval: 1s is below the minimum of 5s"},
	})
}
