package lambda

import (
	"context"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/collectors/collectortest"
	"github.com/gpuprice/gpuprice/fakecloud"
	"github.com/gpuprice/gpuprice/price"
)

// TestTypesWithoutGPUDescription: a type whose answer has no
// gpu_description is priced from its description, or else from its name
// ("gpu_8x_h100_sxm5", "gpu_1x_gh200"); one whose GPU none of them names
// is kept as UNKNOWN, never dropped. CPU types are no GPUs.
func TestTypesWithoutGPUDescription(t *testing.T) {
	const body = `{"data": {
	  "gpu_8x_h100_sxm5": {"instance_type": {"name": "gpu_8x_h100_sxm5", "description": "8x H100 (80 GB SXM5)", "price_cents_per_hour": 2392, "specs": {"gpus": 8}}, "regions_with_capacity_available": []},
	  "gpu_1x_gh200": {"instance_type": {"name": "gpu_1x_gh200", "description": "", "price_cents_per_hour": 149, "specs": {}}, "regions_with_capacity_available": [{"name": "us-east-3"}]},
	  "gpu_4x_b200_sxm6": {"instance_type": {"name": "gpu_4x_b200_sxm6", "price_cents_per_hour": 2396, "specs": {"gpus": 4}}, "regions_with_capacity_available": []},
	  "gpu_2x_a100_80gb_sxm4": {"instance_type": {"name": "gpu_2x_a100_80gb_sxm4", "description": "2x A100", "gpu_description": null, "price_cents_per_hour": 358}, "regions_with_capacity_available": []},
	  "gpu_8x_r200_sxm7": {"instance_type": {"name": "gpu_8x_r200_sxm7", "price_cents_per_hour": 9992}, "regions_with_capacity_available": []},
	  "gpu_2x_mystery": {"instance_type": {"name": "gpu_2x_mystery", "description": "2x Mystery X9 (141 GB)", "price_cents_per_hour": 1999}, "regions_with_capacity_available": []},
	  "cpu_4x_general": {"instance_type": {"name": "cpu_4x_general", "description": "4x vCPU", "price_cents_per_hour": 10, "specs": {"gpus": 0}}, "regions_with_capacity_available": []}
	}}`
	regions := []string{"us-east-3"}
	c := newCollector(t, collectortest.Serve(t, fakecloud.Answer(body)), func(c *Config) { c.Regions = regions }, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	collectortest.SameQuotes(t, snap.Quotes, quotes([]instanceType{
		// From the name: the catalog lists the names' GPU part.
		{"gpu_1x_gh200", "gpu_Nx_gh200", "GH200", "", 96, 1, 1.49, []string{"us-east-3"}, 0, 0},
		// The description "2x A100" names no catalog GPU; the name does.
		{"gpu_2x_a100_80gb_sxm4", "gpu_Nx_a100_80gb_sxm4", "A100", "sxm", 80, 2, 3.58, nil, 0, 0},
		// An unknown GPU keeps the description as its raw name, and its
		// memory.
		{"gpu_2x_mystery", "Mystery X9 (141 GB)", price.Unknown, "", 141, 2, 19.99, nil, 0, 0},
		{"gpu_4x_b200_sxm6", "gpu_Nx_b200_sxm6", "B200", "sxm", 180, 4, 23.96, nil, 0, 0},
		// From the description without its "8x ".
		{"gpu_8x_h100_sxm5", "H100 (80 GB SXM5)", "H100", "sxm", 80, 8, 23.92, nil, 0, 0},
		// Nothing names a known GPU: UNKNOWN, the name without its count
		// as raw name, the count from the name.
		{"gpu_8x_r200_sxm7", "gpu_Nx_r200_sxm7", price.Unknown, "", 0, 8, 99.92, nil, 0, 0},
	}, regions))
	if len(snap.Skipped) != 0 {
		t.Errorf("skipped %v, want nothing: every GPU type is priced", snap.Skipped)
	}
}

// TestBadTypesAreSkippedAndCounted: a type whose price is null, missing,
// zero, negative or a string, or whose GPU count or name has the wrong
// type, is skipped and counted; the others are priced. An answer none of
// whose types can be read is a decode failure.
func TestBadTypesAreSkippedAndCounted(t *testing.T) {
	const good = `"gpu_1x_a10": {"instance_type": {"name": "gpu_1x_a10", "description": "1x A10 (24 GB PCIe)", "gpu_description": "A10 (24 GB PCIe)", "price_cents_per_hour": 75, "specs": {"gpus": 1}}, "regions_with_capacity_available": [{"name": "us-east-1"}]}`
	bad := []string{
		`"gpu_1x_h100_pcie": {"instance_type": {"name": "gpu_1x_h100_pcie", "gpu_description": "H100 (80 GB PCIe)", "price_cents_per_hour": null, "specs": {"gpus": 1}}}`,
		`"gpu_1x_h100_sxm5": {"instance_type": {"name": "gpu_1x_h100_sxm5", "gpu_description": "H100 (80 GB SXM5)", "specs": {"gpus": 1}}}`,
		`"gpu_1x_a6000": {"instance_type": {"name": "gpu_1x_a6000", "gpu_description": "A6000 (48 GB)", "price_cents_per_hour": 0, "specs": {"gpus": 1}}}`,
		`"gpu_1x_rtx6000": {"instance_type": {"name": "gpu_1x_rtx6000", "gpu_description": "RTX 6000 (24 GB)", "price_cents_per_hour": -50, "specs": {"gpus": 1}}}`,
		`"gpu_8x_v100": {"instance_type": {"name": "gpu_8x_v100", "gpu_description": "Tesla V100 (16 GB)", "price_cents_per_hour": "440", "specs": {"gpus": 8}}}`,
		`"gpu_1x_gh200": {"instance_type": {"name": "gpu_1x_gh200", "gpu_description": "GH200 (96 GB)", "price_cents_per_hour": 149, "specs": {"gpus": "1"}}}`,
		`"gpu_1x_a100": {"instance_type": {"name": 100, "gpu_description": "A100 (40 GB PCIe)", "price_cents_per_hour": 129, "specs": {"gpus": 1}}}`,
		`"gpu_2x_a100": "A100"`,
	}
	body := `{"data": {` + good + `, ` + strings.Join(bad, ", ") + `}}`
	regions := []string{"us-east-1"}
	c := newCollector(t, collectortest.Serve(t, fakecloud.Answer(body)), func(c *Config) { c.Regions = regions }, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	collectortest.SameQuotes(t, snap.Quotes, quotes([]instanceType{
		{"gpu_1x_a10", "A10 (24 GB PCIe)", "A10", "pcie", 24, 1, 0.75, regions, 0, 0},
	}, regions))
	if got := snap.Skipped[price.SkippedInvalid]; got != len(bad) {
		t.Errorf("skipped %v, want %s: %d", snap.Skipped, price.SkippedInvalid, len(bad))
	}

	t.Run("no type readable", func(t *testing.T) {
		body := `{"data": {` + strings.Join(bad[4:], ", ") + `}}`
		_, err := newCollector(t, collectortest.Serve(t, fakecloud.Answer(body)), nil, nil).Collect(context.Background())
		if got := collectors.Reason(err); got != "decode" || !strings.Contains(err.Error(), "none of 4 instance types could be read") {
			t.Errorf("reason %q (err %v), want decode: none of 4 instance types could be read", got, err)
		}
	})
}

// TestCapacityStates: stock is available or none where the answer lists
// capacity (an empty list: none anywhere), and unknown where it has no
// list at all, never "not rentable" for want of an answer.
func TestCapacityStates(t *testing.T) {
	typ := func(name, capacity string) string {
		s := `"` + name + `": {"instance_type": {"name": "` + name + `", "description": "1x A10 (24 GB PCIe)", "gpu_description": "A10 (24 GB PCIe)", "price_cents_per_hour": 75, "specs": {"gpus": 1}}`
		if capacity != "" {
			s += `, "regions_with_capacity_available": ` + capacity
		}
		return s + "}"
	}
	body := `{"data": {` + strings.Join([]string{
		typ("gpu_1x_a10", `[{"name": "us-east-1", "description": "Virginia, USA"}]`),
		typ("gpu_2x_a10", `[]`),
		typ("gpu_4x_a10", `null`),
		typ("gpu_8x_a10", ``),
	}, ",") + `}}`
	c := newCollector(t, collectortest.Serve(t, fakecloud.Answer(body)), func(c *Config) { c.Regions = []string{"us-east-1", "us-west-1"} }, nil)
	snap, err := c.Collect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, instanceType string
		east, west         price.Stock
	}{
		{"capacity in one region", "gpu_1x_a10", price.StockAvailable, price.StockNone},
		{"an empty list: none anywhere", "gpu_2x_a10", price.StockNone, price.StockNone},
		{"a null list: unknown", "gpu_4x_a10", price.StockUnknown, price.StockUnknown},
		{"no list: unknown", "gpu_8x_a10", price.StockUnknown, price.StockUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string]price.Stock{}
			for _, q := range snap.Quotes {
				if q.InstanceType == tc.instanceType {
					got[q.Region] = q.Stock
				}
			}
			if len(got) != 2 || got["us-east-1"] != tc.east || got["us-west-1"] != tc.west {
				t.Errorf("stocks %v, want us-east-1 %q, us-west-1 %q", got, tc.east, tc.west)
			}
		})
	}
}
