package price

import (
	"math"
	"sort"
	"strings"
	"testing"
)

// providers are the alias tables the collectors rely on.
var providers = []string{"aws", "gcp", "azure", "vastai", "runpod", "lambda", "verda", "akash", "oci", "scaleway", "digitalocean", "ovhcloud", "golem"}

func TestEmbeddedCatalogParses(t *testing.T) {
	c, err := ParseCatalog(catalogYAML)
	if err != nil {
		t.Fatalf("embedded catalog: %v", err)
	}
	if DefaultCatalog() == nil {
		t.Fatal("DefaultCatalog() = nil")
	}
	gpus := c.GPUs()
	if !sort.SliceIsSorted(gpus, func(i, j int) bool {
		a, b := gpus[i], gpus[j]
		if a.Model != b.Model {
			return a.Model < b.Model
		}
		if a.Form != b.Form {
			return a.Form < b.Form
		}
		return a.MemoryGB < b.MemoryGB
	}) {
		t.Error("GPUs() is not sorted by model, form and memory")
	}
	for _, p := range providers {
		if len(c.Aliases(p)) == 0 {
			t.Errorf("no alias table for %s", p)
		}
	}
}

// Every alias must resolve to itself through Lookup and to at least one
// catalog GPU whose vendor is known.
func TestEveryAliasResolves(t *testing.T) {
	c := DefaultCatalog()
	for _, p := range providers {
		for _, a := range c.Aliases(p) {
			got, ok := c.Lookup(p, a.Raw)
			if !ok || got != a {
				t.Errorf("%s: Lookup(%q) = %+v, %v; want %+v", p, a.Raw, got, ok, a)
			}
			if c.Vendor(a.Model) == "" {
				t.Errorf("%s: %q maps to %s, which has no vendor", p, a.Raw, a.Model)
			}
			if !c.has(a.Model, a.Form, a.MemoryGB) {
				t.Errorf("%s: %q matches no GPU", p, a.Raw)
			}
		}
	}
}

// Azure prices whole VM sizes, so every Azure alias must say how many GPUs
// the size has; the other providers give the count in the offer.
func TestAzureAliasesHaveCounts(t *testing.T) {
	for _, a := range DefaultCatalog().Aliases("azure") {
		if a.Count <= 0 {
			t.Errorf("azure %s has no GPU count", a.Raw)
		}
	}
}

func TestCanonicalModelsAreUpperCase(t *testing.T) {
	for _, g := range DefaultCatalog().GPUs() {
		if g.Model != strings.ToUpper(g.Model) {
			t.Errorf("model %q is not upper-case", g.Model)
		}
	}
}

type lookupCase struct {
	raw   string
	model string // "" means the raw name must be unknown
	form  string
	mem   float64
	count float64
}

func testLookups(t *testing.T, provider string, cases []lookupCase) {
	t.Helper()
	c := DefaultCatalog()
	for _, tc := range cases {
		t.Run(tc.raw, func(t *testing.T) {
			a, ok := c.Lookup(provider, tc.raw)
			if tc.model == "" {
				if ok {
					t.Fatalf("Lookup(%s, %q) = %+v, want unknown", provider, tc.raw, a)
				}
				return
			}
			if !ok {
				t.Fatalf("Lookup(%s, %q) unknown, want %s", provider, tc.raw, tc.model)
			}
			if a.Model != tc.model || a.Form != tc.form || a.MemoryGB != tc.mem || a.Count != tc.count {
				t.Errorf("Lookup(%s, %q) = %s/%q/%g/%g, want %s/%q/%g/%g", provider, tc.raw,
					a.Model, a.Form, a.MemoryGB, a.Count, tc.model, tc.form, tc.mem, tc.count)
			}
		})
	}
}

