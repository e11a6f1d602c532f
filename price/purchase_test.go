package price

import (
	"strings"
	"testing"
)

func TestPurchasePrices(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		name  string
		model string
		form  string
		memGB float64
		want  float64
	}{
		{"H100 SXM", "H100", "sxm", 80, 30000},
		{"H100 PCIe", "H100", "pcie", 80, 25000},
		{"H200", "H200", "sxm", 141, 35000},
		{"B200", "B200", "sxm", 180, 40000},
		{"A100 SXM 80GB", "A100", "sxm", 80, 15000},
		{"A100 PCIe 40GB", "A100", "pcie", 40, 10000},
		{"MI300X", "MI300X", "", 192, 12500},
		{"RTX 4090", "RTX4090", "pcie", 24, 1599},
		{"RTX 5090", "RTX5090", "pcie", 32, 1999},
		{"RTX 6000 Ada", "RTX6000ADA", "pcie", 48, 6800},
		{"no price: L4", "L4", "pcie", 24, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			gs := c.Find(tc.model, tc.form, tc.memGB)
			if len(gs) != 1 {
				t.Fatalf("Find(%s, %s, %g) = %d GPUs, want 1", tc.model, tc.form, tc.memGB, len(gs))
			}
			if gs[0].PurchaseUSD != tc.want {
				t.Errorf("purchase_usd = %g, want %g", gs[0].PurchaseUSD, tc.want)
			}
			if (gs[0].PurchaseSource != "") != (tc.want > 0) {
				t.Errorf("purchase_source = %q for purchase_usd %g", gs[0].PurchaseSource, gs[0].PurchaseUSD)
			}
		})
	}
}

func TestFind(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		name  string
		model string
		form  string
		memGB float64
		want  int
	}{
		{"every A100", "A100", "", 0, 4},
		{"A100 80GB, both forms", "A100", "", 80, 2},
		{"A100 SXM, both sizes", "A100", "sxm", 0, 2},
		{"one H200", "H200", "", 0, 1},
		{"no such memory", "H200", "", 80, 0},
		{"no such model", "A1000", "", 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.Find(tc.model, tc.form, tc.memGB); len(got) != tc.want {
				t.Errorf("Find(%s, %q, %g) = %v, want %d GPUs", tc.model, tc.form, tc.memGB, got, tc.want)
			}
		})
	}
}

func TestParseCatalogPurchaseErrors(t *testing.T) {
	const head = "gpus:\n  - {model: H100, form: sxm, memory_gb: 80, vendor: nvidia, architecture: hopper, "
	for _, tc := range []struct{ name, yaml, want string }{
		{"price without source", head + "purchase_usd: 30000}\n", "gpu H100 sxm 80GB: purchase_usd needs a purchase_source"},
		{"source without price", head + "purchase_source: a blog}\n", "gpu H100 sxm 80GB: purchase_source without a purchase_usd"},
		{"negative price", head + "purchase_usd: -1, purchase_source: x}\n", "gpu H100 sxm 80GB: purchase_usd -1 is not a price"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCatalog([]byte(tc.yaml))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

// The owned provider maps nvidia-smi's names through the nvidia-smi table.
func TestLookupNvidiaSMI(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		raw   string
		model string
		form  string
		memGB float64
	}{
		{"NVIDIA H200", "H200", "sxm", 141}, // the shared real fixture
		{"NVIDIA H100 80GB HBM3", "H100", "sxm", 80},
		{"NVIDIA A100-SXM4-40GB", "A100", "sxm", 40},
		{"nvidia  a100 80gb pcie", "A100", "pcie", 80},
		{"Tesla T4", "T4", "pcie", 16},
	} {
		t.Run(tc.raw, func(t *testing.T) {
			a, ok := c.Lookup("nvidia-smi", tc.raw)
			if !ok || a.Model != tc.model || a.Form != tc.form || a.MemoryGB != tc.memGB {
				t.Errorf("Lookup = %+v, %v; want %s %s %g", a, ok, tc.model, tc.form, tc.memGB)
			}
		})
	}
	if _, ok := c.Lookup("nvidia-smi", "NVIDIA"); ok {
		t.Error("the bare vendor name resolved")
	}
	for _, a := range c.Aliases("nvidia-smi") {
		if !strings.HasPrefix(a.Raw, "NVIDIA ") && !strings.HasPrefix(a.Raw, "Tesla ") {
			t.Errorf("%q does not look like a driver product name", a.Raw)
		}
	}
}
