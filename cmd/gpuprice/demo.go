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
}

// fakes are the running demo fakes.
type fakes struct {
	servers []*fakecloud.Server
	urls    map[string]string // provider → base URL
}

// startFakes serves every fake on a loopback port. Recorded prices drift
// once per tick so that dashboards show life (0: no drift).
func startFakes(tick time.Duration) (*fakes, error) {
	f := &fakes{urls: map[string]string{}}
	for _, df := range demoFakes {
		s, err := fakecloud.Start(df.handler(fakecloud.Drift{Tick: tick}), "")
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
	logger.Info("demo: every provider points at a built-in fake API", "fakes", f.urls, "interval", interval)
	cfg := demoConfig(f, interval)
	if err := cfg.Validate(); err != nil {
		return err
	}
	return runDaemon(ctx, logger, func() (*config.Config, error) { return demoConfig(f, interval), nil }, opts)
}
