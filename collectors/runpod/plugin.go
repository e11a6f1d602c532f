package runpod

import (
	"net/http"
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

// maxResponseBytes bounds one answer: a gpuTypes answer is some 50 KB.
const maxResponseBytes = 16 << 20

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		Fake: collectors.Fake[*Config]{Handler: fake, Point: pointAtFake}, MaxResponseBytes: maxResponseBytes})
}

// fake serves the GraphQL API.
func fake(d fakecloud.Drift) http.Handler {
	return fakecloud.NewRunpod(fakecloud.RunpodOptions{Drift: d})
}

func pointAtFake(c *Config, baseURL string) { c.Endpoint = baseURL + fakecloud.RunpodPath }
