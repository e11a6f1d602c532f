package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// alpha and beta are the sections the tests below decode: two shapes of a
// provider's section (a list and a concurrency; a secret with its *_file
// twin), registered as a provider package registers its own.
type alpha struct {
	Common      `yaml:",inline"`
	Regions     []string `yaml:"regions"`
	Concurrency int      `yaml:"concurrency"`
}

func (a *alpha) Validate() error {
	if a.Concurrency < 1 {
		return Errorf("concurrency", "must be at least 1")
	}
	for i, r := range a.Regions {
		if strings.Contains(r, " ") {
			return Errorf(fmt.Sprintf("regions[%d]", i), "%q is not a region name", r)
		}
	}
	return nil
}

type beta struct {
	Common       `yaml:",inline"`
	APIKey       Secret `yaml:"api_key"`
	APIKeyFile   string `yaml:"api_key_file"`
	Limit        int    `yaml:"limit"`
	VerifiedOnly bool   `yaml:"verified_only"`
}

func (b *beta) SecretFiles() []SecretFile {
	return []SecretFile{{Secret: &b.APIKey, File: b.APIKeyFile, Key: "api_key", FileKey: "api_key_file"}}
}

func init() {
	RegisterProvider("alpha", func() Section {
		return &alpha{Common: Common{Enabled: true, Interval: Duration(time.Hour), RateLimit: 5, Endpoint: "https://alpha.example/api"}, Concurrency: 4}
	})
	RegisterProvider("beta", func() Section {
		return &beta{Common: Common{Enabled: true, Interval: Duration(2 * time.Minute), RateLimit: 1, Endpoint: "https://beta.example/api/v0"}, Limit: 10000}
	})
}

func testSections(cfg *Config) (*alpha, *beta) {
	return cfg.Providers["alpha"].(*alpha), cfg.Providers["beta"].(*beta)
}

