package planner

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

func TestCheckGPU(t *testing.T) {
	for _, tc := range []struct {
		name string
		r    Request
		want string // "" for none
	}{
		{"known", Request{GPUModel: "H100"}, ""},
		{"known variant", Request{GPUModel: "A100", GPUMemoryGB: 40}, ""},
		{"typo", Request{GPUModel: "H10"}, `gpu_model: "H10" is not a GPU model of the catalog; close matches: H100, H100NVL, `},
		{"spaces and vendor", Request{GPUModel: "NVIDIA RTX 4090"}, `close matches: RTX4090`},
		{"part of a name", Request{GPUModel: "4090"}, `close matches: RTX4090`},
		{"nothing close", Request{GPUModel: "QUANTUM9000X"}, `gpu_model: "QUANTUM9000X" is not a GPU model of the catalog (every model: /api/v1/gpus)`},
		{"memory the model has not", Request{GPUModel: "A100", GPUMemoryGB: 48}, "gpu_memory_gb: the catalog has no A100 48GB; it has A100"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.r.CheckGPU(nil)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("error %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("error %v, want one with %q", err, tc.want)
			}
		})
	}
}

func TestCloseModels(t *testing.T) {
	cat := price.DefaultCatalog()
	for name, want := range map[string]string{
		"h100":     "H100",    // the same, as a person types it
		"rtx-6000": "RTX6000", // exactly one, written differently
		"6000 ada": "RTX6000ADA",
		"MI300":    "MI300X",
		"A6000ADA": "A6000",
	} {
		got := CloseModels(cat, name, 5)
		if !slices.Contains(got, want) {
			t.Errorf("CloseModels(%q) = %v, want %s among them", name, got, want)
		}
	}
	if got := CloseModels(cat, "H10", 2); len(got) != 2 {
		t.Errorf("n not honoured: %v", got)
	}
}

// The plan says on how many days of history its prices rest, and warns
// when fewer than the window: the test history's spot series starts 2h
// before the window's start, so a longer window outreaches it.
func TestHistoryDays(t *testing.T) {
	p := plan(t, Request{GPUModel: "H100", GPUHours: 1000})
	for _, rp := range p.Prices {
		if rp.KnownSince == nil || !rp.KnownSince.Equal(start) || !near(rp.HistoryDays, 10.0/24) {
			t.Errorf("%s: known since %v, %v days; want %v, 10h", rp.PricingModel, rp.KnownSince, rp.HistoryDays, start)
		}
	}
	if len(p.Warnings) != 0 {
		t.Errorf("warnings with a full window: %q", p.Warnings)
	}

	p = plan(t, Request{GPUModel: "H100", GPUHours: 1000, Window: Duration(2 * 24 * time.Hour), Step: Duration(time.Hour), End: end})
	spot := p.Prices[1]
	if spot.KnownSince == nil || !spot.KnownSince.Equal(at(-2)) || !near(spot.HistoryDays, 12.0/24) {
		t.Errorf("spot: known since %v, %v days; want %v, 12h", spot.KnownSince, spot.HistoryDays, at(-2))
	}
	want := "spot prices rest on 12h of history (since 2026-10-31T12:00:00Z), fewer than the 2d window asked: the store has no earlier spot price of H100"
	if !slices.Contains(p.Warnings, want) {
		t.Errorf("warnings %q\nwant %q", p.Warnings, want)
	}
	for _, n := range p.Notes {
		if strings.Contains(n, "were known for only") {
			t.Errorf("the coverage note repeats the warning: %q", n)
		}
	}
}

func TestDays(t *testing.T) {
	for d, want := range map[float64]string{0.5: "12h", 1: "1 day", 1.01: "1 day", 2.5: "2.5 days", 9.96: "10 days", 30: "30 days", 45.4: "45 days"} {
		if got := days(d); got != want {
			t.Errorf("days(%v) = %q, want %q", d, got, want)
		}
	}
}
