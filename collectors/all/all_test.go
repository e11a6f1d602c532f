package all_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	_ "github.com/gpuprice/gpuprice/collectors/all"
	"github.com/gpuprice/gpuprice/collectors/aws"
	"github.com/gpuprice/gpuprice/collectors/gcp"
	"github.com/gpuprice/gpuprice/collectors/lambda"
	"github.com/gpuprice/gpuprice/collectors/runpod"
	"github.com/gpuprice/gpuprice/collectors/verda"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/config/configtest"
)

// Every provider is registered once, with its section and its fake, and
// the built-in configuration of them all is valid.
func TestRegistry(t *testing.T) {
	want := []string{"akash", "aws", "azure", "digitalocean", "gcp", "golem", "lambda", "oci", "ovhcloud", "runpod", "scaleway", "vastai", "verda"}
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

// TestBuiltinDefaults: every provider's section as built in. Those that
// need credentials (aws, gcp, lambda, digitalocean) and those whose terms
// for polling are not known (akash, golem, oci, ovhcloud, scaleway, verda)
// are off; a timeout is the interval,
// at most 5m, but for AWS, whose first refresh backfills 90 days of spot
// prices; rate limits are what each API is documented or seen to take.
func TestBuiltinDefaults(t *testing.T) {
	m := func(n int) config.Duration { return config.Duration(time.Duration(n) * time.Minute) }
	want := map[string]config.Common{
		"akash":        {Interval: m(15), Timeout: m(5), StaleAfter: m(45), RateLimit: 1, Endpoint: "https://console-api.akash.network"},
		"aws":          {Interval: m(10), Timeout: m(15), StaleAfter: m(30), RateLimit: 20, Endpoint: "https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/AmazonEC2/current"},
		"azure":        {Enabled: true, Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 5, Endpoint: "https://prices.azure.com/api/retail/prices"},
		"digitalocean": {Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 2, Endpoint: "https://api.digitalocean.com"},
		"gcp":          {Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 5, Endpoint: "https://cloudbilling.googleapis.com"},
		"golem":        {Interval: m(15), Timeout: m(5), StaleAfter: m(45), RateLimit: 1, Endpoint: "https://api.stats.golem.network"},
		"lambda":       {Interval: m(5), Timeout: m(5), StaleAfter: m(15), RateLimit: 1, Endpoint: "https://cloud.lambda.ai"},
		"oci":          {Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 1, Endpoint: "https://www.oracle.com/a/ocom/docs/cloudestimator2/data"},
		"ovhcloud":     {Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 1, Endpoint: "https://eu.api.ovh.com/1.0"},
		"runpod":       {Enabled: true, Interval: m(5), Timeout: m(5), StaleAfter: m(15), RateLimit: 1, Endpoint: "https://api.runpod.io/graphql"},
		"scaleway":     {Interval: m(60), Timeout: m(5), StaleAfter: m(180), RateLimit: 2, Endpoint: "https://api.scaleway.com"},
		"vastai":       {Enabled: true, Interval: m(2), Timeout: m(2), StaleAfter: m(6), RateLimit: 1, Endpoint: "https://console.vast.ai/api/v0"},
		"verda":        {Interval: m(30), Timeout: m(5), StaleAfter: m(90), RateLimit: 1, Endpoint: "https://api.verda.com"},
	}
	// Every provider keeps its last good quotes through a drop below half
	// of them, until it lasts three refreshes.
	for name, c := range want {
		c.MinQuoteRatio, c.AcceptDropAfter = config.DefaultMinQuoteRatio, config.DefaultAcceptDropAfter
		want[name] = c
	}
	cfg := config.Builtin()
	for _, name := range config.ProviderNames() {
		if got := *cfg.Providers[name].Shared(); got != want[name] {
			t.Errorf("%s: %+v\nwant %+v", name, got, want[name])
		}
	}
	// The providers' own keys.
	a, g := cfg.Providers[aws.Name].(*aws.Config), cfg.Providers[gcp.Name].(*gcp.Config)
	la, rp := cfg.Providers[lambda.Name].(*lambda.Config), cfg.Providers[runpod.Name].(*runpod.Config)
	configtest.Check(t, configtest.Fields{
		"aws.spot_backfill: what EC2 keeps":   {time.Duration(a.SpotBackfill), 90 * 24 * time.Hour},
		"aws.on_demand_source":                {a.OnDemandSource, aws.OnDemandPriceList},
		"aws.regions: every one enabled":      {len(a.Regions), 0},
		"gcp.billing_endpoint: endpoint's":    {g.BillingEndpoint, ""},
		"gcp.compute_endpoint: Google's":      {g.ComputeEndpoint, ""},
		"gcp.project: none, no availability":  {g.Project, ""},
		"gcp.api_key":                         {g.APIKey.Value(), ""},
		"lambda.regions: every public one":    {len(la.Regions), 0},
		"lambda.api_key":                      {la.APIKey.Value(), ""},
		"runpod.api_key: gpuTypes needs none": {rp.APIKey.Value(), ""},
		"verda.locations":                     {strings.Join(cfg.Providers[verda.Name].(*verda.Config).Locations, ","), "FIN-01"},
	})
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
