package lambda

import (
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoKey is the only key the demo's fake accepts.
const demoKey = "demo-lambda-key"

// Config is the providers.lambda section.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey is required: the instance-types API refuses anonymous
	// requests. Without it the provider's refreshes fail with an error
	// naming these keys; the other providers are not affected.
	config.KeyAuth `yaml:",inline"`
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
	return config.CheckEach("regions", c.Regions, func(r string) bool { return r != "" && !strings.ContainsAny(r, " \t'/") },
		"a Lambda region name")
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the instance-types API, answering demoKey only.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewLambda, fakecloud.LambdaOptions{APIKey: demoKey}),
			Point: func(c *Config, baseURL string) { c.Endpoint, c.APIKey = baseURL, demoKey }},
		// The instance-types answer is some 100 KB, and is read whole (a
		// map of raw entries).
		MaxResponseBytes: 16 << 20})
}
