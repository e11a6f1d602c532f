package fakecloud

import (
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strings"
)

// The GCP fake's data: a compact table of Compute Engine SKUs, expanded
// deterministically into catalog entries per billing location and usage
// type. Descriptions, categories and units follow the real catalog (see
// research/provider-apis.md §2 and the forms listed in collectors/gcp);
// prices are realistic for the Americas (us-central1 list prices of 2026)
// and scaled per location. SKU IDs are derived from the descriptions.

// gcpLocation is a billing location: what descriptions name ("running in
// Netherlands") and the regions its SKUs list.
type gcpLocation struct {
	code    string // key used in the tables below
	name    string // in descriptions
	regions []string
	// factor is the price level relative to the Americas.
	factor float64
}

var gcpLocations = []gcpLocation{
	{"am", "Americas", []string{"us-central1", "us-east1", "us-east4", "us-west1"}, 1},
	{"nl", "Netherlands", []string{"europe-west4"}, 1.1},
	{"be", "Belgium", []string{"europe-west1"}, 1.1},
	{"jp", "Tokyo", []string{"asia-northeast1"}, 1.25},
	{"sg", "Singapore", []string{"asia-southeast1"}, 1.2},
	{"il", "Tel Aviv", []string{"me-west1"}, 1.15},
}

// gcpGPURow is one GPU: its on-demand and spot SKUs in each location of
// locs (space-separated codes).
type gcpGPURow struct {
	name  string // as descriptions say it, without " GPU"
	accel string // the accelerator type it prices (for the Compute fake)
	od    float64
	spot  float64
	locs  string
	// oldSpot writes the spot SKU as "Spot Preemptible <name> GPU running
	// in ..." instead of "<name> GPU attached to Spot Preemptible VMs
	// running in ..."; the catalog has both forms.
	oldSpot bool
	// noGPUWord leaves " GPU" out of the description, as the RTX PRO
	// 6000's SKUs do ("RTX 6000 96GB running in Oregon").
	noGPUWord bool
	maxCards  int32
}

var gcpGPURows = []gcpGPURow{
	{"Nvidia Tesla T4", "nvidia-tesla-t4", 0.35, 0.14, "am nl be jp sg il", false, false, 4},
	{"Nvidia Tesla T4 Virtual Workstation", "nvidia-tesla-t4-vws", 0.55, 0.34, "am nl", false, false, 4},
	{"Nvidia Tesla V100", "nvidia-tesla-v100", 2.48, 0.992, "am nl jp sg", true, false, 8},
	{"Nvidia Tesla P100", "nvidia-tesla-p100", 1.46, 0.584, "am be jp", true, false, 4},
	{"Nvidia Tesla P100 Virtual Workstation", "nvidia-tesla-p100-vws", 1.66, 0.784, "am", true, false, 4},
	{"Nvidia Tesla P4", "nvidia-tesla-p4", 0.6, 0.24, "am nl sg", true, false, 4},
	{"Nvidia Tesla P4 Virtual Workstation", "nvidia-tesla-p4-vws", 0.8, 0.44, "am", true, false, 4},
	{"Nvidia Tesla K80", "nvidia-tesla-k80", 0.45, 0.0375, "am", true, false, 8},
	{"Nvidia Tesla A100", "nvidia-tesla-a100", 2.933908, 0.880172, "am nl jp sg il", false, false, 16},
	{"Nvidia Tesla A100 80GB", "nvidia-a100-80gb", 3.92808, 1.5712, "am nl sg", false, false, 8},
	{"Nvidia H100 80GB", "nvidia-h100-80gb", 9.796550569, 2.253, "am nl jp", false, false, 8},
	{"Nvidia H100 80GB Plus", "nvidia-h100-mega-80gb", 10.344275712, 2.38, "am nl", false, false, 8},
	{"Nvidia H100 80GB Mega", "nvidia-h100-mega-80gb", 10.344275712, 2.38, "jp", false, false, 8},
	{"H200 141GB", "nvidia-h200-141gb", 10.5, 3.72, "am nl", false, false, 8},
	{"Nvidia L4", "nvidia-l4", 0.560651, 0.2236, "am nl be jp sg il", false, false, 8},
	{"Nvidia L4 Virtual Workstation", "nvidia-l4-vws", 0.76, 0.42, "am nl", false, false, 8},
	{"RTX 6000 96GB", "nvidia-rtx-pro-6000", 4.5, 1.72, "am be", false, true, 8},
	{"RTX 6000 96GB Virtual Workstation", "nvidia-rtx-pro-6000-vws", 4.9, 2.05, "am", false, true, 8},
	// A GPU the catalog does not know yet: it must come out as UNKNOWN.
	{"Nvidia R200", GCPUnknownGPU, 14.2, 5.1, "am", false, false, 8},
}