func TestLookupAWS(t *testing.T) {
	testLookups(t, "aws", []lookupCase{
		{raw: "NVIDIA H100", model: "H100", form: "sxm", mem: 80},
		{raw: "NVIDIA H200", model: "H200", form: "sxm", mem: 141},
		{raw: "NVIDIA B200", model: "B200", form: "sxm", mem: 180},
		{raw: "NVIDIA B300", model: "B300", form: "sxm", mem: 288},
		{raw: "NVIDIA A100", model: "A100", form: "sxm"}, // 40 or 80: snapped from MiB
		{raw: "NVIDIA V100", model: "V100", form: "sxm"}, // 16 or 32
		{raw: "NVIDIA A10G", model: "A10G", form: "pcie", mem: 24},
		{raw: "NVIDIA L4", model: "L4", form: "pcie", mem: 24},
		{raw: "NVIDIA L40S", model: "L40S", form: "pcie", mem: 48},
		{raw: "NVIDIA T4", model: "T4", form: "pcie", mem: 16},
		{raw: "NVIDIA T4g", model: "T4G", form: "pcie", mem: 16},
		{raw: "NVIDIA K80", model: "K80", form: "pcie", mem: 12},
		{raw: "NVIDIA M60", model: "M60", form: "pcie", mem: 8},
		{raw: "AMD Radeon Pro V520", model: "V520", form: "pcie", mem: 8},
		{raw: "NVIDIA RTX PRO Server 6000", model: "RTXPRO6000", form: "pcie", mem: 96},
		{raw: "NVIDIA RTX PRO 4500", model: "RTXPRO4500", form: "pcie", mem: 32},
		{raw: "nvidia  h100", model: "H100", form: "sxm", mem: 80}, // case and spaces ignored
		// The p5en bug: the bare vendor name must never resolve.
		{raw: "NVIDIA NVIDIA"},
		{raw: "NVIDIA"},
		{raw: "H100"}, // the name without its manufacturer
		{raw: "NVIDIA H100 80GB HBM3"},
		{raw: "AWS Trainium2"},
		{raw: ""},
	})
}

func TestLookupGCP(t *testing.T) {
	testLookups(t, "gcp", []lookupCase{
		{raw: "nvidia-tesla-a100", model: "A100", form: "sxm", mem: 40},
		{raw: "nvidia-a100-80gb", model: "A100", form: "sxm", mem: 80},
		{raw: "nvidia-tesla-a100-80gb", model: "A100", form: "sxm", mem: 80},
		{raw: "nvidia-h100-80gb", model: "H100", form: "sxm", mem: 80},
		{raw: "nvidia-h100-mega-80gb", model: "H100", form: "sxm", mem: 80},
		{raw: "nvidia-h100-80gb-mega", model: "H100", form: "sxm", mem: 80},
		{raw: "nvidia-h200-141gb", model: "H200", form: "sxm", mem: 141},
		{raw: "nvidia-b200", model: "B200", form: "sxm", mem: 180},
		{raw: "nvidia-gb200", model: "GB200", mem: 186},
		{raw: "nvidia-gb300", model: "GB300", mem: 288},
		{raw: "nvidia-l4", model: "L4", form: "pcie", mem: 24},
		{raw: "nvidia-l4-vws", model: "L4", form: "pcie", mem: 24},
		{raw: "nvidia-tesla-t4", model: "T4", form: "pcie", mem: 16},
		{raw: "nvidia-tesla-v100", model: "V100", form: "sxm", mem: 16},
		{raw: "nvidia-tesla-p100", model: "P100", form: "pcie", mem: 16},
		{raw: "nvidia-tesla-p4", model: "P4", form: "pcie", mem: 8},
		{raw: "nvidia-rtx-pro-6000", model: "RTXPRO6000", form: "pcie", mem: 96},
		{raw: "NVIDIA-L4", model: "L4", form: "pcie", mem: 24},
		{raw: "nvidia-tesla-a10"},
		{raw: "nvidia-a100"},
		{raw: "Nvidia Tesla A100"}, // a SKU description, not yet turned into a type name
		{raw: "tpu-v5p-slice"},
		{raw: "nvidia-h100"},
	})
}

