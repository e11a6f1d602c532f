package ovhcloud

import (
	"regexp"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.ovhcloud section.
type Config struct {
	config.Common `yaml:",inline"`
	// Subsidiary is the OVHcloud subsidiary whose catalog is read
	// (ovhSubsidiary): it sets the currency and the prices. The endpoint
	// must be the API that serves it: https://eu.api.ovh.com/1.0 for the
	// European ones (FR, DE, GB, ...), https://ca.api.ovh.com/1.0 for CA,
	// QC, SG, AU, ..., https://api.us.ovhcloud.com/1.0 for US.
	Subsidiary string `yaml:"subsidiary"`
}

// Off by default, as every provider added after the first six: OVHcloud's
// terms for polling its catalog anonymously are not known to this
// project.
func defaults() *Config {
	return &Config{
		Common:     config.Common{Interval: config.Duration(time.Hour), RateLimit: 1, Endpoint: "https://eu.api.ovh.com/1.0"},
		Subsidiary: "FR",
	}
}

var subsidiaryName = regexp.MustCompile(`^[A-Za-z]{2,4}$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if !subsidiaryName.MatchString(c.Subsidiary) {
		return config.Errorf("subsidiary", "%q is not an OVHcloud subsidiary (FR, DE, GB, CA, US, ...)", c.Subsidiary)
	}
	return nil
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the FR subsidiary's public cloud catalog,
		// without the flavor of an unknown GPU (the demo names only known
		// ones).
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewOVHcloud, fakecloud.OVHcloudOptions{KnownGPUsOnly: true}),
			Point: func(c *Config, baseURL string) { c.Endpoint, c.Subsidiary = baseURL, "FR" }},
		// The public cloud catalog of every product is some megabytes,
		// and is streamed.
		MaxResponseBytes: 64 << 20})
}
