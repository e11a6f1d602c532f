// Package static exports fixed prices from the configuration's static:
// list: academic allocations (often free), negotiated contracts, providers
// without a price API. Each entry is one quote with the entry's own
// provider name, pricing_model fixed unless configured otherwise.
//
// The Runner stamps every quote with its collector's name, and the store
// keeps history (and withdraws series) per provider. So rather than one
// "static" collector whose quotes carry many provider names, this package
// builds one collector per provider name the entries give: each such
// provider then has its own status, staleness, poll log and withdrawals,
// exactly like a provider with an API, and the Runner needs no exception.
package static

import (
	"context"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the name of the configuration list and of its source.
const Name = "static"

func init() {
	collectors.RegisterList(collectors.ListPlugin[Config]{
		Name:     Name,
		Defaults: defaults,
		New: func(b *Config, cfg *config.Config, env collectors.Env) ([]collectors.Job, error) {
			var ps []collectors.Job
			for _, c := range New(b.Entries) {
				ps = append(ps, collectors.Job{
					Collector: c,
					Settings:  collectors.ListSettings(cfg, b.Interval),
					Config:    c.entries,
				})
			}
			return ps, nil
		},
		Demo: func(b *Config, interval time.Duration) {
			b.Entries, b.Interval = Of(collectors.MustLoadDemo(demoEntries)).Entries, config.Duration(interval)
		},
	})
}

// demoEntries are the demo's fixed prices: a free campus allocation and a
// contract.
const demoEntries = `
static:
  - {provider: campus-cluster, gpu_model: H100, gpu_form: sxm, usd_per_hour: 0, max_gpu_hours_per_month: 1500, region: us}
  - {provider: colo-contract, gpu_model: A100, gpu_form: sxm, gpu_memory_gb: 80, gpu_count: 8, usd_per_hour: 8.8, region: eu-west}
`

// Collector serves the fixed prices of one provider name. It keeps nothing
// between refreshes.
type Collector struct {
	provider string
	entries  []Entry
}

// New returns one collector per provider name of entries (as loaded by
// config), in the order the names first appear.
func New(entries []Entry) []*Collector {
	var out []*Collector
	byName := map[string]*Collector{}
	for _, e := range entries {
		c := byName[e.Provider]
		if c == nil {
			c = &Collector{provider: e.Provider}
			byName[e.Provider] = c
			out = append(out, c)
		}
		c.entries = append(c.entries, e)
	}
	return out
}

// Name implements collectors.Collector: the entries' provider name.
func (c *Collector) Name() string { return c.provider }

// AllowsZeroPrices implements collectors.ZeroPriceAllower: a free academic
// allocation is a real option.
func (c *Collector) AllowsZeroPrices() bool { return true }

// Collect implements collectors.Collector.
func (c *Collector) Collect(context.Context) (*price.Snapshot, error) {
	snap := &price.Snapshot{Provider: c.provider, Quotes: make([]price.Quote, 0, len(c.entries))}
	for _, e := range c.entries {
		snap.Quotes = append(snap.Quotes, price.Quote{
			InstanceType: e.InstanceType,
			Region:       e.Region,
			Zone:         e.Zone,
			Geo:          e.Geo,
			PricingModel: e.PricingModel,
			GPUModel:     e.GPUModel,
			GPUForm:      e.GPUForm,
			GPUMemoryGB:  e.GPUMemoryGB,
			GPUCount:     e.GPUCount,
			USDPerHour:   *e.USDPerHour,
		})
	}
	return snap, nil
}