func TestLookupAzure(t *testing.T) {
	testLookups(t, "azure", []lookupCase{
		{raw: "Standard_ND96isr_H100_v5", model: "H100", form: "sxm", mem: 80, count: 8},
		{raw: "Standard_ND96isr_H200_v5", model: "H200", form: "sxm", mem: 141, count: 8},
		{raw: "Standard_NC40ads_H100_v5", model: "H100NVL", form: "pcie", mem: 94, count: 1},
		{raw: "Standard_NC80adis_H100_v5", model: "H100NVL", form: "pcie", mem: 94, count: 2},
		{raw: "Standard_NC24ads_A100_v4", model: "A100", form: "pcie", mem: 80, count: 1},
		{raw: "Standard_ND96asr_v4", model: "A100", form: "sxm", mem: 40, count: 8},
		{raw: "Standard_ND96amsr_A100_v4", model: "A100", form: "sxm", mem: 80, count: 8},
		{raw: "Standard_NC4as_T4_v3", model: "T4", form: "pcie", mem: 16, count: 1},
		{raw: "Standard_NC64as_T4_v3", model: "T4", form: "pcie", mem: 16, count: 4},
		{raw: "Standard_NV6ads_A10_v5", model: "A10", form: "pcie", mem: 24, count: 0.1667},
		{raw: "Standard_NV72ads_A10_v5", model: "A10", form: "pcie", mem: 24, count: 2},
		{raw: "Standard_ND40rs_v2", model: "V100", form: "sxm", mem: 32, count: 8},
		{raw: "Standard_ND96isr_MI300X_v5", model: "MI300X", mem: 192, count: 8},
		{raw: "Standard_ND128isr_NDR_GB200_v6", model: "GB200", mem: 186, count: 4},
		{raw: "Standard_ND128isr_GB300_v6", model: "GB300", mem: 288, count: 4},
		{raw: "Standard_NV4as_v4", model: "MI25", form: "pcie", mem: 16, count: 0.125},
		{raw: "Standard_NC128ds_xl_RTXPRO6000BSE_v6", model: "RTXPRO6000", form: "pcie", mem: 96, count: 1},
		{raw: "standard_nd96isr_h100_v5", model: "H100", form: "sxm", mem: 80, count: 8}, // the SKU API's casing varies
		{raw: "ND96isr H100 v5"}, // meterName, not armSkuName
		{raw: "Standard_D4s_v5"},
		{raw: "Standard_NC6"}, // retired K80 size
		{raw: "Standard_ND96isr_H100_v5 Spot"},
		{raw: "Standard_NC8ads_A10_v4", model: "A10", form: "pcie", mem: 24, count: 1},
		{raw: "Standard_NC32ads_A10_v4", model: "A10", form: "pcie", mem: 24, count: 2},
	})
}

func TestLookupVastai(t *testing.T) {
	testLookups(t, "vastai", []lookupCase{
		{raw: "H100 SXM", model: "H100", form: "sxm", mem: 80},
		{raw: "H100 PCIE", model: "H100", form: "pcie", mem: 80},
		{raw: "H100 NVL", model: "H100NVL", form: "pcie", mem: 94},
		{raw: "H200 NVL", model: "H200NVL", form: "pcie", mem: 141},
		{raw: "A100 SXM4", model: "A100", form: "sxm"},
		{raw: "A100 PCIE", model: "A100", form: "pcie"},
		{raw: "A100X", model: "A100", form: "pcie", mem: 80},
		{raw: "RTX 4090", model: "RTX4090", form: "pcie", mem: 24},
		{raw: "RTX 4070S Ti", model: "RTX4070TIS", form: "pcie", mem: 16},
		{raw: "RTX 5090", model: "RTX5090", form: "pcie", mem: 32},
		{raw: "RTX 6000Ada", model: "RTX6000ADA", form: "pcie", mem: 48},
		{raw: "RTX A6000", model: "A6000", form: "pcie", mem: 48},
		{raw: "Q RTX 8000", model: "RTX8000", form: "pcie", mem: 48},
		{raw: "RTX PRO 6000 WS", model: "RTXPRO6000", form: "pcie", mem: 96},
		{raw: "RTX 3060", model: "RTX3060", form: "pcie"}, // 8 or 12 GB
		{raw: "Tesla V100", model: "V100"},
		{raw: "A10g", model: "A10G", form: "pcie", mem: 24},
		{raw: "InstinctMI250X", model: "MI250X", mem: 128},
		{raw: "Pro V620", model: "V620", form: "pcie", mem: 32},
		{raw: "RTX4090"}, // the query shorthand, not an offer's gpu_name
		{raw: "H100"},    // neither SXM nor PCIE
		{raw: "RTX 4090 laptop"},
		{raw: "CMP 170HX", model: "CMP170HX", form: "pcie", mem: 8},
		{raw: "RTX 5090 Ti"}, // no such product
		{raw: "V100 SXM2"},   // not a Vast name: Vast says Tesla V100
		{raw: "RTX 4090 Ti"},
	})
}

