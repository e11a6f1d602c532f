package azure

import (
	"net/http"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.azure section.
type Config struct {
	config.Common `yaml:",inline"`
	// Regions to price (armRegionName values); empty means the built-in
	// list of every public Azure region. Each region is walked on its own,
	// which keeps every walk short and consistent.
	Regions []string `yaml:"regions"`
	// Concurrency is how many regions are fetched at once.
	Concurrency int `yaml:"concurrency"`
}

func defaults() *Config {
	return &Config{
		Common:      config.Common{Enabled: true, Interval: config.Duration(time.Hour), RateLimit: 5, Endpoint: "https://prices.azure.com/api/retail/prices"},
		Concurrency: 4,
	}
}

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if c.Concurrency < 1 {
		return config.Errorf("concurrency", "must be at least 1")
	}
	return config.CheckEach("regions", c.Regions, func(r string) bool { return r != "" && !strings.ContainsAny(r, " '") },
		"an Azure region name")
}

// maxResponseBytes bounds one answer: a page of 1000 rows is about 1 MB, and is streamed.
const maxResponseBytes = 32 << 20

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		Fake: collectors.Fake[*Config]{Handler: fake, Point: pointAtFake}, MaxResponseBytes: maxResponseBytes})
}

// fake serves the Retail Prices API.
func fake(d fakecloud.Drift) http.Handler {
	return fakecloud.NewAzure(fakecloud.AzureOptions{Drift: d})
}

func pointAtFake(c *Config, baseURL string) { c.Endpoint = baseURL + fakecloud.AzurePath }
