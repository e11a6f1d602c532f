package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fakecloud"
)

// demoStoragePath keeps demo history apart from real history.
const demoStoragePath = "data-demo"

// fakes are the running demo fakes.
// fxFake and glmFake name the fake ECB and the fake GLM rate source
// among the fakes' URLs.
const (
	fxFake  = "fx"
	glmFake = "fx-glm"
)

type fakes struct {
	servers []*fakecloud.Server
	urls    map[string]string // provider → base URL
}

// startFakes serves every fake on a loopback port. Recorded prices move
// with drift so that dashboards show life (the zero Drift: no change).
func startFakes(drift fakecloud.Drift) (*fakes, error) {
	return startFakesWith(func(fake collectors.FakeAPI) (http.Handler, error) { return fake.Handler(drift), nil })
}

// startFakesWith serves the handler handler returns for each provider's
// fake, and the exchange-rate fakes, on loopback ports.
func startFakesWith(handler func(collectors.FakeAPI) (http.Handler, error)) (*fakes, error) {
	f := &fakes{urls: map[string]string{}}
	for _, fake := range collectors.Fakes() {
		h, err := handler(fake)
		if err != nil {
			f.Close()
			return nil, err
		}
		s, err := fakecloud.Start(h, "")
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("start fake %s: %w", fake.Provider, err)
		}
		f.servers = append(f.servers, s)
		f.urls[fake.Provider] = s.URL
	}
	// The ECB's reference rates, for the providers that price in EUR.
	s, err := fakecloud.Start(fakecloud.NewECB(fakecloud.ECBOptions{}), "")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("start fake ECB: %w", err)
	}
	f.servers = append(f.servers, s)
	f.urls[fxFake] = s.URL
	// The GLM rate, for Golem's prices.
	s, err = fakecloud.Start(fakecloud.NewCoinGecko(fakecloud.CoinGeckoOptions{}), "")
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("start fake GLM rate: %w", err)
	}
	f.servers = append(f.servers, s)
	f.urls[glmFake] = s.URL
	return f, nil
}

// point points every provider of cfg, and its exchange rates, at the fakes.
func (f *fakes) point(cfg *config.Config) {
	for _, fake := range collectors.Fakes() {
		fake.Point(cfg, f.urls[fake.Provider])
	}
	cfg.FX.ECBURL = f.urls[fxFake] + fakecloud.ECBPath
	cfg.FX.GLMUSDURL = f.urls[glmFake] + fakecloud.CoinGeckoPath + fakecloud.CoinGeckoQuery
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
	f.point(cfg)
	cfg.Providers.Each(func(_ string, s config.Section) {
		c := s.Shared()
		c.Enabled = true
		c.Interval = config.Duration(interval)
		c.Timeout = config.Duration(min(interval, time.Minute))
		c.StaleAfter = config.Duration(3 * interval)
		c.RateLimit = 50
	})
	collectors.AddDemoLists(cfg, interval)
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
