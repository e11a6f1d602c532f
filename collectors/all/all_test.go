package all_test

import (
	"slices"
	"testing"

	"github.com/gpuprice/gpuprice/collectors"
	_ "github.com/gpuprice/gpuprice/collectors/all"
	"github.com/gpuprice/gpuprice/config"
)

// Every provider is registered once, with its section and its fake, and
// the built-in configuration of them all is valid.
func TestRegistry(t *testing.T) {
	want := []string{"aws", "azure", "gcp", "lambda", "runpod", "vastai"}
	if got := collectors.Registered(); !slices.Equal(got, want) {
		t.Errorf("Registered = %v, want %v", got, want)
	}
	if got := config.ProviderNames(); !slices.Equal(got, want) {
		t.Errorf("config.ProviderNames = %v, want %v", got, want)
	}
	var fakes []string
	for _, f := range collectors.Fakes() {
		fakes = append(fakes, f.Provider)
	}
	if !slices.Equal(fakes, want) {
		t.Errorf("Fakes = %v, want one per provider", fakes)
	}
	if got := collectors.RegisteredLists(); !slices.Equal(got, []string{"owned", "static"}) {
		t.Errorf("RegisteredLists = %v", got)
	}
	if err := config.Builtin().Validate(); err != nil {
		t.Error(err)
	}
}

// A static entry may not take the name of another collector: the Runner
// keys providers by name.
func TestStaticNamesTaken(t *testing.T) {
	for _, name := range []string{"azure", "owned", "static"} {
		_, err := config.Load([]byte("static:\n  - {provider: "+name+", gpu_model: A100, usd_per_hour: 1}\n"), "x.yml")
		want := `x.yml:2: static[0].provider: "` + name + `" is taken by a collector: give the static prices a name of their own (e.g. ` + name + `-contract)`
		if err == nil || err.Error() != want {
			t.Errorf("error\n got: %v\nwant: %s", err, want)
		}
	}
}
