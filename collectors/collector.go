// Package collectors fetches GPU prices from providers. It defines the
// Collector interface every provider package implements, the registry those
// packages add themselves to, the shared HTTP plumbing (rate limit, retry
// with backoff honouring Retry-After, typed errors), and the Runner that
// refreshes every provider on its own schedule and publishes snapshots.
//
// A collector only talks to its provider and returns normalized quotes; it
// knows nothing of Prometheus, HTTP serving or SQL.
package collectors

import (
	"context"
	"log/slog"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Collector fetches the current prices of one provider.
type Collector interface {
	// Name is the provider label value ("azure", "vastai").
	Name() string
	// Collect returns every quote the provider lists now. It must honour
	// ctx, must not keep or modify the returned snapshot afterwards, and
	// is never called concurrently with itself. Quotes need not be
	// validated: the Runner checks each one. Snapshot.Time and the quotes'
	// ObservedAt may be left zero; the Runner sets them.
	Collect(ctx context.Context) (*price.Snapshot, error)
}

// ZeroPriceAllower is implemented by collectors whose zero prices are real
// (configured static or owned prices: a free academic allocation). For all
// others a zero price is rejected as implausible.
type ZeroPriceAllower interface {
	AllowsZeroPrices() bool
}

// Env is what the daemon hands every collector.
type Env struct {
	// Logger is tagged with the provider name.
	Logger *slog.Logger
	// HTTPClient applies the provider's rate limit and retries transient
	// failures; collectors using plain HTTP must use it.
	HTTPClient *http.Client
	Catalog    *price.Catalog
	// Backfiller is the provider's own stored history, for collectors that
	// backfill (AWS spot history). It is nil when there is no store
	// (`gpuprice collect`): such collectors then return current prices
	// only.
	Backfiller Backfiller
	// FX converts prices quoted in other currencies than USD; shared by
	// every provider of a Build. Nil: such prices cannot be published.
	FX Converter
}

// Converter converts an amount in currency (ISO 4217) to USD, with the
// date of the rate used; fx.Rates implements it.
type Converter interface {
	USD(ctx context.Context, amount float64, currency string) (float64, time.Time, error)
}

// WithDefaults returns e with its empty fields filled: an HTTP client
// limited to rateLimit requests per second, the embedded catalog, and a
// logger that discards. Collector constructors call it, so that tests (and
// one-shot tools) may pass a partial Env.
func (e Env) WithDefaults(rateLimit float64) Env {
	if e.HTTPClient == nil {
		e.HTTPClient = NewHTTPClient(HTTPOptions{RateLimit: rateLimit})
	}
	if e.Catalog == nil {
		e.Catalog = price.DefaultCatalog()
	}
	if e.Logger == nil {
		e.Logger = slog.New(slog.DiscardHandler)
	}
	return e
}

// Base is what every collector of a plain HTTP API holds: its provider's
// name, its Env with defaults filled in, and its endpoint. Such a
// collector embeds it.
type Base struct {
	Env
	// Endpoint is the section's, without a trailing slash: the API's
	// paths follow it.
	Endpoint string
	name     string
}

// NewBase returns the Base of provider name's collector for section s:
// env with its defaults at s's rate limit (WithDefaults), and s's
// endpoint.
func NewBase(name string, s config.Section, env Env) Base {
	c := s.Shared()
	return Base{Env: env.WithDefaults(c.RateLimit), Endpoint: strings.TrimRight(c.Endpoint, "/"), name: name}
}

// Name implements Collector.
func (b *Base) Name() string { return b.name }

// NormalizeRegions returns configured region names lower-cased, trimmed,
// without empty names or repeats, in their first order: providers name
// regions in lower case, and a repeat would fetch a region twice.
func NormalizeRegions(in []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range in {
		r = strings.ToLower(strings.TrimSpace(r))
		if r != "" && !seen[r] {
			seen[r] = true
			out = append(out, r)
		}
	}
	return out
}

// Backfiller gives a collector its provider's stored history without SQL.
type Backfiller interface {
	// Backfill writes historical points with their original timestamps
	// (each quote's EffectiveAt); it is idempotent. Quotes are stamped
	// with the provider's name.
	Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error)
	// LastPoints returns the time of the newest stored point of each of
	// the provider's series: where an incremental backfill resumes.
	LastPoints(ctx context.Context) (map[price.SeriesKey]time.Time, error)
}

// providerHistory is a store seen by one provider.
type providerHistory struct {
	st       store.Store
	provider string
}

func (h providerHistory) Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	for i := range quotes {
		quotes[i].Provider = h.provider
		if quotes[i].Geo == "" {
			quotes[i].Geo = price.Geo(quotes[i].Region)
		}
	}
	return h.st.Backfill(ctx, quotes)
}

func (h providerHistory) LastPoints(ctx context.Context) (map[price.SeriesKey]time.Time, error) {
	return h.st.LastPoints(ctx, h.provider)
}

// LogSkipped logs, at debug level, the rows of an answer a collector left
// out by design, by reason: skipped maps a reason ("no GPU") to a count
// of what ("sizes"). Unreadable rows are counted in the snapshot instead
// (price.SkippedInvalid).
func LogSkipped(logger *slog.Logger, what string, skipped map[string]int) {
	for _, why := range slices.Sorted(maps.Keys(skipped)) {
		logger.Debug("skipped "+what, "why", why, "count", skipped[why])
	}
}
