package gcp

import (
	"math"
	"strings"

	"cloud.google.com/go/billing/apiv1/billingpb"
)

// kind is what one billing SKU prices.
type kind int

const (
	// kindGPU is one GPU of an accelerator type, per hour.
	kindGPU kind = iota + 1
	// kindSlice is one GPU's share of a whole machine, its vCPUs and
	// memory included, per hour: how A4 and A4X are priced.
	kindSlice
	// kindCore is one vCPU of a machine family, per hour.
	kindCore
	// kindRAM is one GiB of a machine family's memory, per hour.
	kindRAM
	// kindLocalSSD is one GiB of local SSD, per hour.
	kindLocalSSD
)

// component is the price one SKU gives, per unit and hour.
type component struct {
	kind kind
	// name is the accelerator type (GPU, slice) or the billing family
	// of the machine (core, RAM): a2, a3, a3-megagpu, g2, n1, ...
	name string
	// family is the billing family of a slice's machine (a4, a4x).
	family string
	spot   bool
	usd    float64
}

// The drop reasons of classify, for the debug summary of a walk.
const (
	dropUsage       = "usage_type" // commitments and anything not on-demand or spot
	dropSoleTenancy = "sole_tenancy"
	dropReserved    = "reserved"
	dropCommitment  = "commitment"
	dropPremium     = "premium"
	dropCustom      = "custom"
	dropDWS         = "dws" // Dynamic Workload Scheduler: calendar mode, flex-start
	dropSuspended   = "suspended"
	dropTPU         = "tpu"
	dropOther       = "other" // a SKU that prices none of the components used
	dropUnit        = "unit"
	dropCurrency    = "currency"
	dropNoPrice     = "no_price"
)

// dropWords are description words of SKUs that price something other than
// an on-demand or spot VM: checked without regard to case, anywhere in the
// description padded with spaces (" dws " is a whole word).
var dropWords = []struct{ word, reason string }{
	{"sole tenancy", dropSoleTenancy},
	{"reserved", dropReserved},
	{"commitment", dropCommitment},
	{"premium", dropPremium},
	{"custom", dropCustom},
	{" dws ", dropDWS},
	{"calendar mode", dropDWS},
	{"flex-start", dropDWS},
	{"suspended", dropSuspended},
}

// hoursPerMonth converts the catalog's monthly local SSD price to hourly,
// the way Google's own price pages do.
const hoursPerMonth = 730

// bytesPerGiBOverGB is GiB / GB: a per-GB price times this is per GiB.
const bytesPerGiBOverGB = 1.073741824

