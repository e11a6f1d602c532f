package oci

import (
	"regexp"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.oci section.
type Config struct {
	config.Common `yaml:",inline"`
	// Regions to quote (OCI region identifiers); OCI's price is the same
	// in every commercial region. Default us-ashburn-1.
	Regions []string `yaml:"regions"`
}

// Off by default, as every provider added after the first six: Oracle's
// terms say nothing of reading the estimator's files from a program.
func defaults() *Config {
	return &Config{
		Common:  config.Common{Interval: config.Duration(time.Hour), RateLimit: 1, Endpoint: "https://www.oracle.com" + fakecloud.OCIPath},
		Regions: []string{"us-ashburn-1"},
	}
}

// regionID matches OCI region identifiers (us-ashburn-1, eu-frankfurt-1).
var regionID = regexp.MustCompile(`^[a-z]{2}-[a-z]+-[0-9]+$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if len(c.Regions) == 0 {
		return config.Errorf("regions", "must name at least one region (e.g. us-ashburn-1)")
	}
	return config.CheckEach("regions", c.Regions, regionID.MatchString, "an OCI region identifier")
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the cost estimator's products and shapes files.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewOCI, fakecloud.OCIOptions{}), Path: fakecloud.OCIPath},
		// The estimator's products and shapes files are a few MB.
		MaxResponseBytes: 32 << 20})
}
