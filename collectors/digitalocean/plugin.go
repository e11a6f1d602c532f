package digitalocean

import (
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoToken is the token the demo's fake takes.
const demoToken = "dop_v1_demo"

// Config is the providers.digitalocean section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIToken is a personal access token (read scope is enough).
	APIToken     config.Secret `yaml:"api_token"`
	APITokenFile string        `yaml:"api_token_file"`
}

// Off by default: it needs a token.
func defaults() *Config {
	return &Config{Common: config.Common{Interval: config.Duration(time.Hour), RateLimit: 2, Endpoint: "https://api.digitalocean.com"}}
}

// SecretFiles implements config.SecretFiler.
func (c *Config) SecretFiles() []config.SecretFile {
	return []config.SecretFile{{Secret: &c.APIToken, File: c.APITokenFile, Key: "api_token", FileKey: "api_token_file"}}
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the sizes list, taking demoToken only.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewDigitalOcean, fakecloud.DigitalOceanOptions{Token: demoToken}),
			Point: func(c *Config, baseURL string) { c.Endpoint, c.APIToken = baseURL, demoToken }},
		// A page of sizes is some 200 KB.
		MaxResponseBytes: 16 << 20})
}
