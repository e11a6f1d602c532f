package golem

import (
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.golem section: the common keys only. The GLM
// rate comes from fx.glm_usd_url.
type Config = config.Common

// Off by default: the stats API's terms for polling are not known to this
// project, and a refresh also reads the GLM rate from a third party
// (CoinGecko by default; see the README's providers table).
func defaults() *Config {
	return &Config{Interval: config.Duration(15 * time.Minute), RateLimit: 1, Endpoint: "https://api.stats.golem.network"}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the online providers, without the node of an
		// unknown GPU (the demo names only known ones).
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewGolem, fakecloud.GolemOptions{KnownGPUsOnly: true})},
		// Every online node with its properties: some megabytes on the
		// live network, streamed.
		MaxResponseBytes: 32 << 20})
}
