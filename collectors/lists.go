package collectors

import (
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// ListFactory builds the collectors of a price source configured as a
// top-level list (owned:, static:) rather than as a providers: section.
// It returns none when its list is empty, and may return several: the
// static source runs one collector per provider name its entries give, so
// that each has its own status, staleness and history like any provider.
// Each Provider comes with its Settings and Config.
type ListFactory func(cfg *config.Config, env Env) ([]Provider, error)

var lists = map[string]ListFactory{} // guarded by registryMu

// RegisterList adds a list source's factory under name ("owned",
// "static"). Packages call it from init; it panics on a duplicate name.
func RegisterList(name string, f ListFactory) {
	registryMu.Lock()
	defer registryMu.Unlock()
	if _, dup := lists[name]; dup {
		panic(fmt.Sprintf("collectors: list source %q registered twice", name))
	}
	lists[name] = f
}

// RegisteredLists lists the registered list sources' names, sorted.
func RegisteredLists() []string {
	registryMu.Lock()
	defer registryMu.Unlock()
	names := make([]string, 0, len(lists))
	for n := range lists {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

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
func buildLists(cfg *config.Config, logger *slog.Logger, catalog *price.Catalog, ps []Provider) ([]Provider, error) {
	names := map[string]bool{}
	for _, p := range ps {
		names[p.Collector.Name()] = true
	}
	for _, name := range RegisteredLists() {
		registryMu.Lock()
		f := lists[name]
		registryMu.Unlock()
		built, err := f(cfg, Env{Logger: logger.With("provider", name), Catalog: catalog})
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
