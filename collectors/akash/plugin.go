package akash

import (
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.akash section: the common keys only.
type Config struct {
	config.Common `yaml:",inline"`
}

// Off by default: the console API's terms for polling are not known to
// this project (see the README's providers table).
func defaults() *Config {
	return &Config{Common: config.Common{Interval: config.Duration(15 * time.Minute), RateLimit: 1,
		Endpoint: "https://console-api.akash.network"}}
}

// maxResponseBytes bounds one answer: an answer lists a few dozen GPU models (a few KB).
const maxResponseBytes = 16 << 20

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		Fake: collectors.Fake[*Config]{Handler: fake, Point: pointAtFake}, MaxResponseBytes: maxResponseBytes})
}

// fake serves the bid statistics.
func fake(d fakecloud.Drift) http.Handler {
	return fakecloud.NewAkash(fakecloud.AkashOptions{Drift: d})
}

func pointAtFake(c *Config, baseURL string) { c.Endpoint = baseURL }
