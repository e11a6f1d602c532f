package price

import (
	"math"
	"testing"
)

// FuzzCatalogLookup: any raw GPU or instance name a provider sends, and any
// memory figure, maps to a catalog GPU or to nothing, never to a model the
// catalog lacks; snapped memory is finite and never negative.
func FuzzCatalogLookup(f *testing.F) {
	for _, s := range []struct {
		provider, raw string
		mib           float64
	}{
		{"azure", "Standard_ND96isr_H100_v5", 81559},
		{"vastai", "  rtx   4090 ", 24564},
		{"gcp", "nvidia-tesla-a100-80gb", 0},
		{"aws", "NVIDIA H100", -1},
		{"runpod", "NVIDIA A100 80GB PCIe", math.Inf(1)},
		{"nvidia-smi", "NVIDIA H200", math.NaN()},
		{"", "", 1e308},
	} {
		f.Add(s.provider, s.raw, s.mib)
	}
	c := DefaultCatalog()
	f.Fuzz(func(t *testing.T, provider, raw string, mib float64) {
		a, ok := c.Lookup(provider, raw)
		if ok && c.Vendor(a.Model) == "" {
			t.Fatalf("Lookup(%q, %q) = %+v: a model the catalog does not list", provider, raw, a)
		}
		model := a.Model
		if !ok {
			model = raw
		}
		for _, form := range []string{"", "sxm", "pcie"} {
			if gb := c.SnapMemory(model, form, mib); math.IsNaN(gb) || math.IsInf(gb, 0) || gb < 0 {
				t.Fatalf("SnapMemory(%q, %q, %g) = %g", model, form, mib, gb)
			}
		}
	})
}
