package config

import (
	"fmt"
	"strings"
	"time"
)

// Azure configures the Azure Retail Prices collector.
type Azure struct {
	Common `yaml:",inline"`
	// Regions to price (armRegionName values); empty means the built-in
	// list of every public Azure region. Each region is walked on its own,
	// which keeps every walk short and consistent.
	Regions []string `yaml:"regions"`
	// Concurrency is how many regions are fetched at once.
	Concurrency int `yaml:"concurrency"`
}

func defaultAzure() Azure {
	return Azure{
		Common:      Common{Enabled: true, Interval: Duration(time.Hour), RateLimit: 5, Endpoint: "https://prices.azure.com/api/retail/prices"},
		Concurrency: 4,
	}
}

func (a *Azure) validate(key string) error {
	if a.Concurrency < 1 {
		return keyErrorf(key+".concurrency", "must be at least 1")
	}
	for i, r := range a.Regions {
		if r == "" || strings.ContainsAny(r, " '") {
			return keyErrorf(fmt.Sprintf("%s.regions[%d]", key, i), "%q is not an Azure region name", r)
		}
	}
	return nil
}