// gcpSliceRow is a machine family priced per GPU "slice" of the whole
// machine. The real catalog lists the spot slices with usage type
// OnDemand (only the description says "Spot Preemptible"); so does the
// fake.
type gcpSliceRow struct {
	family, gpu, accel string // "A4", "Nvidia B200", "nvidia-b200"
	od, spot           float64
	locs               string
	maxCards           int32
}

var gcpSliceRows = []gcpSliceRow{
	{"A4", "Nvidia B200", "nvidia-b200", 16.11, 4.9542, "am nl", 8},
	{"A4X", "Nvidia GB200", "nvidia-gb200", 16.83, 6.12, "am", 4},
	{"A4X Max", "Nvidia GB300", "nvidia-gb300", 19.9, 7.24, "am", 4},
}

// gcpFamilyRow is a machine family's vCPU and memory prices.
type gcpFamilyRow struct {
	stem      string // "A2 Instance": descriptions add " Core" or " Ram"
	coreGroup string // category.resourceGroup of the core SKUs
	core      float64
	spotCore  float64
	ram       float64 // per GiB-hour
	spotRAM   float64
	locs      string
}

var gcpFamilyRows = []gcpFamilyRow{
	{"A2 Instance", "CPU", 0.031611, 0.012644, 0.004237, 0.001695, "am nl jp sg il"},
	{"A3 Instance", "CPU", 0.03222, 0.010314, 0.002817, 0.000902, "am nl jp"},
	{"A3Plus Instance", "CPU", 0.029, 0.0116, 0.00254, 0.001016, "am nl jp"},
	{"A4 Instance", "CPU", 0.0375, 0.015, 0.0032, 0.00128, "am nl"},
	{"G2 Instance", "CPU", 0.024988, 0.009995, 0.002927, 0.001171, "am nl be jp sg il"},
	{"N1 Predefined Instance", "N1Standard", 0.031611, 0.00664, 0.004237, 0.000892, "am nl be jp sg il"},
	// Not a GPU family: parsed by collectors, used by none of their shapes.
	{"E2 Instance", "CPU", 0.021811, 0.006543, 0.002923, 0.000877, "am nl"},
}

// Local SSD, per GiB-month, in every location.
const (
	gcpLocalSSD     = 0.08
	gcpSpotLocalSSD = 0.064
)

// gcpOtherRow is a SKU listed as is, in one location.
type gcpOtherRow struct {
	desc, family, group, usage, unit string
	usd                              float64
	loc                              string
}

