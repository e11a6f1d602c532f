package akash

import (
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.akash section: the common keys only.
type Config = config.Common

// Off by default: the console API's terms for polling are not known to
// this project (see the README's providers table).
func defaults() *Config {
	return &Config{Interval: config.Duration(15 * time.Minute), RateLimit: 1, Endpoint: "https://console-api.akash.network"}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the bid statistics.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewAkash, fakecloud.AkashOptions{})},
		// An answer lists a few dozen GPU models (a few KB).
		MaxResponseBytes: 16 << 20})
}
