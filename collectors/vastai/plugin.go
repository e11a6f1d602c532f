package vastai

import (
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.vastai section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey is optional: offer search works without one.
	config.KeyAuth `yaml:",inline"`
	// Limit is the maximum number of offers asked for per search.
	Limit int `yaml:"limit"`
	// VerifiedOnly restricts the search to verified hosts.
	VerifiedOnly bool `yaml:"verified_only"`
}

func defaults() *Config {
	return &Config{
		Common: config.Common{Enabled: true, Interval: config.Duration(2 * time.Minute), RateLimit: 1, Endpoint: "https://console.vast.ai/api/v0"},
		Limit:  10000,
	}
}

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if c.Limit < 1 {
		return config.Errorf("limit", "must be at least 1")
	}
	return nil
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the offer search with 3000 synthesized offers
		// besides the recorded ones.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewVastAI, fakecloud.VastAIOptions{Synthesize: 3000}),
			Path: fakecloud.VastAIBasePath},
		// 10,000 offers (the default limit) are about 6 MB, 60,000 about
		// 36 MB. The answer is streamed, but the offers read before a
		// refusal are aggregated.
		MaxResponseBytes: 64 << 20})
}
