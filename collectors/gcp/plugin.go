package gcp

import (
	"regexp"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// Config is the providers.gcp section: GPU and machine prices from the
// Cloud Billing Catalog API, and optionally which zones offer each GPU,
// from the Compute Engine API.
type Config struct {
	config.Common `yaml:",inline"`
	// APIKey authenticates the Cloud Billing Catalog requests (a key of a
	// project with the Cloud Billing API enabled). Without one the
	// collector uses application default credentials.
	config.KeyAuth `yaml:",inline"`
	// BillingEndpoint is the Cloud Billing API's base URL; empty means
	// Endpoint (whose default is Google's).
	BillingEndpoint string `yaml:"billing_endpoint"`
	// ComputeEndpoint is the Compute Engine API's base URL; empty means
	// Google's.
	ComputeEndpoint string `yaml:"compute_endpoint"`
	// Project is the Google Cloud project whose view of accelerator
	// availability per zone is read. It needs application default
	// credentials (API keys are not accepted by the Compute Engine API);
	// empty turns availability off.
	Project string `yaml:"project"`
}

func defaults() *Config {
	return &Config{
		Common: config.Common{Interval: config.Duration(time.Hour), RateLimit: 5, Endpoint: "https://cloudbilling.googleapis.com"},
	}
}

// projectID is a project ID, optionally domain-scoped (example.com:my-project).
var projectID = regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

// Validate implements config.Validator.
func (c *Config) Validate() error {
	if err := config.CheckURL("billing_endpoint", c.BillingEndpoint); err != nil {
		return err
	}
	if err := config.CheckURL("compute_endpoint", c.ComputeEndpoint); err != nil {
		return err
	}
	if c.Project != "" && !projectID.MatchString(c.Project) {
		return config.Errorf("project", "%q is not a Google Cloud project ID", c.Project)
	}
	return nil
}

func init() {
	collectors.Register(collectors.Plugin[*Config, *Collector]{Name: Name, Defaults: defaults, New: New,
		// The fake serves the Cloud Billing catalog, padded with 6000 SKUs
		// that are not GPUs as the real one is. It is pointed at with no
		// project, so no availability: that needs application default
		// credentials.
		Fake: collectors.Fake[*Config]{Handler: fakecloud.Demo(fakecloud.NewGCP, fakecloud.GCPOptions{Filler: 6000, KnownGPUsOnly: true}),
			Point: func(c *Config, baseURL string) { c.BillingEndpoint, c.APIKey = baseURL, fakecloud.GCPDemoKey }},
		// A page of 5000 SKUs is 4-10 MB, which Google's client reads
		// whole before decoding.
		MaxResponseBytes: 32 << 20})
}
