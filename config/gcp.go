package config

import (
	"net/url"
	"regexp"
	"time"
)

// GCP configures the Google Cloud collector: GPU and machine prices from the
// Cloud Billing Catalog API, and optionally which zones offer each GPU, from
// the Compute Engine API.
type GCP struct {
	Common `yaml:",inline"`
	// APIKey authenticates the Cloud Billing Catalog requests (a key of a
	// project with the Cloud Billing API enabled). Without one the
	// collector uses application default credentials.
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
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

func defaultGCP() GCP {
	return GCP{
		Common: Common{Interval: Duration(time.Hour), RateLimit: 5, Endpoint: "https://cloudbilling.googleapis.com"},
	}
}

// gcpProject is a project ID, optionally domain-scoped (example.com:my-project).
var gcpProject = regexp.MustCompile(`^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$`)

func (g *GCP) validate(key string) error {
	for _, e := range []struct{ key, value string }{
		{"billing_endpoint", g.BillingEndpoint},
		{"compute_endpoint", g.ComputeEndpoint},
	} {
		if e.value == "" {
			continue
		}
		u, err := url.Parse(e.value)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return keyErrorf(key+"."+e.key, "%q is not an http(s) URL", e.value)
		}
	}
	if g.Project != "" && !gcpProject.MatchString(g.Project) {
		return keyErrorf(key+".project", "%q is not a Google Cloud project ID", g.Project)
	}
	return nil
}

func (g *GCP) secretFiles() []secretFile {
	return []secretFile{{value: &g.APIKey, file: g.APIKeyFile, key: "api_key", fileKey: "api_key_file"}}
}
