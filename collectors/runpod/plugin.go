package runpod

import (
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{
		Name:     Name,
		Defaults: defaults,
		New:      New,
		Fake: collectors.Fake[*Config]{
			Handler: func(d fakecloud.Drift) http.Handler { return fakecloud.NewRunpod(fakecloud.RunpodOptions{Drift: d}) },
			Point:   func(c *Config, baseURL string) { c.Endpoint = baseURL + fakecloud.RunpodPath },
		},
	})
}

// Config is the providers.runpod section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey is optional: gpuTypes answers without one. When set it is
	// sent as the api_key query parameter, as Runpod's own clients do.
	APIKey     config.Secret `yaml:"api_key"`
	APIKeyFile string        `yaml:"api_key_file"`
}

func defaults() *Config {
	return &Config{
		Common: config.Common{Enabled: true, Interval: config.Duration(5 * time.Minute), RateLimit: 1, Endpoint: "https://api.runpod.io/graphql"},
	}
}

// SecretFiles implements config.SecretFiler.
func (c *Config) SecretFiles() []config.SecretFile {
	return []config.SecretFile{{Secret: &c.APIKey, File: c.APIKeyFile, Key: "api_key", FileKey: "api_key_file"}}
}