// classify reads what sku prices, or says why it is of no use here (one of
// the drop reasons). It follows the descriptions, as dstackai/gpuhunt and
// SkyPilot do, because the catalog has no structured field naming the GPU
// or the machine family:
//
//	Nvidia L4 GPU running in Americas                         GPU nvidia-l4
//	Nvidia L4 GPU attached to Spot Preemptible VMs running in Netherlands
//	Spot Preemptible Nvidia Tesla T4 GPU running in Americas  (older spot form)
//	H200 141GB GPU running in Belgium                         GPU nvidia-h200-141gb
//	RTX 6000 96GB running in Oregon                           GPU nvidia-rtx-pro-6000
//	Nvidia L4 Virtual Workstation GPU running in Americas     GPU nvidia-l4-vws
//	A4 Nvidia B200 (1 gpu slice) running in Americas          slice of an a4 machine
//	A3 Instance Core running in Americas                      vCPU of a3
//	Spot Preemptible A2 Instance Ram running in EMEA          GiB of a2 memory
//	SSD backed Local Storage                                  GiB of local SSD
//
// A description saying "Spot Preemptible" makes a spot price whatever the
// category says: the catalog lists spot A4 slices with usage type OnDemand.
func classify(sku *billingpb.Sku) (component, string) {
	cat := sku.GetCategory()
	desc := sku.GetDescription()
	usage := cat.GetUsageType()
	if usage != "OnDemand" && usage != "Preemptible" {
		return component{}, dropUsage
	}
	lower := " " + strings.ToLower(desc) + " "
	for _, d := range dropWords {
		if strings.Contains(lower, d.word) {
			return component{}, d.reason
		}
	}
	if strings.EqualFold(cat.GetResourceGroup(), "TPU") {
		return component{}, dropTPU
	}
	head, spot := descriptionHead(desc)
	c := component{spot: spot || usage == "Preemptible"}
	words := strings.Fields(head)
	if len(words) == 0 {
		return component{}, dropOther
	}
	last := strings.ToLower(words[len(words)-1])
	switch family := cat.GetResourceFamily(); {
	case family == "Compute" && strings.Contains(strings.ToLower(head), "(1 gpu slice)"):
		c.kind = kindSlice
		c.family, c.name = sliceOf(head[:strings.Index(strings.ToLower(head), "(1 gpu slice)")])
	case family == "Compute" && last == "gpu":
		c.kind, c.name = kindGPU, acceleratorType(strings.Join(words[:len(words)-1], " "))
	case family == "Compute" && strings.EqualFold(cat.GetResourceGroup(), "GPU"):
		// A GPU SKU without the word GPU ("RTX 6000 96GB running in
		// Oregon"): the name is all there is, and keeping it lets an
		// unknown GPU show up as UNKNOWN rather than vanish.
		c.kind, c.name = kindGPU, acceleratorType(head)
	case family == "Compute" && (last == "core" || last == "ram") && len(words) > 1:
		c.kind, c.name = kindCore, billingFamily(words[0])
		if last == "ram" {
			c.kind = kindRAM
		}
	case family == "Storage" && strings.HasPrefix(strings.ToLower(head), "ssd backed local storage"):
		c.kind = kindLocalSSD
	default:
		return component{}, dropOther
	}
	if c.name == "" && c.kind != kindLocalSSD {
		return component{}, dropOther
	}
	usd, reason := unitPrice(sku, c.kind)
	if reason != "" {
		return component{}, reason
	}
	c.usd = usd
	return c, ""
}

// descriptionHead strips a description down to what it prices: without the
// spot prefix, the "attached to ... VMs" part and the location ("running in
// Americas"). spot reports whether the description says preemptible.
func descriptionHead(desc string) (head string, spot bool) {
	head = strings.TrimSpace(desc)
	for _, p := range []string{"spot preemptible ", "preemptible "} {
		if len(head) >= len(p) && strings.EqualFold(head[:len(p)], p) {
			head, spot = head[len(p):], true
			break
		}
	}
	if i := strings.Index(strings.ToLower(head), " running in "); i >= 0 {
		head = head[:i]
	}
	if i := strings.Index(strings.ToLower(head), " attached to "); i >= 0 {
		spot = spot || strings.Contains(strings.ToLower(head[i:]), "preemptible")
		head = head[:i]
	}
	return strings.TrimSpace(head), spot
}

// skuRenames maps accelerator names derived from SKU descriptions to the
// Compute Engine accelerator type they price, where the two differ
// (dstackai/gpuhunt's list, and the RTX PRO 6000 whose SKU calls it "RTX
// 6000 96GB").
var skuRenames = map[string]string{
	"nvidia-tesla-a100-80gb": "nvidia-a100-80gb",
	"nvidia-h100-80gb-mega":  "nvidia-h100-mega-80gb",
	"nvidia-h100-80gb-plus":  "nvidia-h100-mega-80gb",
	"nvidia-rtx-6000-96gb":   "nvidia-rtx-pro-6000",
}

// vendors are the first words of GPU names that name their vendor. Newer
// SKUs leave NVIDIA out ("H200 141GB GPU"); every GPU Compute Engine sells
// is NVIDIA's, so a name without a vendor gets "nvidia-".
var vendors = []string{"nvidia-", "amd-", "intel-"}

