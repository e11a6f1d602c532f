package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoStoragePath keeps demo history apart from real history.
const demoStoragePath = "data-demo"

// demoFakes lists the fake provider APIs the demo and `collect --demo` run
// against: each builds its fake (prices drifting with the given Drift) and
// points its provider's config section at the fake's base URL. Adding a
// provider adds one entry.
var demoFakes = []struct {
	name      string
	handler   func(fakecloud.Drift) http.Handler
	configure func(cfg *config.Config, baseURL string)
}{
	{
		name:      "azure",
		handler:   func(d fakecloud.Drift) http.Handler { return fakecloud.NewAzure(fakecloud.AzureOptions{Drift: d}) },
		configure: func(cfg *config.Config, u string) { cfg.Providers.Azure.Endpoint = u + fakecloud.AzurePath },
	},
	{
		name: "vastai",
		handler: func(d fakecloud.Drift) http.Handler {
			return fakecloud.NewVastAI(fakecloud.VastAIOptions{Drift: d, Synthesize: 3000})
		},
		configure: func(cfg *config.Config, u string) { cfg.Providers.VastAI.Endpoint = u + fakecloud.VastAIBasePath },
	},
	{
		name:      "runpod",
		handler:   func(d fakecloud.Drift) http.Handler { return fakecloud.NewRunpod(fakecloud.RunpodOptions{Drift: d}) },
		configure: func(cfg *config.Config, u string) { cfg.Providers.Runpod.Endpoint = u + fakecloud.RunpodPath },
	},
	{
		// Lambda needs a key: the demo's fake takes this one only.
		name: "lambda",
		handler: func(d fakecloud.Drift) http.Handler {
			return fakecloud.NewLambda(fakecloud.LambdaOptions{Drift: d, APIKey: "demo-lambda-key"})
		},
		configure: func(cfg *config.Config, u string) {
			cfg.Providers.Lambda.Endpoint, cfg.Providers.Lambda.APIKey = u, "demo-lambda-key"
		},
	},
	{
		// GCP needs an API key (or ADC): the demo's fake takes its own. No
		// project, so no availability: that needs ADC.
		name: "gcp",
		handler: func(d fakecloud.Drift) http.Handler {
			return fakecloud.NewGCP(fakecloud.GCPOptions{Drift: d, Filler: 6000})
		},
		configure: func(cfg *config.Config, u string) {
			cfg.Providers.GCP.BillingEndpoint, cfg.Providers.GCP.APIKey = u, fakecloud.GCPDemoKey
		},
	},
	{
		// AWS signs every request: the fake takes any static key. Two
		// regions, spot prices changing every two hours, a first refresh
		// backfilling half a day of them, and on-demand prices from the
		// offer files (two downloads, where the Price List takes one call
		// per instance type): the first refresh takes well under a second
		// and leaves some history to show. (Should it exceed a short demo
		// timeout, the next refresh completes the backfill.)
		name: "aws",
		handler: func(d fakecloud.Drift) http.Handler {
			return fakecloud.NewAWS(fakecloud.AWSOptions{Drift: d, ChangesPerDay: 12})
		},
		configure: func(cfg *config.Config, u string) {
			a := &cfg.Providers.AWS
			a.EC2Endpoint, a.PricingEndpoint, a.Endpoint = u, u, u+fakecloud.AWSOfferPath
			a.AccessKeyID, a.SecretAccessKey = "AKIDDEMO", "demo-secret"
			a.Regions = []string{"us-east-1", "eu-west-1"}
			a.SpotBackfill = config.Duration(12 * time.Hour)
			a.OnDemandSource = config.AWSOnDemandBulk
		},
	},
}

// fakes are the running demo fakes.
type fakes struct {
	servers []*fakecloud.Server
	urls    map[string]string // provider → base URL
}

// startFakes serves every fake on a loopback port. Recorded prices move
// with drift so that dashboards show life (the zero Drift: no change).
func startFakes(drift fakecloud.Drift) (*fakes, error) {
	f := &fakes{urls: map[string]string{}}
	for _, df := range demoFakes {
		s, err := fakecloud.Start(df.handler(drift), "")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("start fake %s: %w", df.name, err)
		}
		f.servers = append(f.servers, s)
		f.urls[df.name] = s.URL
	}
	return f, nil
}

// Close stops every fake.
func (f *fakes) Close() {
	for _, s := range f.servers {
		s.Close()
	}
}

// demoConfig is the built-in configuration with every provider enabled and
// pointed at the fakes, refreshing every interval.
func demoConfig(f *fakes, interval time.Duration) *config.Config {
	cfg := config.Builtin()
	cfg.Storage.Path = demoStoragePath
	for _, df := range demoFakes {
		df.configure(cfg, f.urls[df.name])
	}
	cfg.Providers.Each(func(_ string, s config.Provider) {
		c := s.Settings()
		c.Enabled = true
		c.Interval = config.Duration(interval)
		c.Timeout = config.Duration(min(interval, time.Minute))
		c.StaleAfter = config.Duration(3 * interval)
		c.RateLimit = 50
	})
	addDemoLists(cfg, interval)
	return cfg
}

// runDemo runs the daemon against the fakes. With dip > 0 every demo price
// halves during the second half of each dip period (fakecloud.Drift.Dip),
// so that price alerts can be watched firing and resolving.
func runDemo(ctx context.Context, logger *slog.Logger, interval, dip time.Duration, opts daemonOptions) error {
	if interval < config.MinInterval {
		return errors.New("--demo.interval must be at least " + config.MinInterval.String())
	}
	if dip != 0 && dip < 2*interval {
		return fmt.Errorf("--demo.dip must be 0 or at least twice --demo.interval (%s), or a dip can fall between two refreshes", 2*interval)
	}
	f, err := startFakes(fakecloud.Drift{Tick: interval, Dip: dip, Origin: time.Now()})
	if err != nil {
		return err
	}
	defer f.Close()
	logger.Info("demo: every provider points at a built-in fake API", "fakes", f.urls, "interval", interval)
	cfg := demoConfig(f, interval)
	if err := cfg.Validate(); err != nil {
		return err
	}
	return runDaemon(ctx, logger, func() (*config.Config, error) { return demoConfig(f, interval), nil }, opts)
}
