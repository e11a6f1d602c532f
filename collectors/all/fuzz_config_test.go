package all_test

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// FuzzConfigLoad: any configuration file, with every provider and list
// source registered, is loaded or refused with an error, never a panic or
// a hang; what loads validates, and its collectors build (or refuse to)
// without a panic either.
func FuzzConfigLoad(f *testing.F) {
	files, _ := filepath.Glob("../../config/testdata/*.yml")
	more, _ := filepath.Glob("../*/testdata/config/*.yml")
	for _, name := range append(files, more...) {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(string(b))
		}
	}
	f.Add("providers:\n  azure: {interval: 5s, min_quote_ratio: 0.25, accept_drop_after: 2, regions: [eastus]}\n")
	f.Add("providers:\n  lambda: {enabled: true, api_key_file: /dev/zero}\n")
	f.Add("storage: {dsn: \"postgres://u:${HOME}@db/x\"}\nowned:\n  - {name: a, gpu_model: A100, gpu_count: 8, utilization: 0.5, usd_per_kwh: 0.1, power_watts: 100}\n")
	f.Add("a: &a [*a, *a]\n")
	f.Fuzz(func(t *testing.T, text string) {
		cfg, err := config.Load([]byte(text), filepath.Join(t.TempDir(), "fuzz.yml"))
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("loaded, then invalid: %v", err)
		}
		_ = cfg.Secrets()
		_, _ = collectors.Build(cfg, slog.New(slog.DiscardHandler), price.DefaultCatalog(), nil)
	})
}
