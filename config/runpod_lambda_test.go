package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRunpodLambdaDefaults(t *testing.T) {
	cfg := Builtin()
	rp, la := cfg.Providers.Runpod, cfg.Providers.Lambda
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"runpod.enabled (needs no credentials)", rp.Enabled, true},
		{"runpod.interval", time.Duration(rp.Interval), 5 * time.Minute},
		{"runpod.timeout", time.Duration(rp.Timeout), 5 * time.Minute},
		{"runpod.stale_after", time.Duration(rp.StaleAfter), 15 * time.Minute},
		{"runpod.rate_limit", rp.RateLimit, 1.0},
		{"runpod.endpoint", rp.Endpoint, "https://api.runpod.io/graphql"},
		{"runpod.api_key", rp.APIKey.Value(), ""},
		{"lambda.enabled (needs a key)", la.Enabled, false},
		{"lambda.interval", time.Duration(la.Interval), 5 * time.Minute},
		{"lambda.rate_limit (about 1 request/s)", la.RateLimit, 1.0},
		{"lambda.endpoint", la.Endpoint, "https://cloud.lambda.ai"},
		{"lambda.regions (empty: all)", len(la.Regions), 0},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestRunpodLambdaLoad(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_RUNPOD_KEY", "rp-key-123")
	cfg, err := LoadFile(filepath.Join("testdata", "runpod-lambda.yml"))
	if err != nil {
		t.Fatal(err)
	}
	rp, la := cfg.Providers.Runpod, cfg.Providers.Lambda
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"runpod.interval", time.Duration(rp.Interval), 10 * time.Minute},
		{"runpod.rate_limit", rp.RateLimit, 2.0},
		{"runpod.api_key (from ${ENV})", rp.APIKey.Value(), "rp-key-123"},
		{"lambda.enabled", la.Enabled, true},
		{"lambda.timeout", time.Duration(la.Timeout), time.Minute},
		{"lambda.stale_after default", time.Duration(la.StaleAfter), 15 * time.Minute},
		{"lambda.api_key (from api_key_file)", la.APIKey.Value(), "lambda-key-456"},
		{"lambda.regions", strings.Join(la.Regions, ","), "us-east-1,europe-central-1"},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if s := la.APIKey.String(); s != "<secret>" {
		t.Errorf("the Lambda key renders as %q", s)
	}
}

func TestRunpodLambdaErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad-lambda-region.yml", `testdata/bad-lambda-region.yml:6: providers.lambda.regions[1]: "us east 2" is not a Lambda region name`},
		{"bad-lambda-secret-both.yml", "testdata/bad-lambda-secret-both.yml:4: providers.lambda.api_key_file: api_key and api_key_file are mutually exclusive"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", tc.file))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// TestLambdaWithoutKeyLoads: enabling Lambda without a key is not a
// configuration error (the provider's refreshes fail instead, and say
// which key to set), so that it cannot stop the daemon.
func TestLambdaWithoutKeyLoads(t *testing.T) {
	cfg, err := Load([]byte("providers:\n  lambda:\n    enabled: true\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Providers.Lambda.Enabled || cfg.Providers.Lambda.APIKey != "" {
		t.Errorf("lambda section %+v", cfg.Providers.Lambda)
	}
}
