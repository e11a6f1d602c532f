package lambda

import (
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigDefaults(t *testing.T) {
	la := config.Builtin().Providers[Name].(*Config)
	configtest.Check(t, []configtest.Field{
		{"enabled (needs a key)", la.Enabled, false},
		{"interval", time.Duration(la.Interval), 5 * time.Minute},
		{"rate_limit (about 1 request/s)", la.RateLimit, 1.0},
		{"endpoint", la.Endpoint, "https://cloud.lambda.ai"},
		{"regions (empty: all)", len(la.Regions), 0},
	})
}

func TestConfigLoad(t *testing.T) {
	cfg := configtest.Load(t, "lambda.yml")
	la := cfg.Providers[Name].(*Config)
	configtest.Check(t, []configtest.Field{
		{"enabled", la.Enabled, true},
		{"timeout", time.Duration(la.Timeout), time.Minute},
		{"stale_after default", time.Duration(la.StaleAfter), 15 * time.Minute},
		{"api_key (from api_key_file)", la.APIKey.Value(), "lambda-key-456"},
		{"regions", strings.Join(la.Regions, ","), "us-east-1,europe-central-1"},
	})
	if s := la.APIKey.String(); s != "<secret>" {
		t.Errorf("the key renders as %q", s)
	}
}

func TestConfigErrors(t *testing.T) {
	configtest.Errors(t, map[string]string{
		"bad-lambda-region.yml":      `testdata/config/bad-lambda-region.yml:6: providers.lambda.regions[1]: "us east 2" is not a Lambda region name`,
		"bad-lambda-secret-both.yml": "testdata/config/bad-lambda-secret-both.yml:4: providers.lambda.api_key_file: api_key and api_key_file are mutually exclusive",
	})
}

// TestWithoutKeyLoads: enabling Lambda without a key is not a
// configuration error (the provider's refreshes fail instead, and say
// which key to set), so that it cannot stop the daemon.
func TestWithoutKeyLoads(t *testing.T) {
	cfg, err := config.Load([]byte("providers:\n  lambda:\n    enabled: true\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if la := cfg.Providers[Name].(*Config); !la.Enabled || la.APIKey != "" {
		t.Errorf("lambda section %+v", la)
	}
}
