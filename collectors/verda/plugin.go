package verda

import (
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.verda section.
type Config struct {
	config.Common `yaml:",inline"`
	// Locations to quote (Verda location codes); Verda's price is the same
	// in each. Default FIN-01.
	Locations []string `yaml:"locations"`
}

// Off by default: Verda's terms for polling its catalog are not known to
// this project (see the README's providers table).
func defaults() *Config {
	return &Config{
		Common:    config.Common{Interval: config.Duration(30 * time.Minute), RateLimit: 1, Endpoint: "https://api.verda.com"},
		Locations: []string{"FIN-01"},
	}
}

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if len(c.Locations) == 0 {
		return config.Errorf("locations", "must name at least one location (e.g. FIN-01)")
	}
	return config.CheckEach("locations", c.Locations, func(l string) bool { return l != "" && !strings.ContainsAny(l, " /'") },
		"a Verda location code")
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the public instance-types catalog.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewVerda, fakecloud.VerdaOptions{})},
		// The instance types are some 50 KB.
		MaxResponseBytes: 16 << 20})
}
