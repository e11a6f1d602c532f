package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
)

// TestBenchScaleConfig: the file bench-scale writes for its daemon loads
// into the configuration it was made from: every provider enabled and
// pointed at its fake, secrets in clear, AWS at its production defaults.
func TestBenchScaleConfig(t *testing.T) {
	f, err := startScaledFakes(false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := benchConfig(f, nil)
	text, err := configYAML(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := config.Load(text, "bench-scale.yml")
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	if got.FX.ECBURL != want.FX.ECBURL || got.FX.GLMUSDURL != want.FX.GLMUSDURL || !strings.HasPrefix(got.FX.GLMUSDURL, f.urls[glmFake]) {
		t.Errorf("fx.ecb_url %q, fx.glm_usd_url %q; want %q and the fake GLM rate's %q", got.FX.ECBURL, got.FX.GLMUSDURL, want.FX.ECBURL, f.urls[glmFake])
	}
	if len(enabledProviders(got)) != len(collectors.Fakes()) {
		t.Errorf("enabled %v, want every provider of %v", enabledProviders(got), f.urls)
	}
	def := config.Default()
	for name, s := range want.Providers {
		d := reflect.ValueOf(def.Providers[name]).Elem()
		// Load fills derived values in (timeouts, stale_after): compare
		// what the file states.
		loaded := diffYAML(reflect.ValueOf(got.Providers[name]).Elem(), d)
		for k, v := range diffYAML(reflect.ValueOf(s).Elem(), d) {
			if !reflect.DeepEqual(loaded[k], v) {
				t.Errorf("providers.%s.%s loaded as %v, want %v", name, k, loaded[k], v)
			}
		}
	}
	if got := benchConfig(f, []string{"azure"}); !reflect.DeepEqual(enabledProviders(got), []string{"azure"}) {
		t.Errorf("--bench.provider=azure enables %v", enabledProviders(got))
	}
}
