package price

import "strings"

// Geos lists the coarse locations shared by all providers.
var Geos = []string{"na", "sa", "eu", "asia", "oc", "me", "af"}

// Geo maps a provider's region id to a coarse location (na, sa, eu, asia, oc,
// me, af), or "" when it cannot tell. Two-letter regions are ISO 3166 country
// codes (marketplaces); the rest follow the cloud naming schemes: AWS
// (us-east-1, ap-southeast-2), GCP (europe-west4, australia-southeast1),
// Azure (westeurope, australiaeast) and Lambda (us-east-1, europe-central-1).
func Geo(region string) string {
	r := strings.ToLower(strings.TrimSpace(region))
	if r == "" {
		return ""
	}
	if len(r) == 2 {
		return countryGeo[r]
	}
	if g, ok := regionGeo[r]; ok {
		return g
	}
	for _, p := range regionPrefixes {
		if strings.HasPrefix(r, p.prefix) {
			return p.geo
		}
	}
	return ""
}

// regionGeo holds the regions whose name does not say where they are, or
// says it misleadingly (ap-southeast-2 is Sydney, not Asia).
var regionGeo = map[string]string{
	// AWS and Lambda
	// Verda's locations: Finland and Iceland.
	// Scaleway's zones: Paris, Amsterdam and Warsaw.
	"fr-par-1": "eu", "fr-par-2": "eu", "fr-par-3": "eu", "nl-ams-1": "eu", "nl-ams-2": "eu", "nl-ams-3": "eu",
	"pl-waw-1": "eu", "pl-waw-2": "eu", "pl-waw-3": "eu",
	"fin-01": "eu", "fin-02": "eu", "fin-03": "eu", "ice-01": "eu",
	"ap-southeast-2": "oc", "ap-southeast-4": "oc", "ap-southeast-6": "oc",
	"il-central-1": "me", "mx-central-1": "na",
	// Azure regions named after a country or city rather than a continent.
	"brazilsouth": "sa", "brazilsoutheast": "sa", "brazilus": "sa", "chilecentral": "sa",
	"mexicocentral": "na", "canadacentral": "na", "canadaeast": "na",
	"uksouth": "eu", "ukwest": "eu", "francecentral": "eu", "francesouth": "eu",
	"germanywestcentral": "eu", "germanynorth": "eu", "norwayeast": "eu", "norwaywest": "eu",
	"swedencentral": "eu", "swedensouth": "eu", "switzerlandnorth": "eu", "switzerlandwest": "eu",
	"polandcentral": "eu", "italynorth": "eu", "spaincentral": "eu", "austriaeast": "eu",
	"belgiumcentral": "eu", "denmarkeast": "eu", "finlandcentral": "eu", "greececentral": "eu",
	"westeurope": "eu", "northeurope": "eu",
	"japaneast": "asia", "japanwest": "asia", "koreacentral": "asia", "koreasouth": "asia",
	"centralindia": "asia", "southindia": "asia", "westindia": "asia", "jioindiawest": "asia",
	"jioindiacentral": "asia", "eastasia": "asia", "southeastasia": "asia",
	"indonesiacentral": "asia", "malaysiawest": "asia", "malaysiasouth": "asia", "taiwannorth": "asia",
	"taiwannorthwest": "asia",
	"australiaeast":   "oc", "australiasoutheast": "oc", "australiacentral": "oc", "australiacentral2": "oc",
	"newzealandnorth": "oc",
	"uaenorth":        "me", "uaecentral": "me", "qatarcentral": "me", "israelcentral": "me",
	"israelnorthwest": "me", "saudiarabiaeast": "me", "kuwaitcentral": "me",
	"southafricanorth": "af", "southafricawest": "af",
	"eastus": "na", "eastus2": "na", "westus": "na", "westus2": "na", "westus3": "na",
	"centralus": "na", "northcentralus": "na", "southcentralus": "na", "westcentralus": "na",
	"eastus2euap": "na", "centraluseuap": "na", "usgovvirginia": "na", "usgovarizona": "na",
	"usgovtexas": "na", "usdodcentral": "na", "usdodeast": "na",
}

// regionPrefixes are tried in order after regionGeo. Besides the clouds'
// schemes they cover Runpod data center ids (US-KS-2, EUR-IS-1, OC-AU-1)
// and AWS's European Sovereign Cloud (eusc-de-east-1).
var regionPrefixes = []struct{ prefix, geo string }{
	{"us-", "na"}, {"ca-", "na"}, {"northamerica-", "na"}, {"mx-", "na"},
	{"sa-", "sa"}, {"southamerica-", "sa"},
	{"eu-", "eu"}, {"europe-", "eu"}, {"uk-", "eu"}, {"eur-", "eu"}, {"eusc-", "eu"},
	{"ap-", "asia"}, {"asia-", "asia"}, {"in-", "asia"}, {"jp-", "asia"},
	{"australia-", "oc"}, {"au-", "oc"}, {"oc-", "oc"},
	{"me-", "me"},
	{"af-", "af"}, {"africa-", "af"},
}

// countryGeo maps ISO 3166-1 alpha-2 codes (lower case) to a coarse location.
var countryGeo = func() map[string]string {
	groups := map[string]string{
		"na":   "us ca mx gt bz sv hn ni cr pa cu jm ht do pr bs bb tt gd lc vc ag dm kn bm gl",
		"sa":   "br ar cl co pe ve ec bo py uy gy sr gf",
		"eu":   "gb uk ie fr de nl be lu ch at it es pt dk se no fi is ee lv lt pl cz sk hu si hr ba rs me mk al gr bg ro md ua by ru mt cy li mc sm ad va xk tr fo gi im je gg",
		"asia": "cn jp kr kp tw hk mo in pk bd lk np bt mv th vn my sg id ph kh la mm bn tl mn kz kg uz tj tm af ge am az",
		"oc":   "au nz fj pg sb vu nc pf ws to ki fm mh pw nr tv",
		"me":   "ae sa qa kw bh om ye il ps jo lb sy iq ir",
		"af":   "za eg ma dz tn ly ng gh ke et tz ug rw sn ci cm ao mz zm zw bw na mg mu sd ss so dj er ml ne bf td cf cg cd ga gq bj tg sl lr gn gw gm mr cv st sc km ls sz mw bi re yt",
	}
	m := make(map[string]string, 250)
	for geo, codes := range groups {
		for _, c := range strings.Fields(codes) {
			m[c] = geo
		}
	}
	return m
}()
