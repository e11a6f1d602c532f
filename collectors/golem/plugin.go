package golem

import (
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.golem section: the common keys only. The GLM
// rate comes from fx.glm_usd_url.
type Config struct {
	config.Common `yaml:",inline"`
}

// Off by default: the stats API's terms for polling are not known to this
// project, and a refresh also reads the GLM rate from a third party
// (CoinGecko by default; see the README's providers table).
func defaults() *Config {
	return &Config{Common: config.Common{Interval: config.Duration(15 * time.Minute), RateLimit: 1,
		Endpoint: "https://api.stats.golem.network"}}
}

// maxResponseBytes bounds one answer: every online node with its
// properties, some megabytes on the live network, streamed.
const maxResponseBytes = 32 << 20

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		Fake: collectors.Fake[*Config]{Handler: fake, Point: pointAtFake}, MaxResponseBytes: maxResponseBytes})
}

// fake serves the online providers, without the node of an unknown GPU
// (the demo names only known ones).
func fake(d fakecloud.Drift) http.Handler {
	return fakecloud.NewGolem(fakecloud.GolemOptions{Drift: d, KnownGPUsOnly: true})
}

func pointAtFake(c *Config, baseURL string) { c.Endpoint = baseURL }
