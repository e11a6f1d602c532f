package gcp

import (
	"math"
	"testing"

	"cloud.google.com/go/billing/apiv1/billingpb"
	"google.golang.org/genproto/googleapis/type/money"
)

// testSKU builds a catalog entry as the Go client decodes it.
func testSKU(desc, family, group, usage, unit string, units int64, nanos int32) *billingpb.Sku {
	return &billingpb.Sku{
		Description: desc,
		Category:    &billingpb.Category{ServiceDisplayName: "Compute Engine", ResourceFamily: family, ResourceGroup: group, UsageType: usage},
		PricingInfo: []*billingpb.PricingInfo{{PricingExpression: &billingpb.PricingExpression{
			UsageUnit: unit,
			TieredRates: []*billingpb.PricingExpression_TierRate{{
				UnitPrice: &money.Money{CurrencyCode: "USD", Units: units, Nanos: nanos},
			}},
		}}},
	}
}

func TestClassify(t *testing.T) {
	gpu := func(desc, usage string, units int64, nanos int32) *billingpb.Sku {
		return testSKU(desc, "Compute", "GPU", usage, "h", units, nanos)
	}
	for _, tc := range []struct {
		name   string
		sku    *billingpb.Sku
		want   component
		reason string
	}{
		{"on-demand GPU", gpu("Nvidia L4 GPU running in Americas", "OnDemand", 0, 560651000),
			component{kind: kindGPU, name: "nvidia-l4", usd: 0.560651}, ""},
		{"spot GPU, attached-to form", gpu("Nvidia L4 GPU attached to Spot Preemptible VMs running in Netherlands", "Preemptible", 0, 246000000),
			component{kind: kindGPU, name: "nvidia-l4", spot: true, usd: 0.246}, ""},
		{"spot GPU, prefix form", gpu("Spot Preemptible Nvidia Tesla T4 GPU running in Americas", "Preemptible", 0, 140000000),
			component{kind: kindGPU, name: "nvidia-tesla-t4", spot: true, usd: 0.14}, ""},
		{"units and nanos", gpu("Nvidia Tesla A100 GPU running in Americas", "OnDemand", 2, 933908000),
			component{kind: kindGPU, name: "nvidia-tesla-a100", usd: 2.933908}, ""},
		{"A100 80GB renamed", gpu("Nvidia Tesla A100 80GB GPU running in Americas", "OnDemand", 3, 928080000),
			component{kind: kindGPU, name: "nvidia-a100-80gb", usd: 3.92808}, ""},
		{"H100 Plus renamed", gpu("Nvidia H100 80GB Plus GPU running in Americas", "OnDemand", 10, 344275712),
			component{kind: kindGPU, name: "nvidia-h100-mega-80gb", usd: 10.344275712}, ""},
		{"H100 80GB Mega renamed", gpu("Nvidia H100 80GB Mega GPU running in Frankfurt", "OnDemand", 10, 0),
			component{kind: kindGPU, name: "nvidia-h100-mega-80gb", usd: 10}, ""},
		{"H100 Mega 80GB as is", gpu("Nvidia H100 Mega 80GB GPU attached to Spot Preemptible VMs running in Tokyo", "Preemptible", 9, 272460000),
			component{kind: kindGPU, name: "nvidia-h100-mega-80gb", spot: true, usd: 9.27246}, ""},
		{"no vendor", gpu("H200 141GB GPU running in Belgium", "OnDemand", 10, 500000000),
			component{kind: kindGPU, name: "nvidia-h200-141gb", usd: 10.5}, ""},
		{"RTX PRO 6000 without the word GPU", gpu("RTX 6000 96GB running in Oregon", "OnDemand", 4, 500000000),
			component{kind: kindGPU, name: "nvidia-rtx-pro-6000", usd: 4.5}, ""},
		{"RTX PRO 6000 spot", gpu("RTX 6000 96GB attached to Spot Preemptible VMs running in Belgium", "Preemptible", 1, 720000000),
			component{kind: kindGPU, name: "nvidia-rtx-pro-6000", spot: true, usd: 1.72}, ""},
		{"virtual workstation", gpu("Nvidia L4 Virtual Workstation GPU running in Netherlands", "OnDemand", 0, 836000000),
			component{kind: kindGPU, name: "nvidia-l4-vws", usd: 0.836}, ""},
		{"unknown GPU kept", gpu("Nvidia R200 GPU running in Americas", "OnDemand", 14, 200000000),
			component{kind: kindGPU, name: "nvidia-r200", usd: 14.2}, ""},
		{"A4 slice", gpu("A4 Nvidia B200 (1 gpu slice) running in Americas", "OnDemand", 16, 110000000),
			component{kind: kindSlice, family: "a4", name: "nvidia-b200", usd: 16.11}, ""},
		{"spot slice listed as OnDemand", gpu("Spot Preemptible A4 Nvidia B200 (1 gpu slice) running in Americas", "OnDemand", 4, 954200000),
			component{kind: kindSlice, family: "a4", name: "nvidia-b200", spot: true, usd: 4.9542}, ""},
		{"two-word family slice", gpu("A4X Max Nvidia GB300 (1 gpu slice) running in Americas", "OnDemand", 19, 900000000),
			component{kind: kindSlice, family: "a4x-max", name: "nvidia-gb300", usd: 19.9}, ""},
		{"core", testSKU("A3 Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0, 32220000),
			component{kind: kindCore, name: "a3", usd: 0.03222}, ""},
		{"spot RAM", testSKU("Spot Preemptible A2 Instance Ram running in EMEA", "Compute", "RAM", "Preemptible", "GiBy.h", 0, 1695000),
			component{kind: kindRAM, name: "a2", spot: true, usd: 0.001695}, ""},
		{"RAM per GB", testSKU("C4D Instance Ram running in Americas", "Compute", "RAM", "OnDemand", "GBy.h", 0, 1000000),
			component{kind: kindRAM, name: "c4d", usd: 0.001073741824}, ""},
		{"A3Plus is a3-megagpu", testSKU("A3Plus Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0, 29000000),
			component{kind: kindCore, name: "a3-megagpu", usd: 0.029}, ""},
		{"N1 predefined", testSKU("N1 Predefined Instance Ram running in Americas", "Compute", "RAM", "OnDemand", "GiBy.h", 0, 4237000),
			component{kind: kindRAM, name: "n1", usd: 0.004237}, ""},
		{"local SSD per month", testSKU("SSD backed Local Storage", "Storage", "LocalSSD", "OnDemand", "GiBy.mo", 0, 80000000),
			component{kind: kindLocalSSD, usd: 0.08 / 730}, ""},
		{"spot local SSD", testSKU("SSD backed Local Storage attached to Spot Preemptible VMs", "Storage", "LocalSSD", "Preemptible", "GiBy.mo", 0, 64000000),
			component{kind: kindLocalSSD, spot: true, usd: 0.064 / 730}, ""},

		{"sole tenancy", gpu("Nvidia Tesla T4 GPU attached to Sole Tenancy VMs running in Americas", "OnDemand", 0, 300000000), component{}, dropSoleTenancy},
		{"reserved", testSKU("Reserved A3 Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0, 1), component{}, dropReserved},
		{"commitment usage type", gpu("Commitment v1: Nvidia L4 GPU running in Americas for 1 Year", "Commit1Yr", 0, 353000000), component{}, dropUsage},
		{"commitment description", gpu("Commitment v1: H200 141GB GPU running in Americas for 3 Years", "OnDemand", 4, 0), component{}, dropCommitment},
		{"premium", gpu("Premium Nvidia Tesla V100 GPU running in Americas", "OnDemand", 1, 0), component{}, dropPremium},
		{"custom", testSKU("N1 Custom Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0, 1), component{}, dropCustom},
		{"DWS defined duration", gpu("Nvidia H100 Mega 80GB GPU attached to DWS Defined Duration VMs running in Americas", "OnDemand", 6, 0), component{}, dropDWS},
		{"DWS calendar mode", gpu("DWS Calendar Mode A4 Nvidia B200 (1 gpu slice) running in Americas", "OnDemand", 10, 0), component{}, dropDWS},
		{"TPU", testSKU("Tpu-v6e chip running in Americas", "Compute", "TPU", "OnDemand", "h", 2, 0), component{}, dropTPU},
		{"family local SSD", testSKU("C4D Instance Local SSD running in Americas", "Storage", "LocalSSD", "OnDemand", "GiBy.mo", 0, 1), component{}, dropOther},
		{"persistent disk", testSKU("SSD backed PD Capacity", "Storage", "SSD", "OnDemand", "GiBy.mo", 0, 1), component{}, dropOther},
		{"network", testSKU("Network Internet Egress from Americas to EMEA", "Network", "PremiumInternetEgress", "OnDemand", "GiBy", 0, 1), component{}, dropOther},
		{"licence", testSKU("Licensing Fee for Windows Server (CPU cost)", "License", "Licensing Fee", "OnDemand", "h", 0, 1), component{}, dropOther},
		{"GPU per month", testSKU("Nvidia L4 GPU running in Americas", "Compute", "GPU", "OnDemand", "mo", 400, 0), component{}, dropUnit},
		{"core per GiB", testSKU("A3 Instance Core running in Americas", "Compute", "CPU", "OnDemand", "GiBy.h", 0, 1), component{}, dropUnit},
		{"no price", &billingpb.Sku{Description: "Nvidia L4 GPU running in Americas",
			Category: &billingpb.Category{ResourceFamily: "Compute", ResourceGroup: "GPU", UsageType: "OnDemand"}}, component{}, dropNoPrice},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := classify(tc.sku)
			if reason != tc.reason {
				t.Fatalf("reason %q, want %q", reason, tc.reason)
			}
			if math.Abs(got.usd-tc.want.usd) > 1e-12 {
				t.Errorf("usd %.12f, want %.12f", got.usd, tc.want.usd)
			}
			got.usd, tc.want.usd = 0, 0
			if got != tc.want {
				t.Errorf("component %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestClassifyCurrency(t *testing.T) {
	s := testSKU("Nvidia L4 GPU running in Americas", "Compute", "GPU", "OnDemand", "h", 0, 500000000)
	s.PricingInfo[0].PricingExpression.TieredRates[0].UnitPrice.CurrencyCode = "EUR"
	if _, reason := classify(s); reason != dropCurrency {
		t.Errorf("a EUR price: reason %q, want %q", reason, dropCurrency)
	}
}

// TestClassifyTiers checks that the tier starting at zero usage is the
// price, wherever it is listed.
func TestClassifyTiers(t *testing.T) {
	s := testSKU("Nvidia L4 GPU running in Americas", "Compute", "GPU", "OnDemand", "h", 9, 0)
	rates := s.PricingInfo[0].PricingExpression.TieredRates
	s.PricingInfo[0].PricingExpression.TieredRates = []*billingpb.PricingExpression_TierRate{
		{StartUsageAmount: 100, UnitPrice: &money.Money{CurrencyCode: "USD", Nanos: 500000000}}, rates[0],
	}
	c, reason := classify(s)
	if reason != "" || c.usd != 9 {
		t.Errorf("got %+v (%q), want the zero tier's 9 USD", c, reason)
	}
}

func TestAcceleratorType(t *testing.T) {
	for gpu, want := range map[string]string{
		"Nvidia Tesla T4":                     "nvidia-tesla-t4",
		"Nvidia  Tesla  V100":                 "nvidia-tesla-v100",
		"Nvidia Tesla A100 80GB":              "nvidia-a100-80gb",
		"Nvidia H100 80GB Plus":               "nvidia-h100-mega-80gb",
		"H200 141GB":                          "nvidia-h200-141gb",
		"RTX 6000 96GB":                       "nvidia-rtx-pro-6000",
		"RTX 6000 96GB Virtual Workstation":   "nvidia-rtx-pro-6000-vws",
		"Nvidia Tesla P4 Virtual Workstation": "nvidia-tesla-p4-vws",
		"AMD Instinct MI300X":                 "amd-instinct-mi300x",
		"":                                    "",
	} {
		if got := acceleratorType(gpu); got != want {
			t.Errorf("acceleratorType(%q) = %q, want %q", gpu, got, want)
		}
	}
}
