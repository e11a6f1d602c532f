package lambda

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/config"
)

func TestConfigDefaults(t *testing.T) {
	la := config.Builtin().Providers[Name].(*Config)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"enabled (needs a key)", la.Enabled, false},
		{"interval", time.Duration(la.Interval), 5 * time.Minute},
		{"rate_limit (about 1 request/s)", la.RateLimit, 1.0},
		{"endpoint", la.Endpoint, "https://cloud.lambda.ai"},
		{"regions (empty: all)", len(la.Regions), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestConfigLoad(t *testing.T) {
	cfg, err := config.LoadFile(filepath.Join("testdata", "config", "lambda.yml"))
	if err != nil {
		t.Fatal(err)
	}
	la := cfg.Providers[Name].(*Config)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"enabled", la.Enabled, true},
		{"timeout", time.Duration(la.Timeout), time.Minute},
		{"stale_after default", time.Duration(la.StaleAfter), 15 * time.Minute},
		{"api_key (from api_key_file)", la.APIKey.Value(), "lambda-key-456"},
		{"regions", strings.Join(la.Regions, ","), "us-east-1,europe-central-1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s := la.APIKey.String(); s != "<secret>" {
		t.Errorf("the key renders as %q", s)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad-lambda-region.yml", `testdata/config/bad-lambda-region.yml:6: providers.lambda.regions[1]: "us east 2" is not a Lambda region name`},
		{"bad-lambda-secret-both.yml", "testdata/config/bad-lambda-secret-both.yml:4: providers.lambda.api_key_file: api_key and api_key_file are mutually exclusive"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := config.LoadFile(filepath.Join("testdata", "config", tc.file))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
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
