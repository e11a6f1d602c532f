package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoStoragePath keeps demo history apart from real history.
const demoStoragePath = "data-demo"

// fakes are the built-in fake provider APIs the demo runs against.
type fakes struct {
	servers []*fakecloud.Server
	azure   string // endpoint URLs, as the config wants them
	vastai  string
}

// startFakes serves every fake on a loopback port. Recorded prices drift
// once per tick so that dashboards show life.
func startFakes(tick time.Duration) (*fakes, error) {
	drift := fakecloud.Drift{Tick: tick}
	f := &fakes{}
	start := func(h http.Handler) (string, error) {
		s, err := fakecloud.Start(h, "")
		if err != nil {
			return "", err
		}
		f.servers = append(f.servers, s)
		return s.URL, nil
	}
	az, err := start(fakecloud.NewAzure(fakecloud.AzureOptions{Drift: drift}))
	if err != nil {
		return nil, err
	}
	f.azure = az + "/api/retail/prices"
	vast, err := start(fakecloud.NewVastAI(fakecloud.VastAIOptions{Drift: drift, Synthesize: 3000}))
	if err != nil {
		f.Close()
		return nil, err
	}
	f.vastai = vast + "/api/v0"
	return f, nil
}

// Close stops every fake.
func (f *fakes) Close() {
	for _, s := range f.servers {
		s.Close()
	}
}

// demoConfig is the default configuration with every provider enabled and
// pointed at the fakes, refreshing every interval.
func demoConfig(f *fakes, interval time.Duration) *config.Config {
	cfg := config.Builtin()
	cfg.Storage.Path = demoStoragePath
	cfg.Providers.Azure.Endpoint = f.azure
	cfg.Providers.VastAI.Endpoint = f.vastai
	cfg.Providers.Each(func(_ string, s config.Provider) {
		c := s.Settings()
		c.Enabled = true
		c.Interval = config.Duration(interval)
		c.Timeout = config.Duration(min(interval, time.Minute))
		c.StaleAfter = config.Duration(3 * interval)
		c.RateLimit = 50
	})
	return cfg
}

// runDemo runs the daemon against the fakes.
func runDemo(ctx context.Context, logger *slog.Logger, interval time.Duration, opts daemonOptions) error {
	if interval < config.MinInterval {
		return errors.New("--demo.interval must be at least " + config.MinInterval.String())
	}
	f, err := startFakes(interval)
	if err != nil {
		return err
	}
	defer f.Close()
	logger.Info("demo: providers point at built-in fake APIs", "azure", f.azure, "vastai", f.vastai, "interval", interval)
	cfg := demoConfig(f, interval)
	if err := cfg.Validate(); err != nil {
		return err
	}
	return runDaemon(ctx, logger, func() (*config.Config, error) { return demoConfig(f, interval), nil }, opts)
}
