package lambda

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoKey is the only key the demo's fake accepts.
const demoKey = "demo-lambda-key"

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{
		Name:     Name,
		Defaults: defaults,
		New:      New,
		Fake: collectors.Fake[*Config]{
			Handler: func(d fakecloud.Drift) http.Handler {
				return fakecloud.NewLambda(fakecloud.LambdaOptions{Drift: d, APIKey: demoKey})
			},
			Point: func(c *Config, baseURL string) { c.Endpoint, c.APIKey = baseURL, demoKey },
		},
	})
}

// Config is the providers.lambda section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey is required: the instance-types API refuses anonymous
	// requests. Without it the provider's refreshes fail with an error
	// naming these keys; the other providers are not affected.
	APIKey     config.Secret `yaml:"api_key"`
	APIKeyFile string        `yaml:"api_key_file"`
	// Regions to price (Lambda region names such as us-east-1); empty
	// means the built-in list of every public Lambda region. A price
	// applies in every region, and each region gets its own series whose
	// availability says whether Lambda has capacity there now.
	Regions []string `yaml:"regions"`
}

func defaults() *Config {
	return &Config{
		// Lambda allows about one API request per second.
		Common: config.Common{Enabled: false, Interval: config.Duration(5 * time.Minute), RateLimit: 1, Endpoint: "https://cloud.lambda.ai"},
	}
}

// Validate implements config.Validator.
func (c *Config) Validate() error {
	for i, r := range c.Regions {
		if r == "" || strings.ContainsAny(r, " \t'/") {
			return config.Errorf(fmt.Sprintf("regions[%d]", i), "%q is not a Lambda region name", r)
		}
	}
	return nil
}

// SecretFiles implements config.SecretFiler.
func (c *Config) SecretFiles() []config.SecretFile {
	return []config.SecretFile{{Secret: &c.APIKey, File: c.APIKeyFile, Key: "api_key", FileKey: "api_key_file"}}
}
