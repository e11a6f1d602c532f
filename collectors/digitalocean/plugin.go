package digitalocean

import (
	"net/http"
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

// maxResponseBytes bounds one answer: a page of sizes is some 200 KB.
const maxResponseBytes = 16 << 20

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		Fake: collectors.Fake[*Config]{Handler: fake, Point: pointAtFake}, MaxResponseBytes: maxResponseBytes})
}

// fake serves the sizes list, taking demoToken only.
func fake(d fakecloud.Drift) http.Handler {
	return fakecloud.NewDigitalOcean(fakecloud.DigitalOceanOptions{Drift: d, Token: demoToken})
}

func pointAtFake(c *Config, baseURL string) { c.Endpoint, c.APIToken = baseURL, demoToken }