func TestLookupRunpod(t *testing.T) {
	testLookups(t, "runpod", []lookupCase{
		{raw: "NVIDIA H100 80GB HBM3", model: "H100", form: "sxm", mem: 80},
		{raw: "H100 SXM", model: "H100", form: "sxm", mem: 80},
		{raw: "NVIDIA H100 PCIe", model: "H100", form: "pcie", mem: 80},
		{raw: "H100 PCIe", model: "H100", form: "pcie", mem: 80},
		{raw: "NVIDIA H100 NVL", model: "H100NVL", form: "pcie", mem: 94},
		{raw: "H100 NVL", model: "H100NVL", form: "pcie", mem: 94},
		{raw: "NVIDIA A100-SXM4-80GB", model: "A100", form: "sxm", mem: 80},
		{raw: "A100 SXM", model: "A100", form: "sxm"},
		{raw: "NVIDIA A100 80GB PCIe", model: "A100", form: "pcie", mem: 80},
		{raw: "NVIDIA GeForce RTX 4090", model: "RTX4090", form: "pcie", mem: 24},
		{raw: "RTX 4090", model: "RTX4090", form: "pcie", mem: 24},
		{raw: "NVIDIA RTX A6000", model: "A6000", form: "pcie", mem: 48},
		{raw: "RTX A6000", model: "A6000", form: "pcie", mem: 48},
		{raw: "AMD Instinct MI300X OAM", model: "MI300X", mem: 192},
		{raw: "MI300X", model: "MI300X", mem: 192},
		{raw: "NVIDIA H200", model: "H200", form: "sxm", mem: 141},
		{raw: "NVIDIA H200 NVL", model: "H200NVL", form: "pcie", mem: 141},
		{raw: "NVIDIA B200", model: "B200", form: "sxm", mem: 180},
		{raw: "NVIDIA L40S", model: "L40S", form: "pcie", mem: 48},
		{raw: "NVIDIA RTX 6000 Ada Generation", model: "RTX6000ADA", form: "pcie", mem: 48},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition", model: "RTXPRO6000", form: "pcie", mem: 96},
		{raw: "NVIDIA RTX PRO 6000 Blackwell Server Edition MIG 1g.24gb", model: "RTXPRO6000", form: "pcie", mem: 96, count: 0.25},
		{raw: "Tesla V100-SXM2-32GB", model: "V100", form: "sxm", mem: 32},
		{raw: "NVIDIA GeForce RTX 4080 SUPER", model: "RTX4080S", form: "pcie", mem: 16},
		// The SFF card is not the RTX 4000 Ada.
		{raw: "NVIDIA RTX 4000 Ada Generation", model: "RTX4000ADA", form: "pcie", mem: 20},
		{raw: "NVIDIA RTX 4000 SFF Ada Generation", model: "RTX4000SFFADA", form: "pcie", mem: 20},
		{raw: "RTX 4000 Ada SFF", model: "RTX4000SFFADA", form: "pcie", mem: 20},
		{raw: "NVIDIA GeForce RTX 3060", model: "RTX3060", form: "pcie"}, // 8 or 12 GB: memoryInGb
		{raw: "NVIDIA RTX PRO 4000 Blackwell", model: "RTXPRO4000", form: "pcie", mem: 24},
		{raw: "NVIDIA H100"},
		{raw: "NVIDIA GeForce RTX 4090 Laptop GPU"},
		{raw: "NVIDIA H800"},
		{raw: "H100"},
		{raw: "nvidia-h100-80gb"},
	})
}

