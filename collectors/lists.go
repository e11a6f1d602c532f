package collectors

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// ListSettings are the Runner settings of a list source refreshed every
// interval: a short timeout (nothing is fetched over the network) and the
// usual staleness of 3 × interval.
func ListSettings(cfg *config.Config, interval config.Duration) Settings {
	iv := time.Duration(interval)
	return Settings{
		Interval:         iv,
		Timeout:          min(iv, time.Minute),
		StaleAfter:       3 * iv,
		MaxGPUUSDPerHour: cfg.MaxGPUUSDPerHour,
	}
}

// buildLists adds the collectors of every list source to ps, refusing a
// collector name that is already running: the Runner keys providers by
// name.
func buildLists(cfg *config.Config, logger *slog.Logger, catalog *price.Catalog, ps []Job) ([]Job, error) {
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Collector.Name()] = true
	}
	for _, name := range RegisteredLists() {
		registryMu.Lock()
		l := lists[name]
		registryMu.Unlock()
		built, err := l.build(cfg, Env{Logger: logger.With("provider", name), Catalog: catalog})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		for _, p := range built {
			n := p.Collector.Name()
			if names[n] {
				return nil, fmt.Errorf("%s: a collector named %q is already configured", name, n)
			}
			names[n] = true
			ps = append(ps, p)
		}
	}
	return ps, nil
}