func TestLoadGood(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_VAST_ENDPOINT", "http://127.0.0.1:8099/api/v0")
	cfg, err := LoadFile(filepath.Join("testdata", "good.yml"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := testSections(cfg)
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"storage.path", cfg.Storage.Path, "/var/lib/gpuprice"},
		{"storage.retention", time.Duration(cfg.Storage.Retention), 90 * 24 * time.Hour},
		{"max_gpu_usd_per_hour", cfg.MaxGPUUSDPerHour, 150.0},
		{"alpha.interval", time.Duration(a.Interval), 30 * time.Minute},
		{"alpha.timeout", time.Duration(a.Timeout), 2 * time.Minute},
		{"alpha.stale_after", time.Duration(a.StaleAfter), 2 * time.Hour},
		{"alpha.regions", strings.Join(a.Regions, ","), "eastus,westeurope"},
		{"alpha.concurrency", a.Concurrency, 2},
		{"beta.endpoint (from ${ENV})", b.Endpoint, "http://127.0.0.1:8099/api/v0"},
		{"beta.api_key (from api_key_file)", b.APIKey.Value(), "secret-key-123"},
		{"beta.timeout default = interval", time.Duration(b.Timeout), 90 * time.Second},
		{"beta.stale_after default = 3 × interval", time.Duration(b.StaleAfter), 270 * time.Second},
		{"beta.rate_limit default", b.RateLimit, 1.0},
		{"beta.limit", b.Limit, 500},
		{"beta.verified_only", b.VerifiedOnly, true},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestDefaults(t *testing.T) {
	for _, text := range []string{"", "# only a comment\n", "providers: {}\n", "providers:\n  alpha:\n"} {
		cfg, err := Load([]byte(text), "x.yml")
		if err != nil {
			t.Fatalf("%q: %v", text, err)
		}
		a, b := testSections(cfg)
		if cfg.Storage.Driver != "sqlite" || cfg.Storage.Path != "data" || !a.Enabled || !b.Enabled || a.Concurrency != 4 {
			t.Errorf("%q: defaults not applied: %+v", text, cfg)
		}
		if time.Duration(a.Timeout) != 5*time.Minute || time.Duration(a.StaleAfter) != 3*time.Hour {
			t.Errorf("%q: derived alpha defaults wrong: timeout %s stale %s", text, a.Timeout, a.StaleAfter)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	for _, tc := range []struct{ file, want string }{
		{"bad-unknown-key.yml", "testdata/bad-unknown-key.yml:4: providers.alpha.intervall: unknown key (check its spelling and indentation)"},
		{"bad-interval.yml", "testdata/bad-interval.yml:3: providers.beta.interval: 1s is below the minimum of 5s"},
		{"bad-duration.yml", `testdata/bad-duration.yml:2: storage.retention: "forever" is not a duration (use e.g. 90s, 5m, 1h, 90d)`},
		{"bad-endpoint.yml", `testdata/bad-endpoint.yml:3: providers.alpha.endpoint: "alpha.example/api" is not an http(s) URL`},
		{"bad-env.yml", "testdata/bad-env.yml:3: providers.beta.api_key: environment variable GPUPRICE_TEST_UNSET_VARIABLE is not set"},
		{"bad-secret-both.yml", "testdata/bad-secret-both.yml:4: providers.beta.api_key_file: api_key and api_key_file are mutually exclusive"},
		{"bad-secret-missing.yml", "testdata/bad-secret-missing.yml:3: providers.beta.api_key_file: open testdata/no-such.key: no such file or directory"},
		{"bad-driver.yml", `testdata/bad-driver.yml:2: storage.driver: "mysql" is not supported (use sqlite or postgres)`},
		{"bad-syntax.yml", "testdata/bad-syntax.yml:4: could not find expected ':'"},
		{"bad-stale.yml", "testdata/bad-stale.yml:4: providers.alpha.stale_after: 30m is shorter than the interval 1h"},
		{"bad-type.yml", `testdata/bad-type.yml:3: providers.beta.limit: "many" is not a whole number`},
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

// TestDecodeErrors: every error of the decoder names the key path and its
// line; no value is half-read.
func TestDecodeErrors(t *testing.T) {
	for _, tc := range []struct{ name, text, want string }{
		{"duration", "providers:\n  beta:\n    interval: fast\n", `x.yml:3: providers.beta.interval: "fast" is not a duration (use e.g. 90s, 5m, 1h, 90d)`},
		{"boolean", "providers:\n  beta:\n    enabled: sometimes\n", `x.yml:3: providers.beta.enabled: "sometimes" is not a boolean (true or false)`},
		{"number", "max_gpu_usd_per_hour: lots\n", `x.yml:1: max_gpu_usd_per_hour: "lots" is not a number`},
		{"list", "providers:\n  alpha:\n    regions: eastus\n", `x.yml:3: providers.alpha.regions: must be a list`},
		{"list element", "providers:\n  alpha:\n    regions: [eastus, [a]]\n", `x.yml:3: providers.alpha.regions[1]: must be a single value`},
		{"mapping", "providers:\n  alpha: yes\n", `x.yml:2: providers.alpha: must be a mapping of keys to values`},
		{"unknown provider", "providers:\n  gamma:\n    enabled: true\n",
			`x.yml:2: providers.gamma: unknown provider (check its spelling; providers are alpha, beta)`},
		{"unknown top-level key", "storage:\n  path: d\nproviderz: {}\n", `x.yml:3: providerz: unknown key (check its spelling and indentation)`},
		{"second document", "storage:\n  path: d\n---\nstorage:\n  path: e\n", `x.yml:3: a second YAML document (after ---): a configuration is one document`},
		{"section validation", "providers:\n  alpha:\n    regions: [eastus, west europe]\n", `x.yml:3: providers.alpha.regions[1]: "west europe" is not a region name`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load([]byte(tc.text), "x.yml")
			if err == nil || err.Error() != tc.want {
				t.Errorf("error\n got: %v\nwant: %s", err, tc.want)
			}
		})
	}
}

// TestSecretFiles: an api_key_file that exists but is empty is an error
// naming the key; a disabled provider's missing file is not (it is never
// read).
func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.key")
	if err := writeFile(empty, " \n"); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]byte("providers:\n  beta:\n    api_key_file: "+empty+"\n"), "x.yml")
	if want := "x.yml:3: providers.beta.api_key_file: " + empty + " is empty"; err == nil || err.Error() != want {
		t.Errorf("empty file: %v, want %s", err, want)
	}
	cfg, err := Load([]byte("providers:\n  beta:\n    enabled: false\n    api_key_file: /no/such/file\n"), "x.yml")
	if err != nil {
		t.Fatalf("disabled provider: %v", err)
	}
	if _, b := testSections(cfg); b.APIKey != "" {
		t.Errorf("a disabled provider's secret was read: %q", b.APIKey.Value())
	}
}

func TestEnvExpansion(t *testing.T) {
	t.Setenv("GPUPRICE_TEST_KEY", "k1")
	t.Setenv("GPUPRICE_TEST_INTERVAL", "10m")
	t.Setenv("GPUPRICE_TEST_LIMIT", "42")
	text := "providers:\n  beta:\n    # api_key: ${GPUPRICE_TEST_UNSET_VARIABLE}\n    api_key: \"${GPUPRICE_TEST_KEY}\" # not ${GPUPRICE_TEST_UNSET_VARIABLE}\n" +
		"    endpoint: \"http://h/#frag\"\n    interval: ${GPUPRICE_TEST_INTERVAL}\n    limit: ${GPUPRICE_TEST_LIMIT}\n"
	cfg, err := Load([]byte(text), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	_, b := testSections(cfg)
	if got := b.APIKey.Value(); got != "k1" {
		t.Errorf("api_key = %q, want k1", got)
	}
	if got := b.Endpoint; got != "http://h/#frag" {
		t.Errorf("endpoint = %q: a # inside quotes is not a comment", got)
	}
	if time.Duration(b.Interval) != 10*time.Minute || b.Limit != 42 {
		t.Errorf("interval %s, limit %d: expanded plain values are typed from their text", b.Interval, b.Limit)
	}
}

func TestSecretsNeverRendered(t *testing.T) {
	cfg := Default()
	_, b := testSections(cfg)
	b.APIKey = "hunter2"
	y, _ := yaml.Marshal(cfg)
	j, _ := json.Marshal(cfg)
	for name, out := range map[string]string{"yaml": string(y), "json": string(j), "String": b.APIKey.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("%s output contains the secret:\n%s", name, out)
		}
	}
}

func TestProviders(t *testing.T) {
	cfg := Default()
	if got := strings.Join(cfg.Providers.Names(), ","); got != "alpha,beta" {
		t.Errorf("Names = %s", got)
	}
	var each []string
	cfg.Providers.Each(func(name string, s Section) { each = append(each, name+"="+s.Shared().Endpoint) })
	if got := strings.Join(each, " "); got != "alpha=https://alpha.example/api beta=https://beta.example/api/v0" {
		t.Errorf("Each = %s", got)
	}
}

func TestBuiltinIsValid(t *testing.T) {
	if err := Builtin().Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestDesignExampleKeys(t *testing.T) {
	for _, tc := range []struct{ name, text, wantErr string }{
		{"empty endpoint means the provider's own", "providers:\n  beta: {enabled: false, api_key_file: \"\", endpoint: \"\"}\n", ""},
		{"dsn accepted with sqlite", "storage:\n  driver: sqlite\n  dsn: \"\"\n", ""},
		{"postgres without dsn", "storage:\n  driver: postgres\n", `x.yml:1: storage.dsn: required with driver postgres (or storage.dsn_file), e.g. postgres://gpuprice@db.example/gpuprice`},
		{"postgres", "storage:\n  driver: postgres\n  dsn: postgres://u:pw@db/gpuprice\n", ""},
		{"remote_write", "remote_write:\n  - {url: \"http://mimir:9009/api/v1/push\"}\n", ""},
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
			if _, b := testSections(cfg); b.Endpoint != "https://beta.example/api/v0" {
				t.Errorf("beta endpoint = %q, want the default", b.Endpoint)
			}
		})
	}
}

// TestBlocks: a registered block's keys are top-level keys, decoded,
// resolved and validated like a section.
func TestBlocks(t *testing.T) {
	type entry struct {
		Name string `yaml:"name"`
	}
	type block struct {
		Entries []entry `yaml:"test_entries"`
	}
	RegisterBlock("test-block", func() any { return &block{} })
	cfg, err := Load([]byte("test_entries:\n  - {name: a}\n  - {name: b}\n"), "x.yml")
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Block("test-block").(*block).Entries; len(got) != 2 || got[1].Name != "b" {
		t.Errorf("entries %+v", got)
	}
	_, err = Load([]byte("test_entries:\n  - {name: a, nmae: b}\n"), "x.yml")
	if want := "x.yml:2: test_entries[0].nmae: unknown key (check its spelling and indentation)"; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}

func writeFile(name, text string) error { return os.WriteFile(name, []byte(text), 0o600) }

// TestStorageDSN checks storage.dsn and storage.dsn_file: the file is read
// (relative to the configuration) only with driver postgres, the two keys
// exclude each other, and the DSN never shows, in errors or marshalled.
func TestStorageDSN(t *testing.T) {
	dir := t.TempDir()
	const dsn = "postgres://gpuprice:hunter2-secret@db.example/gpuprice"
	if err := os.WriteFile(filepath.Join(dir, "dsn"), []byte(dsn+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "empty"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	name := filepath.Join(dir, "gpuprice.yml")
	for _, tc := range []struct{ name, text, wantDSN, wantErr string }{
		{"dsn", "storage:\n  driver: postgres\n  dsn: " + dsn + "\n", dsn, ""},
		{"dsn_file", "storage:\n  driver: postgres\n  dsn_file: dsn\n", dsn, ""},
		{"dsn from the environment", "storage:\n  driver: postgres\n  dsn: ${GPUPRICE_TEST_DSN}\n", dsn, ""},
		{"dsn_file not read with sqlite", "storage:\n  driver: sqlite\n  dsn_file: missing\n", "", ""},
		{"both", "storage:\n  driver: postgres\n  dsn: " + dsn + "\n  dsn_file: dsn\n", "",
			name + ":4: storage.dsn_file: storage.dsn and storage.dsn_file are mutually exclusive"},
		{"missing file", "storage:\n  driver: postgres\n  dsn_file: missing\n", "",
			name + ":3: storage.dsn_file: open " + filepath.Join(dir, "missing") + ": no such file or directory"},
		{"empty file", "storage:\n  driver: postgres\n  dsn_file: empty\n", "",
			name + ":3: storage.dsn_file: " + filepath.Join(dir, "empty") + " is empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GPUPRICE_TEST_DSN", dsn)
			cfg, err := Load([]byte(tc.text), name)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := cfg.Storage.DSN.Value(); got != tc.wantDSN {
				t.Errorf("DSN %q, want %q", got, tc.wantDSN)
			}
			y, _ := yaml.Marshal(cfg.Storage)
			j, _ := json.Marshal(cfg.Storage)
			for _, out := range []string{string(y), string(j), fmt.Sprintf("%v %+v", cfg.Storage, cfg.Storage)} {
				if strings.Contains(out, "hunter2") {
					t.Errorf("the DSN shows: %s", out)
				}
			}
		})
	}
}

// TestDeployHAConfig loads the configuration of the HA compose file
// (deploy/docker-compose-ha.yml) with the DSN it sets.
func TestDeployHAConfig(t *testing.T) {
	t.Setenv("GPUPRICE_DSN", "postgres://gpuprice:pw@postgres:5432/gpuprice?sslmode=disable")
	cfg, err := LoadFile("../deploy/gpuprice-ha.yml")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Storage.Driver != Postgres || cfg.Storage.DSN.Value() != os.Getenv("GPUPRICE_DSN") {
		t.Errorf("storage %+v", cfg.Storage)
	}
}