func TestLookupLambda(t *testing.T) {
	testLookups(t, "lambda", []lookupCase{
		{raw: "H100 (80 GB SXM5)", model: "H100", form: "sxm", mem: 80},
		{raw: "H100 (80 GB PCIe)", model: "H100", form: "pcie", mem: 80},
		{raw: "A100 (40 GB SXM4)", model: "A100", form: "sxm", mem: 40},
		{raw: "A100 (80 GB SXM4)", model: "A100", form: "sxm", mem: 80},
		{raw: "A100 (40 GB PCIe)", model: "A100", form: "pcie", mem: 40},
		{raw: "A10 (24 GB PCIe)", model: "A10", form: "pcie", mem: 24},
		{raw: "A6000 (48 GB)", model: "A6000", form: "pcie", mem: 48},
		{raw: "RTX 6000 (24 GB)", model: "RTX6000", form: "pcie", mem: 24},
		{raw: "Tesla V100 (16 GB)", model: "V100", mem: 16},
		{raw: "GH200 (96 GB)", model: "GH200", mem: 96},
		{raw: "B200 (180 GB SXM6)", model: "B200", form: "sxm", mem: 180},
		{raw: "h100 (80 gb sxm5)", model: "H100", form: "sxm", mem: 80},
		{raw: "8x H100 (80 GB SXM5)"}, // the description: strip "8x " first
		{raw: "H100"},
		{raw: "H100 (80 GB)"},
		{raw: "4x CPU General (16 GiB)"},
		{raw: "B300 (288 GB SXM6)"},
	})
}

func TestLookupUnknownProvider(t *testing.T) {
	if a, ok := DefaultCatalog().Lookup("oracle", "H100"); ok {
		t.Errorf("Lookup(oracle, H100) = %+v, want unknown", a)
	}
	if got := DefaultCatalog().Aliases("oracle"); len(got) != 0 {
		t.Errorf("Aliases(oracle) = %v, want none", got)
	}
}

const gpusH100 = `gpus:
  - {model: H100, form: sxm, memory_gb: 80, vendor: nvidia, architecture: hopper}
`

