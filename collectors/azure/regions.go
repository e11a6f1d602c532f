package azure

// publicRegions is every public Azure region (armRegionName) that has or
// may get GPU sizes: the regions of the Azure public cloud, without the
// canary (*euap) and government (usgov*) ones, which are not public. A
// region without N-series prices costs one request that returns no items,
// so the list errs on the side of completeness; config can narrow it.
var publicRegions = []string{
	// Americas
	"eastus", "eastus2", "centralus", "northcentralus", "southcentralus", "westcentralus",
	"westus", "westus2", "westus3", "canadacentral", "canadaeast", "mexicocentral",
	"brazilsouth", "brazilsoutheast", "chilecentral",
	// Europe
	"northeurope", "westeurope", "uksouth", "ukwest", "francecentral", "francesouth",
	"germanywestcentral", "germanynorth", "norwayeast", "norwaywest", "swedencentral",
	"switzerlandnorth", "switzerlandwest", "polandcentral", "italynorth", "spaincentral",
	"austriaeast", "belgiumcentral",
	// Asia
	"eastasia", "southeastasia", "japaneast", "japanwest", "koreacentral", "koreasouth",
	"centralindia", "southindia", "westindia", "jioindiawest", "jioindiacentral",
	"indonesiacentral", "malaysiawest",
	// Oceania
	"australiaeast", "australiasoutheast", "australiacentral", "australiacentral2", "newzealandnorth",
	// Middle East and Africa
	"uaenorth", "uaecentral", "qatarcentral", "israelcentral",
	"southafricanorth", "southafricawest",
}

// DefaultRegions returns the regions walked when the config names none:
// every public Azure region.
func DefaultRegions() []string { return append([]string(nil), publicRegions...) }
