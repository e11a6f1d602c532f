package config

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestLoadGood(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_VAST_ENDPOINT", "http://127.0.0.1:8099/api/v0")
	cfg, err := LoadFile(filepath.Join("testdata", "good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	az, vast := cfg.Providers.Azure, cfg.Providers.VastAI
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"storage.path", cfg.Storage.Path, "/var/lib/gpuprice"},
		{"storage.retention", time.Duration(cfg.Storage.Retention), 90 * 24 * time.Hour},
		{"max_gpu_usd_per_hour", cfg.MaxGPUUSDPerHour, 150.0},
		{"azure.interval", time.Duration(az.Interval), 30 * time.Minute},
		{"azure.timeout", time.Duration(az.Timeout), 2 * time.Minute},
		{"azure.stale_after", time.Duration(az.StaleAfter), 2 * time.Hour},
		{"azure.regions", strings.Join(az.Regions, ","), "eastus,westeurope"},
		{"azure.concurrency", az.Concurrency, 2},
		{"vastai.endpoint (from ${ENV})", vast.Endpoint, "http://127.0.0.1:8099/api/v0"},
		{"vastai.api_key (from api_key_file)", vast.APIKey.Value(), "secret-key-123"},
		{"vastai.timeout default = interval", time.Duration(vast.Timeout), 90 * time.Second},
		{"vastai.stale_after default = 3 × interval", time.Duration(vast.StaleAfter), 270 * time.Second},
		{"vastai.rate_limit default", vast.RateLimit, 1.0},
		{"vastai.limit", vast.Limit, 500},
		{"vastai.verified_only", vast.VerifiedOnly, true},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "providers: {}\n"} {
		cfg, err := Load([]byte(text), "x.yml")
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		if cfg.Storage.Driver != "sqlite" || cfg.Storage.Path != "data" || !cfg.Providers.Azure.Enabled || !cfg.Providers.VastAI.Enabled {
			t.Errorf("%q: defaults not applied: %+v", text, cfg)
		}
		if time.Duration(cfg.Providers.Azure.Timeout) != 5*time.Minute || time.Duration(cfg.Providers.Azure.StaleAfter) != 3*time.Hour {
			t.Errorf("%q: derived azure defaults wrong: timeout %s stale %s", text, cfg.Providers.Azure.Timeout, cfg.Providers.Azure.StaleAfter)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad-unknown-key.yml", "testdata/bad-unknown-key.yml:4: providers.azure.intervall: unknown key (check its spelling and indentation)"},
		{"bad-interval.yml", "testdata/bad-interval.yml:3: providers.vastai.interval: 1s is below the minimum of 5s"},
		{"bad-duration.yml", `testdata/bad-duration.yml:2: "forever" is not a duration (use e.g. 90s, 5m, 1h, 90d)`},
		{"bad-endpoint.yml", `testdata/bad-endpoint.yml:3: providers.azure.endpoint: "prices.azure.com" is not an http(s) URL`},
		{"bad-env.yml", "testdata/bad-env.yml:3: environment variable GPUPRICE_TEST_UNSET_VARIABLE is not set"},
		{"bad-secret-both.yml", "testdata/bad-secret-both.yml:4: providers.vastai.api_key_file: api_key and api_key_file are mutually exclusive"},
		{"bad-secret-missing.yml", "testdata/bad-secret-missing.yml:3: providers.vastai.api_key_file: open testdata/no-such.key: no such file or directory"},
		{"bad-driver.yml", `testdata/bad-driver.yml:2: storage.driver: "mysql" is not supported (use sqlite)`},
		{"bad-syntax.yml", "testdata/bad-syntax.yml:4: could not find expected ':'"},
		{"bad-region.yml", `testdata/bad-region.yml:5: providers.azure.regions[1]: "west europe" is not an Azure region name`},
		{"bad-stale.yml", "testdata/bad-stale.yml:4: providers.azure.stale_after: 30m is shorter than the interval 1h"},
		{"bad-type.yml", "testdata/bad-type.yml:3: cannot unmarshal !!str `many` into int"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			_, err := LoadFile(filepath.Join("testdata", tc.file))
			if err == nil {
				t.Fatal("loaded without error")
			}
			if err.Error() != tc.want {
				t.Errorf("error\n got: %s\nwant: %s", err, tc.want)
			}
		})
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	cfg := Default()
	cfg.Providers.VastAI.APIKey = "hunter2"
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for name, out := range map[string]string{"yaml": string(y), "json": string(j), "String": cfg.Providers.VastAI.APIKey.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s output contains the secret:\n%s", name, out)
		}
	}
}

func TestProvidersEach(t *testing.T) {
	cfg := Default()
	if got := strings.Join(cfg.Providers.Names(), ","); got != "azure,vastai,runpod,lambda,aws,gcp" {
		t.Errorf("Names = %s", got)
	}
	s, ok := cfg.Providers.Get("vastai")
	if !ok || s.Settings() != &cfg.Providers.VastAI.Common {
		t.Error("Get(vastai) does not return the vastai section")
	}
	if _, ok := cfg.Providers.Get("nope"); ok {
		t.Error("Get(nope) found a section")
	}
}

func TestBuiltinIsValid(t *testing.T) {
	cfg := Builtin()
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEnvInCommentsIgnored(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_KEY", "k1")
	text := "providers:\n  vastai:\n    # api_key: ${GPUPRICE_TEST_UNSET_VARIABLE}\n    api_key: \"${GPUPRICE_TEST_KEY}\" # not ${GPUPRICE_TEST_UNSET_VARIABLE}\n    endpoint: \"http://h/#frag\"\n"
	cfg, err := Load([]byte(text), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Providers.VastAI.APIKey.Value(); got != "k1" {
		t.Errorf("api_key = %q, want k1", got)
	}
	if got := cfg.Providers.VastAI.Endpoint; got != "http://h/#frag" {
		t.Errorf("endpoint = %q: a # inside quotes is not a comment", got)
	}
}

func TestDesignExampleKeys(t *testing.T) {
	for _, tc := range []struct{ name, text, wantErr string }{
		{"empty endpoint means the provider's own", "providers:\n  lambda: {enabled: false, api_key_file: \"\", endpoint: \"\"}\n", ""},
		{"dsn accepted with sqlite", "storage:\n  driver: sqlite\n  dsn: \"\"\n", ""},
		{"postgres not yet", "storage:\n  driver: postgres\n", `x.yml:2: storage.driver: postgres is not supported yet (use sqlite)`},
		{"remote_write not yet", "remote_write:\n  - {url: \"http://mimir:9009/api/v1/push\"}\n",
			"x.yml:1: remote_write: not supported yet: remove it and let Prometheus scrape /metrics (or federate) instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := Load([]byte(tc.text), "x.yml")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Providers.Lambda.Endpoint; got != "https://cloud.lambda.ai" {
				t.Errorf("lambda endpoint = %q, want the default", got)
			}
		})
	}
}