func TestParseCatalogErrors(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{
			name: "alias to a missing memory size",
			yaml: gpusH100 + "aliases:\n  aws:\n    - {raw: NVIDIA H100, model: H100, form: sxm, memory_gb: 94}\n",
			want: `aliases.aws: "NVIDIA H100" maps to H100 sxm 94GB, which is not in gpus`,
		},
		{
			name: "alias to a missing form",
			yaml: gpusH100 + "aliases:\n  vastai:\n    - {raw: H100 PCIE, model: H100, form: pcie}\n",
			want: `aliases.vastai: "H100 PCIE" maps to H100 pcie, which is not in gpus`,
		},
		{
			name: "alias to a missing model",
			yaml: gpusH100 + "aliases:\n  gcp:\n    - {raw: nvidia-b200, model: B200}\n",
			want: `aliases.gcp: "nvidia-b200" maps to B200, which is not in gpus`,
		},
		{
			name: "duplicate raw name",
			yaml: gpusH100 + "aliases:\n  vastai:\n    - {raw: H100 SXM, model: H100}\n    - {raw: H100 SXM, model: H100}\n",
			want: `aliases.vastai: "H100 SXM" listed twice`,
		},
		{
			name: "duplicate raw name up to case and spaces",
			yaml: gpusH100 + "aliases:\n  vastai:\n    - {raw: H100 SXM, model: H100}\n    - {raw: \"h100  sxm\", model: H100}\n",
			want: `aliases.vastai: "h100  sxm" listed twice`,
		},
		{
			name: "empty raw name",
			yaml: gpusH100 + "aliases:\n  aws:\n    - {raw: \"  \", model: H100}\n",
			want: `aliases.aws: an alias for H100 has an empty raw name`,
		},
		{
			name: "negative count",
			yaml: gpusH100 + "aliases:\n  azure:\n    - {raw: Standard_ND96isr_H100_v5, model: H100, count: -8}\n",
			want: `aliases.azure: "Standard_ND96isr_H100_v5" has count -8, want a positive number or none`,
		},
		{
			name: "NaN count",
			yaml: gpusH100 + "aliases:\n  azure:\n    - {raw: Standard_ND96isr_H100_v5, model: H100, count: .nan}\n",
			want: `aliases.azure: "Standard_ND96isr_H100_v5" has count NaN, want a positive number or none`,
		},
		{
			name: "upper-case provider",
			yaml: gpusH100 + "aliases:\n  AWS:\n    - {raw: NVIDIA H100, model: H100}\n",
			want: `aliases: provider "AWS" must be a lower-case name`,
		},
		{
			name: "model with a dash",
			yaml: "gpus:\n  - {model: H100-SXM, form: sxm, memory_gb: 80, vendor: nvidia, architecture: hopper}\n",
			want: `gpu "H100-SXM": model must be an upper-case token of letters and digits`,
		},
		{
			name: "lower-case model",
			yaml: "gpus:\n  - {model: RTX6000Ada, form: pcie, memory_gb: 48, vendor: nvidia, architecture: ada}\n",
			want: `gpu "RTX6000Ada": model must be an upper-case token of letters and digits`,
		},
		{
			name: "model with a space",
			yaml: "gpus:\n  - {model: RTX 4090, form: pcie, memory_gb: 24, vendor: nvidia, architecture: ada}\n",
			want: `gpu "RTX 4090": model must be an upper-case token of letters and digits`,
		},
		{
			name: "empty model",
			yaml: "gpus:\n  - {form: pcie, memory_gb: 24, vendor: nvidia, architecture: ada}\n",
			want: `gpu "": model must be an upper-case token of letters and digits`,
		},
		{
			name: "bad form",
			yaml: "gpus:\n  - {model: MI300X, form: oam, memory_gb: 192, vendor: amd, architecture: cdna3}\n",
			want: `gpu MI300X: form "oam" is not sxm, pcie or empty`,
		},
		{
			name: "no memory",
			yaml: "gpus:\n  - {model: H100, form: sxm, vendor: nvidia, architecture: hopper}\n",
			want: `gpu H100 sxm: memory_gb, vendor and architecture are required`,
		},
		{
			name: "no vendor",
			yaml: "gpus:\n  - {model: GH200, memory_gb: 96, architecture: hopper}\n",
			want: `gpu GH200 96GB: memory_gb, vendor and architecture are required`,
		},
		{
			name: "GPU listed twice",
			yaml: gpusH100 + "  - {model: H100, form: sxm, memory_gb: 80, vendor: nvidia, architecture: hopper}\n",
			want: `gpu H100 sxm 80GB listed twice`,
		},
		{
			name: "unknown key",
			yaml: "gpus:\n  - {model: H100, form: sxm, memory_gb: 80, vendor: nvidia, architecture: hopper, tdp: 700}\n",
			want: "yaml: unmarshal errors:\n  line 2: field tdp not found in type price.GPU",
		},
		{
			name: "unknown alias key",
			yaml: gpusH100 + "aliases:\n  aws:\n    - {raw: NVIDIA H100, gpu: H100}\n",
			want: "yaml: unmarshal errors:\n  line 5: field gpu not found in type price.Alias",
		},
		{
			name: "empty file",
			yaml: "",
			want: "gpus: none listed",
		},
		{
			name: "aliases only",
			yaml: "aliases:\n  aws: []\n",
			want: "gpus: none listed",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseCatalog([]byte(tc.yaml))
			if err == nil {
				t.Fatalf("ParseCatalog succeeded with %d GPUs, want error %q", len(c.GPUs()), tc.want)
			}
			if err.Error() != tc.want {
				t.Errorf("error\n  got  %q\n  want %q", err, tc.want)
			}
		})
	}
}