// acceleratorType derives the accelerator type name from the GPU part of a
// description, as gpuhunt does: lower case, spaces to dashes, then the
// renames. A Virtual Workstation GPU is the -vws type of the same GPU.
func acceleratorType(gpu string) string {
	a := strings.ToLower(strings.Join(strings.Fields(gpu), "-"))
	if a == "" {
		return ""
	}
	a, vws := strings.CutSuffix(a, "-virtual-workstation")
	known := false
	for _, v := range vendors {
		known = known || strings.HasPrefix(a, v)
	}
	if !known {
		a = "nvidia-" + a
	}
	if r, ok := skuRenames[a]; ok {
		a = r
	}
	if vws {
		a += "-vws"
	}
	return a
}

// sliceOf splits the part of a slice description before "(1 gpu slice)",
// "A4X Max Nvidia GB300", into the machine's billing family (the words
// before the vendor: a4x-max) and the accelerator type (nvidia-gb300).
func sliceOf(s string) (family, accelerator string) {
	words := strings.Fields(s)
	for i, w := range words {
		if i > 0 && strings.EqualFold(w, "nvidia") {
			return strings.ToLower(strings.Join(words[:i], "-")), acceleratorType(strings.Join(words[i:], " "))
		}
	}
	if len(words) < 2 {
		return "", ""
	}
	return strings.ToLower(words[0]), acceleratorType(strings.Join(words[1:], " "))
}

// familyNames are the core and RAM SKU families whose first word is not
// the machine series (gpuhunt's list).
var familyNames = map[string]string{
	"a3plus":           "a3-megagpu",
	"memory-optimized": "m1",
	"compute":          "c2",
}

// billingFamily maps the first word of a core or RAM SKU ("A3", "N1",
// "A3Plus") to the billing family of machineShapes.
func billingFamily(first string) string {
	f := strings.ToLower(first)
	if n, ok := familyNames[f]; ok {
		return n
	}
	return f
}

// unitPrice returns the USD price of one unit-hour of what a SKU of kind k
// prices: per hour for GPUs, slices and vCPUs, per GiB-hour for memory and
// local SSD (the catalog prices local SSD per GiB-month). It takes the
// first tier starting at zero usage (GPU and VM SKUs have one tier).
func unitPrice(sku *billingpb.Sku, k kind) (float64, string) {
	infos := sku.GetPricingInfo()
	if len(infos) == 0 {
		return 0, dropNoPrice
	}
	expr := infos[0].GetPricingExpression()
	rates := expr.GetTieredRates()
	if len(rates) == 0 {
		return 0, dropNoPrice
	}
	rate := rates[0]
	for _, r := range rates {
		if r.GetStartUsageAmount() == 0 {
			rate = r
			break
		}
	}
	m := rate.GetUnitPrice()
	if m == nil {
		return 0, dropNoPrice
	}
	if cc := m.GetCurrencyCode(); cc != "" && cc != "USD" {
		return 0, dropCurrency
	}
	usd := float64(m.GetUnits()) + float64(m.GetNanos())/1e9
	if math.IsNaN(usd) || math.IsInf(usd, 0) {
		return 0, dropNoPrice
	}
	switch unit := expr.GetUsageUnit(); {
	case k == kindRAM && unit == "GiBy.h", k == kindLocalSSD && unit == "GiBy.h":
	case k == kindRAM && unit == "GBy.h", k == kindLocalSSD && unit == "GBy.h":
		usd *= bytesPerGiBOverGB
	case k == kindLocalSSD && unit == "GiBy.mo":
		usd /= hoursPerMonth
	case k == kindLocalSSD && unit == "GBy.mo":
		usd *= bytesPerGiBOverGB / hoursPerMonth
	case (k == kindGPU || k == kindSlice || k == kindCore) && unit == "h":
	default:
		return 0, dropUnit
	}
	return usd, ""
}
