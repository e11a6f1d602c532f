package scaleway

import (
	"regexp"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.scaleway section.
type Config struct {
	config.Common `yaml:",inline"`
	// Zones to walk; default every Scaleway zone (GPUs are sold in a few,
	// which change).
	Zones []string `yaml:"zones"`
}

// AllZones are Scaleway's zones.
var AllZones = []string{"fr-par-1", "fr-par-2", "fr-par-3", "nl-ams-1", "nl-ams-2", "nl-ams-3", "pl-waw-1", "pl-waw-2", "pl-waw-3"}

// Off by default, as every provider added after the first six: Scaleway's
// terms for polling its API anonymously are not known to this project.
func defaults() *Config {
	return &Config{
		Common: config.Common{Interval: config.Duration(time.Hour), RateLimit: 2, Endpoint: "https://api.scaleway.com"},
		Zones:  AllZones,
	}
}

var zoneName = regexp.MustCompile(`^[a-z]{2}-[a-z]{3}-[0-9]+$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if len(c.Zones) == 0 {
		return config.Errorf("zones", "must name at least one zone (e.g. fr-par-2)")
	}
	return config.CheckEach("zones", c.Zones, zoneName.MatchString, "a Scaleway zone")
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the server types of every zone.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewScaleway, fakecloud.ScalewayOptions{})},
		// A zone's server types are some 300 KB.
		MaxResponseBytes: 16 << 20})
}