func TestParseCatalogMinimal(t *testing.T) {
	c, err := ParseCatalog([]byte(gpusH100 + "aliases:\n  aws:\n    - {raw: NVIDIA H100, model: H100}\n"))
	if err != nil {
		t.Fatal(err)
	}
	a, ok := c.Lookup("aws", "NVIDIA H100")
	if !ok || a.Model != "H100" || a.Form != "" || a.MemoryGB != 0 {
		t.Errorf("Lookup = %+v, %v", a, ok)
	}
	if got := c.Vendor("H100"); got != "nvidia" {
		t.Errorf("Vendor(H100) = %q", got)
	}
	if got := c.Vendor("B200"); got != "" {
		t.Errorf("Vendor(B200) = %q, want empty", got)
	}
}

func TestSnapMemory(t *testing.T) {
	c := DefaultCatalog()
	for _, tc := range []struct {
		name  string
		model string
		form  string
		mib   float64
		want  float64
	}{
		{"H100 as Vast reports it", "H100", "sxm", 81559, 80},
		{"H100 any form", "H100", "", 81559, 80},
		{"A100 40GB", "A100", "sxm", 40960, 40},
		{"A100 80GB", "A100", "", 81920, 80},
		{"A100 80GB PCIe as nvidia-smi reports it", "A100", "pcie", 81251, 80},
		{"L4 as AWS reports it", "L4", "", 22888, 24},
		{"A10G as AWS reports it", "A10G", "pcie", 22888, 24},
		{"L40S as AWS reports it", "L40S", "", 45776, 48},
		{"B200 as AWS reports it", "B200", "sxm", 183359, 180},
		{"B300 as AWS reports it", "B300", "sxm", 275040, 288},
		{"H200 as AWS reports it", "H200", "sxm", 144384, 141},
		{"V100 32GB on p3dn", "V100", "sxm", 32768, 32},
		{"V100 16GB PCIe", "V100", "pcie", 16384, 16},
		{"RTX 3060 8GB", "RTX3060", "pcie", 8192, 8},
		{"RTX 3060 12GB", "RTX3060", "pcie", 12288, 12},
		{"GH200 has no form", "GH200", "", 97871, 96},
		{"GH200 ignores a form it lacks", "GH200", "sxm", 97871, 96},
		{"far from any size", "H100", "sxm", 40000, 39},
		{"between sizes", "A100", "", 61440, 60},
		{"unknown model", "NOPE", "", 16384, 16},
		{"zero", "H100", "", 0, 0},
		{"negative", "H100", "", -81559, 0},
		{"NaN", "H100", "", math.NaN(), 0},
		{"Inf", "H100", "", math.Inf(1), 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := c.SnapMemory(tc.model, tc.form, tc.mib); got != tc.want {
				t.Errorf("SnapMemory(%s, %q, %g) = %g, want %g", tc.model, tc.form, tc.mib, got, tc.want)
			}
		})
	}
}

func TestDefaultCatalogConcurrent(t *testing.T) {
	// DefaultCatalog is initialised once; readers may race to it.
	done := make(chan *Catalog)
	for range 8 {
		go func() { done <- DefaultCatalog() }()
	}
	first := <-done
	for range 7 {
		if c := <-done; c != first {
			t.Fatal("DefaultCatalog returned two different catalogs")
		}
	}
	for range 4 {
		go func() {
			_, _ = first.Lookup("vastai", "RTX 4090")
			done <- first
		}()
	}
	for range 4 {
		<-done
	}
}

