package gcp

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigLoad(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_GCP_COMPUTE", "http://127.0.0.1:8097")
	g := configtest.Load(t, "gcp.yml").Providers[Name].(*Config)
	configtest.Check(t, configtest.Fields{
		"enabled":                        {g.Enabled, true},
		"interval":                       {time.Duration(g.Interval), 30 * time.Minute},
		"stale_after default":            {time.Duration(g.StaleAfter), 90 * time.Minute},
		"rate_limit":                     {g.RateLimit, 2.0},
		"api_key (from api_key_file)":    {g.APIKey.Value(), "gcp-key-789"},
		"billing_endpoint":               {g.BillingEndpoint, "http://127.0.0.1:8098"},
		"compute_endpoint (from ${ENV})": {g.ComputeEndpoint, "http://127.0.0.1:8097"},
		"project":                        {g.Project, "my-project-123"},
		"the key's rendering":            {g.APIKey.String(), "<secret>"},
	})
}

func TestConfigErrors(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_GCP_KEY", "k")
	configtest.FileErrors(t, map[string]string{
		"bad-gcp-endpoint.yml": `testdata/config/bad-gcp-endpoint.yml:4: providers.gcp.billing_endpoint: "cloudbilling.googleapis.com" is not an http(s) URL`,
		"bad-gcp-project.yml":  `testdata/config/bad-gcp-project.yml:4: providers.gcp.project: "My Project" is not a Google Cloud project ID`,
	})
	for _, project := range []string{"my-project-123", "example.com:my-project", "abcdef"} {
		g := defaults()
		g.Project = project
		if err := g.Validate(); err != nil {
			t.Errorf("project %q: %v", project, err)
		}
	}
	for _, project := range []string{"abc", "1project", "my_project", "projects/x", "a-b-c-"} {
		g := defaults()
		g.Project = project
		if err := g.Validate(); err == nil {
			t.Errorf("project %q accepted", project)
		}
	}
}
