package lambda

import (
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
)

func TestConfigLoad(t *testing.T) {
	la := configtest.Load(t, "lambda.yml").Providers[Name].(*Config)
	configtest.Check(t, configtest.Fields{
		"enabled":                     {la.Enabled, true},
		"timeout":                     {time.Duration(la.Timeout), time.Minute},
		"stale_after default":         {time.Duration(la.StaleAfter), 15 * time.Minute},
		"api_key (from api_key_file)": {la.APIKey.Value(), "lambda-key-456"},
		"regions":                     {strings.Join(la.Regions, ","), "us-east-1,europe-central-1"},
		"the key's rendering":         {la.APIKey.String(), "<secret>"},
	})
}

func TestConfigErrors(t *testing.T) {
	configtest.FileErrors(t, map[string]string{
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