func TestLookupVerda(t *testing.T) {
	testLookups(t, "verda", []lookupCase{
		{raw: "B200 SXM6 180GB", model: "B200", form: "sxm", mem: 180},
		{raw: "H200 SXM5 141GB", model: "H200", form: "sxm", mem: 141},
		{raw: "H100 SXM5 80GB", model: "H100", form: "sxm", mem: 80},
		{raw: "A100 SXM4 80GB", model: "A100", form: "sxm", mem: 80},
		{raw: "A100 SXM4 40GB", model: "A100", form: "sxm", mem: 40},
		{raw: "L40S 48GB", model: "L40S", form: "pcie", mem: 48},
		{raw: "RTX 6000 Ada 48GB", model: "RTX6000ADA", form: "pcie", mem: 48},
		{raw: "RTX PRO 6000 96GB", model: "RTXPRO6000", form: "pcie", mem: 96},
		{raw: "RTX A6000 48GB", model: "A6000", form: "pcie", mem: 48},
		{raw: "Tesla V100 16GB", model: "V100", form: "sxm", mem: 16},
		{raw: "8x H100 SXM5 80GB"}, // the description: strip "8x " first
		{raw: "GB300 288GB"},
	})
}

func TestLookupAkash(t *testing.T) {
	testLookups(t, "akash", []lookupCase{
		{raw: "h100 80Gi SXM5", model: "H100", form: "sxm", mem: 80},
		{raw: "H100 80GI sxm5", model: "H100", form: "sxm", mem: 80},
		{raw: "a100 40Gi PCIe", model: "A100", form: "pcie", mem: 40},
		{raw: "rtx4090 24Gi PCIe", model: "RTX4090", form: "pcie", mem: 24},
		{raw: "h100"},
	})
}

func TestLookupOCI(t *testing.T) {
	testLookups(t, "oci", []lookupCase{
		{raw: "BM.GPU.H100.8", model: "H100", form: "sxm", mem: 80},
		{raw: "BM.GPU4.8", model: "A100", form: "sxm", mem: 40},
		{raw: "BM.GPU.A100-v2.8", model: "A100", form: "sxm", mem: 80},
		{raw: "VM.GPU.A10.1", model: "A10", form: "pcie", mem: 24},
		{raw: "BM.GPU.MI300X.8", model: "MI300X", mem: 192},
		{raw: "BM.GPU.GB300.4"},
	})
}

func TestLookupScaleway(t *testing.T) {
	testLookups(t, "scaleway", []lookupCase{
		{raw: "H100-2-80G", model: "H100", form: "pcie", mem: 80},
		{raw: "H100-SXM-8-80G", model: "H100", form: "sxm", mem: 80},
		{raw: "L40S-4-48G", model: "L40S", form: "pcie", mem: 48},
		{raw: "GPU-3070-S", model: "RTX3070", form: "pcie", mem: 8},
		{raw: "H100"},
	})
}

func TestLookupDigitalOcean(t *testing.T) {
	testLookups(t, "digitalocean", []lookupCase{
		{raw: "nvidia_h100", model: "H100", form: "sxm", mem: 80},
		{raw: "nvidia_rtx_4000_ada", model: "RTX4000ADA", form: "pcie", mem: 20},
		{raw: "amd_mi300x", model: "MI300X", mem: 192},
		{raw: "nvidia_b300"},
	})
}

func TestLookupOVHcloud(t *testing.T) {
	testLookups(t, "ovhcloud", []lookupCase{
		{raw: "H100", model: "H100", mem: 80},
		{raw: "H200", model: "H200", form: "sxm", mem: 141},
		{raw: "L40S", model: "L40S", form: "pcie", mem: 48},
		{raw: "Tesla V100S", model: "V100", form: "pcie", mem: 32},
		{raw: "Tesla V100", model: "V100"},
		{raw: "Quadro-RTX5000", model: "RTX5000", form: "pcie", mem: 16},
		{raw: "B300 SXM6"},
	})
}

func TestLookupGolem(t *testing.T) {
	testLookups(t, "golem", []lookupCase{
		{raw: "NVIDIA GeForce RTX 4090", model: "RTX4090", form: "pcie", mem: 24},
		{raw: "NVIDIA GeForce RTX 3080", model: "RTX3080", form: "pcie"},
		{raw: "NVIDIA A100 80GB PCIe", model: "A100", form: "pcie", mem: 80},
		{raw: "NVIDIA CMP 170HX"},
	})
}
