package runpod

import (
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.runpod section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey is optional: gpuTypes answers without one. When set it is
	// sent as the api_key query parameter, as Runpod's own clients do.
	config.KeyAuth `yaml:",inline"`
}

func defaults() *Config {
	return &Config{
		Common: config.Common{Enabled: true, Interval: config.Duration(5 * time.Minute), RateLimit: 1, Endpoint: "https://api.runpod.io/graphql"},
	}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the GraphQL API.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewRunpod, fakecloud.RunpodOptions{}), Path: fakecloud.RunpodPath},
		// A gpuTypes answer is some 50 KB.
		MaxResponseBytes: 16 << 20})
}