// gcpOtherRows are SKUs a GPU price collector must not use: sole-tenancy,
// reserved, commitment, premium, custom, DWS, TPU, and resources no GPU
// machine is made of. Those naming a GPU or family the tables above price
// are cheaper than the real price, so that using one shows.
var gcpOtherRows = []gcpOtherRow{
	{"Nvidia Tesla T4 GPU attached to Sole Tenancy VMs running in Americas", "Compute", "GPU", "OnDemand", "h", 0.3, "am"},
	{"Reserved A3 Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0.0222, "am"},
	{"Commitment v1: Nvidia L4 GPU running in Americas for 1 Year", "Compute", "GPU", "Commit1Yr", "h", 0.353, "am"},
	{"Commitment v1: H200 141GB GPU running in Americas for 3 Years", "Compute", "GPU", "Commit3Yr", "h", 4.725, "am"},
	{"Premium Nvidia Tesla V100 GPU running in Americas", "Compute", "GPU", "OnDemand", "h", 1.9, "am"},
	{"N1 Custom Instance Core running in Americas", "Compute", "CPU", "OnDemand", "h", 0.033174, "am"},
	{"N1 Custom Instance Ram running in Americas", "Compute", "RAM", "OnDemand", "GiBy.h", 0.004446, "am"},
	{"Spot Preemptible N1 Custom Instance Core running in Americas", "Compute", "CPU", "Preemptible", "h", 0.00698, "am"},
	{"Nvidia H100 Mega 80GB GPU attached to DWS Defined Duration VMs running in Americas", "Compute", "GPU", "OnDemand", "h", 6.9, "am"},
	{"DWS Calendar Mode A4 Nvidia B200 (1 gpu slice) running in Americas", "Compute", "GPU", "OnDemand", "h", 10.5, "am"},
	{"Tpu-v6e chip running in Americas", "Compute", "TPU", "OnDemand", "h", 2.7, "am"},
	{"C4D Instance Local SSD running in Americas", "Storage", "LocalSSD", "OnDemand", "GiBy.mo", 0.16, "am"},
	{"SSD backed PD Capacity", "Storage", "SSD", "OnDemand", "GiBy.mo", 0.17, "am"},
	{"Network Internet Egress from Americas to EMEA", "Network", "PremiumInternetEgress", "OnDemand", "GiBy", 0.12, "am"},
}

// gcpUnavailable lists accelerator types no zone of a region offers
// although the catalog prices them there; the Compute fake leaves them out.
var gcpUnavailable = map[string][]string{
	"nvidia-h200-141gb": {"europe-west4"},
}

// gcpObsolete lists accelerator types the Compute fake shows as OBSOLETE in
// every zone that has them.
var gcpObsolete = map[string]bool{"nvidia-tesla-k80": true}

// gcpSKU is one catalog entry, in the field order of the real API. Units
// and nanos are rendered at serve time (drift); usd holds the price.
type gcpSKU struct {
	Name                string           `json:"name"`
	SkuID               string           `json:"skuId"`
	Description         string           `json:"description"`
	Category            gcpCategory      `json:"category"`
	ServiceRegions      []string         `json:"serviceRegions"`
	PricingInfo         []gcpPricingInfo `json:"pricingInfo"`
	ServiceProviderName string           `json:"serviceProviderName"`
	GeoTaxonomy         gcpGeoTaxonomy   `json:"geoTaxonomy"`

	usd float64
}

type gcpCategory struct {
	ServiceDisplayName string `json:"serviceDisplayName"`
	ResourceFamily     string `json:"resourceFamily"`
	ResourceGroup      string `json:"resourceGroup"`
	UsageType          string `json:"usageType"`
}

type gcpPricingInfo struct {
	Summary                string               `json:"summary"`
	PricingExpression      gcpPricingExpression `json:"pricingExpression"`
	CurrencyConversionRate float64              `json:"currencyConversionRate"`
	EffectiveTime          string               `json:"effectiveTime"`
}

type gcpPricingExpression struct {
	UsageUnit                string        `json:"usageUnit"`
	DisplayQuantity          float64       `json:"displayQuantity"`
	TieredRates              []gcpTierRate `json:"tieredRates"`
	UsageUnitDescription     string        `json:"usageUnitDescription"`
	BaseUnit                 string        `json:"baseUnit"`
	BaseUnitDescription      string        `json:"baseUnitDescription"`
	BaseUnitConversionFactor float64       `json:"baseUnitConversionFactor"`
}

type gcpTierRate struct {
	StartUsageAmount float64  `json:"startUsageAmount"`
	UnitPrice        gcpMoney `json:"unitPrice"`
}

// gcpMoney is google.type.Money: units is an int64, a string in JSON.
type gcpMoney struct {
	CurrencyCode string `json:"currencyCode"`
	Units        string `json:"units"`
	Nanos        int32  `json:"nanos"`
}

type gcpGeoTaxonomy struct {
	// Type is "REGIONAL" or "MULTI_REGIONAL", or its enum number when the
	// client asks for enum-encoding=int (as the Go client does).
	Type    any      `json:"type"`
	Regions []string `json:"regions"`
}

// gcpUnits describes the usage units the fake uses.
var gcpUnits = map[string]struct {
	desc, base, baseDesc string
	factor               float64
}{
	"h":       {"hour", "s", "second", 3600},
	"GiBy.h":  {"gibibyte hour", "By.s", "byte second", 3.8654705664e12},
	"GiBy.mo": {"gibibyte month", "By.s", "byte second", 2.8759101014016e15},
	"GiBy":    {"gibibyte", "By", "byte", 1073741824},
}

// gcpGeoTypes are the GeoTaxonomy.Type enum numbers.
var gcpGeoTypes = map[string]int{"GLOBAL": 1, "REGIONAL": 2, "MULTI_REGIONAL": 3}

// gcpNewSKU builds one entry.
func gcpNewSKU(desc, family, group, usage, unit string, usd float64, regions []string) gcpSKU {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s|%s|%s", desc, usage, strings.Join(regions, ","))
	sum := h.Sum64()
	id := fmt.Sprintf("%04X-%04X-%04X", sum>>48&0xffff, sum>>32&0xffff, sum>>16&0xffff)
	u := gcpUnits[unit]
	geo := "REGIONAL"
	if len(regions) > 1 {
		geo = "MULTI_REGIONAL"
	}
	return gcpSKU{
		Name:        GCPComputeService + "/skus/" + id,
		SkuID:       id,
		Description: desc,
		Category: gcpCategory{ServiceDisplayName: "Compute Engine", ResourceFamily: family,
			ResourceGroup: group, UsageType: usage},
		ServiceRegions: regions,
		PricingInfo: []gcpPricingInfo{{
			PricingExpression: gcpPricingExpression{
				UsageUnit: unit, DisplayQuantity: 1, UsageUnitDescription: u.desc,
				BaseUnit: u.base, BaseUnitDescription: u.baseDesc, BaseUnitConversionFactor: u.factor,
			},
			CurrencyConversionRate: 1,
			EffectiveTime:          "2026-06-01T07:00:00.000Z",
		}},
		ServiceProviderName: "Google",
		GeoTaxonomy:         gcpGeoTaxonomy{Type: geo, Regions: regions},
		usd:                 usd,
	}
}

// gcpLocationsOf returns the locations of a space-separated code list.
func gcpLocationsOf(codes string) []gcpLocation {
	var out []gcpLocation
	for _, code := range strings.Fields(codes) {
		found := false
		for _, l := range gcpLocations {
			if l.code == code {
				out, found = append(out, l), true
			}
		}
		if !found {
			panic("fakecloud: unknown GCP location code " + code)
		}
	}
	return out
}

// gcpScale is an Americas price in location l, rounded to micro-dollars.
func gcpScale(usd float64, l gcpLocation) float64 {
	if l.factor == 1 {
		return usd
	}
	return math.Round(usd*l.factor*1e6) / 1e6
}

// gcpCatalog expands the tables, adds filler SKUs, and sorts by SKU ID,
// which spreads the GPU SKUs over the pages as the real catalog does.
func gcpCatalog(filler int, knownOnly bool) []gcpSKU {
	var skus []gcpSKU
	add := func(desc, family, group, usage, unit string, usd float64, l gcpLocation) {
		skus = append(skus, gcpNewSKU(desc, family, group, usage, unit, gcpScale(usd, l), l.regions))
	}
	for _, g := range gcpGPURows {
		if knownOnly && g.accel == GCPUnknownGPU {
			continue
		}
		for _, l := range gcpLocationsOf(g.locs) {
			gpu := g.name + " GPU"
			if g.noGPUWord {
				gpu = g.name
			}
			add(gpu+" running in "+l.name, "Compute", "GPU", "OnDemand", "h", g.od, l)
			spot := gpu + " attached to Spot Preemptible VMs running in " + l.name
			if g.oldSpot {
				spot = "Spot Preemptible " + gpu + " running in " + l.name
			}
			add(spot, "Compute", "GPU", "Preemptible", "h", g.spot, l)
		}
	}
	for _, s := range gcpSliceRows {
		for _, l := range gcpLocationsOf(s.locs) {
			desc := s.family + " " + s.gpu + " (1 gpu slice) running in " + l.name
			add(desc, "Compute", "GPU", "OnDemand", "h", s.od, l)
			add("Spot Preemptible "+desc, "Compute", "GPU", "OnDemand", "h", s.spot, l)
		}
	}
	for _, f := range gcpFamilyRows {
		for _, l := range gcpLocationsOf(f.locs) {
			in := " running in " + l.name
			add(f.stem+" Core"+in, "Compute", f.coreGroup, "OnDemand", "h", f.core, l)
			add("Spot Preemptible "+f.stem+" Core"+in, "Compute", f.coreGroup, "Preemptible", "h", f.spotCore, l)
			add(f.stem+" Ram"+in, "Compute", "RAM", "OnDemand", "GiBy.h", f.ram, l)
			add("Spot Preemptible "+f.stem+" Ram"+in, "Compute", "RAM", "Preemptible", "GiBy.h", f.spotRAM, l)
		}
	}
	for _, l := range gcpLocations {
		add("SSD backed Local Storage", "Storage", "LocalSSD", "OnDemand", "GiBy.mo", gcpLocalSSD, l)
		add("SSD backed Local Storage attached to Spot Preemptible VMs", "Storage", "LocalSSD", "Preemptible", "GiBy.mo", gcpSpotLocalSSD, l)
	}
	for _, o := range gcpOtherRows {
		add(o.desc, o.family, o.group, o.usage, o.unit, o.usd, gcpLocationsOf(o.loc)[0])
	}
	skus = append(skus, gcpFiller(filler)...)
	sort.Slice(skus, func(i, j int) bool { return skus[i].SkuID < skus[j].SkuID })
	return skus
}

// gcpFiller makes n SKUs of the kinds that fill most of the real catalog
// (licences, disks, network, CPU families without GPUs), for demos and
// benchmarks at the real catalog's size.
func gcpFiller(n int) []gcpSKU {
	out := make([]gcpSKU, 0, n)
	for i := range n {
		l := gcpLocations[i%len(gcpLocations)]
		var s gcpSKU
		switch i % 4 {
		case 0:
			s = gcpNewSKU(fmt.Sprintf("Licensing Fee for Marketplace Image %d (CPU cost)", i), "License", "Licensing Fee", "OnDemand", "h", 0.01+float64(i%97)/1000, l.regions)
		case 1:
			s = gcpNewSKU(fmt.Sprintf("Storage PD Capacity tier %d in %s", i, l.name), "Storage", "PDStandard", "OnDemand", "GiBy.mo", 0.04, l.regions)
		case 2:
			s = gcpNewSKU(fmt.Sprintf("Network Inter Zone Egress class %d in %s", i, l.name), "Network", "InterzoneEgress", "OnDemand", "GiBy", 0.01, l.regions)
		default:
			s = gcpNewSKU(fmt.Sprintf("N2 Instance Core generation %d running in %s", i, l.name), "Compute", "CPU", "OnDemand", "h", 0.031611, l.regions)
		}
		out = append(out, s)
	}
	return out
}
