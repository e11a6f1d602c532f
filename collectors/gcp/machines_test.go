package gcp

import (
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/price"
)

// TestMachineShapes checks the table against itself and the catalog: every
// GPU known, names unique and carrying their GPU count, local SSD in whole
// 375 GiB partitions.
func TestMachineShapes(t *testing.T) {
	cat := price.DefaultCatalog()
	seen := map[string]bool{}
	for _, s := range machineShapes {
		if seen[s.name] {
			t.Errorf("%s listed twice", s.name)
		}
		seen[s.name] = true
		if _, ok := cat.Lookup(Name, s.accelerator); !ok {
			t.Errorf("%s: accelerator %s is not in the catalog's gcp aliases", s.name, s.accelerator)
		}
		if s.vCPUs <= 0 || s.memoryGiB <= 0 || s.gpus <= 0 || s.localSSDGiB%375 != 0 {
			t.Errorf("%s: implausible shape %+v", s.name, s)
		}
		// a2-highgpu-8g, a3-megagpu-8g: the digits before "g" are the GPUs;
		// g2-standard-N names its vCPUs instead.
		if series, _, _ := strings.Cut(s.name, "-"); series != "g2" {
			if !strings.Contains(s.name, "-"+strconv.Itoa(s.gpus)+"g") {
				t.Errorf("%s: name does not say its %d GPUs", s.name, s.gpus)
			}
		} else if !strings.HasSuffix(s.name, "-"+strconv.Itoa(s.vCPUs)) {
			t.Errorf("%s: name does not say its %d vCPUs", s.name, s.vCPUs)
		}
	}
	for _, want := range []string{"a2-highgpu-1g", "a2-megagpu-16g", "a2-ultragpu-8g", "a3-highgpu-8g", "a3-megagpu-8g",
		"a3-edgegpu-8g", "a3-ultragpu-8g", "a4-highgpu-8g", "g2-standard-96"} {
		if !seen[want] {
			t.Errorf("%s missing", want)
		}
	}
}

// TestMachinePrice checks the whole-machine arithmetic against totals
// computed by hand.
func TestMachinePrice(t *testing.T) {
	od := where{"us-central1", false}
	spot := where{"us-central1", true}
	p := newPrices()
	p.add(component{kind: kindCore, name: "a3", usd: 0.03222}, []string{"us-central1"})
	p.add(component{kind: kindRAM, name: "a3", usd: 0.002817}, []string{"us-central1"})
	p.add(component{kind: kindGPU, name: "nvidia-h100-80gb", usd: 11.06}, []string{"us-central1"})
	p.add(component{kind: kindLocalSSD, usd: 0.08 / 730}, []string{"us-central1"})
	p.add(component{kind: kindCore, name: "g2", usd: 0.024988}, []string{"us-central1"})
	p.add(component{kind: kindRAM, name: "g2", usd: 0.002927}, []string{"us-central1"})
	p.add(component{kind: kindGPU, name: "nvidia-l4", usd: 0.560651}, []string{"us-central1"})
	// A4: a slice price, and component prices that must not be used.
	p.add(component{kind: kindSlice, family: "a4", name: "nvidia-b200", usd: 16.11}, []string{"us-central1"})
	p.add(component{kind: kindCore, name: "a4", usd: 1}, []string{"us-central1"})
	p.add(component{kind: kindRAM, name: "a4", usd: 1}, []string{"us-central1"})
	p.add(component{kind: kindGPU, name: "nvidia-b200", usd: 1}, []string{"us-central1"})
	// Spot: only the A3 GPU, and a cheaper duplicate of it (the lower wins).
	p.add(component{kind: kindGPU, name: "nvidia-h100-80gb", spot: true, usd: 2.5}, []string{"us-central1"})
	p.add(component{kind: kindGPU, name: "nvidia-h100-80gb", spot: true, usd: 2.253}, []string{"us-central1"})
	p.add(component{kind: kindCore, name: "a3", spot: true, usd: 0.010314}, []string{"us-central1"})
	p.add(component{kind: kindRAM, name: "a3", spot: true, usd: 0.000902}, []string{"us-central1"})

	shape := func(name string) machine {
		for _, s := range machineShapes {
			if s.name == name {
				return s
			}
		}
		t.Fatalf("no shape %s", name)
		return machine{}
	}
	for _, tc := range []struct {
		name    string
		machine string
		w       where
		want    float64
		ok      bool
	}{
		// 104 × 0.03222 + 936 × 0.002817 + 4 × 11.06 + 3000 × 0.08/730
		// = 3.35088 + 2.636712 + 44.24 + 0.328767123 = 50.556359123
		{"a3-highgpu-4g with local SSD", "a3-highgpu-4g", od, 50.556359123, true},
		// 208 × 0.03222 + 1872 × 0.002817 + 8 × 11.06 + 6000 × 0.08/730
		// = 6.70176 + 5.273424 + 88.48 + 0.657534247 = 101.112718247
		{"a3-highgpu-8g", "a3-highgpu-8g", od, 101.112718247, true},
		// 24 × 0.024988 + 96 × 0.002927 + 2 × 0.560651
		// = 0.599712 + 0.280992 + 1.121302 = 2.002006
		{"g2-standard-24", "g2-standard-24", od, 2.002006, true},
		// 4 × 0.024988 + 16 × 0.002927 + 0.560651 = 0.099952 + 0.046832 + 0.560651
		{"g2-standard-4", "g2-standard-4", od, 0.707435, true},
		// 8 × 16.11: the slice price, not the components
		{"a4 priced per slice", "a4-highgpu-8g", od, 128.88, true},
		{"spot local SSD missing", "a3-highgpu-8g", spot, 0, false},
		{"another region", "g2-standard-4", where{"europe-west4", false}, 0, false},
		{"no RAM price", "a2-highgpu-1g", od, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := p.machinePrice(shape(tc.machine), tc.w)
			if ok != tc.ok || math.Abs(got-tc.want) > 1e-9 {
				t.Errorf("machinePrice = %.9f, %v; want %.9f, %v", got, ok, tc.want, tc.ok)
			}
		})
	}
	if got := p.gpu["nvidia-h100-80gb"][spot]; got != 2.253 {
		t.Errorf("duplicate spot GPU price: kept %v, want the lower 2.253", got)
	}
	if p.conflicts != 1 {
		t.Errorf("%d conflicts, want 1", p.conflicts)
	}
}
