package price

import (
	"slices"
	"testing"
)

func TestGeo(t *testing.T) {
	for _, tc := range []struct {
		provider, region, want string
	}{
		// AWS
		{"aws", "us-east-1", "na"},
		{"aws", "us-west-2", "na"},
		{"aws", "ca-central-1", "na"},
		{"aws", "mx-central-1", "na"},
		{"aws", "sa-east-1", "sa"},
		{"aws", "eu-central-1", "eu"},
		{"aws", "eusc-de-east-1", "eu"},
		{"aws", "ap-northeast-1", "asia"},
		{"aws", "ap-south-1", "asia"},
		{"aws", "ap-southeast-1", "asia"},
		{"aws", "ap-southeast-2", "oc"}, // Sydney, despite "ap-"
		{"aws", "ap-southeast-4", "oc"}, // Melbourne
		{"aws", "ap-southeast-6", "oc"}, // New Zealand
		{"aws", "il-central-1", "me"},
		{"aws", "me-central-1", "me"},
		{"aws", "me-south-1", "me"},
		{"aws", "af-south-1", "af"},
		{"aws", "us-gov-west-1", "na"},
		// GCP
		{"gcp", "us-central1", "na"},
		{"gcp", "northamerica-northeast1", "na"},
		{"gcp", "northamerica-south1", "na"},
		{"gcp", "southamerica-east1", "sa"},
		{"gcp", "europe-west4", "eu"},
		{"gcp", "asia-southeast1", "asia"},
		{"gcp", "asia-northeast1", "asia"},
		{"gcp", "australia-southeast1", "oc"},
		{"gcp", "me-west1", "me"},
		{"gcp", "me-central2", "me"},
		{"gcp", "africa-south1", "af"},
		// Azure
		{"azure", "eastus", "na"},
		{"azure", "westus3", "na"},
		{"azure", "WestUS3", "na"}, // the SKU API's casing
		{"azure", "canadacentral", "na"},
		{"azure", "usdodeast", "na"},
		{"azure", "brazilsouth", "sa"},
		{"azure", "westeurope", "eu"},
		{"azure", "swedencentral", "eu"},
		{"azure", "uksouth", "eu"},
		{"azure", "japaneast", "asia"},
		{"azure", "centralindia", "asia"},
		{"azure", "southeastasia", "asia"},
		{"azure", "australiaeast", "oc"},
		{"azure", "newzealandnorth", "oc"},
		{"azure", "uaenorth", "me"},
		{"azure", "israelcentral", "me"},
		{"azure", "southafricanorth", "af"},
		// Lambda
		{"lambda", "us-east-1", "na"},
		{"lambda", "us-midwest-1", "na"},
		{"lambda", "europe-central-1", "eu"},
		{"lambda", "asia-northeast-1", "asia"},
		{"lambda", "asia-south-1", "asia"},
		{"lambda", "australia-east-1", "oc"},
		{"lambda", "me-west-1", "me"},
		// Runpod data centers (lower-cased by the collector or not)
		{"runpod", "US-KS-2", "na"},
		{"runpod", "ca-mtl-1", "na"},
		{"runpod", "eu-ro-1", "eu"},
		{"runpod", "EUR-IS-1", "eu"},
		{"runpod", "ap-jp-1", "asia"},
		{"runpod", "oc-au-1", "oc"},
		// ISO 3166 country codes (Vast.ai, Runpod community cloud)
		{"vastai", "US", "na"},
		{"vastai", "CA", "na"},
		{"vastai", "DE", "eu"},
		{"vastai", "jp", "asia"},
		{"vastai", "AU", "oc"},
		{"vastai", "BR", "sa"},
		{"vastai", "AE", "me"},
		{"vastai", "ZA", "af"},
		{"vastai", "IN", "asia"},
		{"vastai", "GB", "eu"},
		{"vastai", "SA", "me"}, // Saudi Arabia, not South America
		{"vastai", "NA", "af"}, // Namibia, not North America
		{"vastai", " US ", "na"},
		// Nothing to tell
		{"", "", ""},
		{"", "   ", ""},
		{"", "garbage", ""},
		{"", "xx-nowhere-1", ""},
		{"", "ZZ", ""},
		{"", "EU", ""}, // not a country
		{"", "global", ""},
		{"", "u", ""},
	} {
		t.Run(tc.provider+"/"+tc.region, func(t *testing.T) {
			got := Geo(tc.region)
			if got != tc.want {
				t.Errorf("Geo(%q) = %q, want %q", tc.region, got, tc.want)
			}
			if got != "" && !slices.Contains(Geos, got) {
				t.Errorf("Geo(%q) = %q, which is not in Geos", tc.region, got)
			}
		})
	}
}

// Every value the tables hold must be one of Geos.
func TestGeoTablesUseKnownGeos(t *testing.T) {
	for r, g := range regionGeo {
		if !slices.Contains(Geos, g) {
			t.Errorf("regionGeo[%q] = %q", r, g)
		}
	}
	for _, p := range regionPrefixes {
		if !slices.Contains(Geos, p.geo) {
			t.Errorf("prefix %q maps to %q", p.prefix, p.geo)
		}
	}
	for c, g := range countryGeo {
		if len(c) != 2 || !slices.Contains(Geos, g) {
			t.Errorf("countryGeo[%q] = %q", c, g)
		}
	}
}
