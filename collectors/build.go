package collectors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/fx"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Build constructs the collectors of every enabled provider in cfg, and
// those of the list sources (RegisterList) whose lists are not empty. Each
// gets an HTTP client with its rate limit, a logger tagged with its name,
// and its view of st (which may be nil: no history access).
func Build(cfg *config.Config, logger *slog.Logger, catalog *price.Catalog, st store.Store) ([]Job, error) {
	var ps []Job
	rates := fx.New(cfg.FX, nil, nil)
	// Every collector's errors and log lines are scrubbed of every
	// configured secret, whoever echoes it.
	scrubber := NewScrubber(cfg.Secrets())
	logger = slog.New(scrubber.Handler(logger.Handler()))
	for _, name := range Registered() {
		section := cfg.Providers[name]
		if section == nil {
			return nil, fmt.Errorf("provider %q is registered but has no config section", name)
		}
		s := section.Shared()
		if !s.Enabled {
			continue
		}
		env := Env{
			Logger:     logger.With("provider", name),
			HTTPClient: NewHTTPClient(HTTPOptions{RateLimit: s.RateLimit, MaxResponseBytes: MaxResponseBytes(name)}),
			Catalog:    catalog,
			FX:         rates,
		}
		if st != nil {
			env.Backfiller = providerHistory{st: st, provider: name}
		}
		c, err := New(name, cfg, env)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", name, scrubber.Error(err))
		}
		ps = append(ps, Job{
			Collector: c,
			Settings: Settings{
				Interval:         time.Duration(s.Interval),
				Timeout:          time.Duration(s.Timeout),
				StaleAfter:       time.Duration(s.StaleAfter),
				MaxGPUUSDPerHour: cfg.MaxGPUUSDPerHour,
				RateLimit:        s.RateLimit,
				MinQuoteRatio:    s.MinQuoteRatio,
				AcceptDropAfter:  s.AcceptDropAfter,
			},
			Config: section,
		})
	}
	// The owned and static prices are top-level lists, not sections.
	ps, err := buildLists(cfg, logger, catalog, ps)
	for i := range ps {
		ps[i].Scrubber = scrubber
	}
	return ps, scrubber.Error(err)
}
