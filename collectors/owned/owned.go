// Package owned prices owned hardware: each entry of the configuration's
// owned: list becomes one quote, provider "owned", pricing_model
// "amortized", instance_type the entry's name, whose price per GPU-hour is
// the entry's Cost spread over its utilization. Compute holds the cost
// model, the one place it is written; the planner uses it too. The purchase price defaults to
// the catalog's price of one such GPU × gpu_count. The power is configured
// (power_watts) or measured: the entry's nvidia-smi file, written by
// `nvidia-smi --query-gpu=uuid,name,memory.total,power.draw --format=csv`
// (with or without header and units), is read at every refresh; its GPU
// names are mapped through the catalog's nvidia-smi table, its GPUs counted,
// and the power.draw samples reduced to a per-GPU figure (mean, median or
// max).
//
// Nothing here uses the network. A price of 0 is accepted (donated
// hardware).
package owned

import (
	"context"
	"fmt"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label of owned hardware and its list's name.
const Name = "owned"

func init() {
	collectors.RegisterList(collectors.ListPlugin[Config]{
		Name:     Name,
		Defaults: defaults,
		New: func(b *Config, cfg *config.Config, env collectors.Env) ([]collectors.Job, error) {
			if len(b.Entries) == 0 {
				return nil, nil
			}
			return []collectors.Job{{
				Collector: New(b.Entries, env.Catalog),
				Settings:  collectors.ListSettings(cfg, b.Interval),
				Config:    b.Entries,
			}}, nil
		},
		Demo: func(b *Config, interval time.Duration) {
			b.Entries, b.Interval = Of(collectors.MustLoadDemo(demoEntries)).Entries, config.Duration(interval)
		},
	})
}

// demoEntries are the demo's owned hardware, so that `gpuprice breakeven
// --server` against the demo has something to buy. The H100 server's
// purchase price is the catalog's; its 10.2 kW is the DGX H100's rated
// maximum.
const demoEntries = `
owned:
  - {name: lab-h100, gpu_model: H100, gpu_form: sxm, gpu_count: 8, amortization: 3y, power_watts: 10200, pue: 1.3,
     usd_per_kwh: 0.12, maintenance_usd_per_year: 20000, utilization: 0.6, region: us}
  - {name: lab-rtx4090, gpu_model: RTX4090, gpu_count: 4, power_watts: 2000, usd_per_kwh: 0.15, utilization: 0.5, region: us}
`

// Collector prices the owned entries. It keeps nothing between refreshes.
type Collector struct {
	entries []Entry
	catalog *price.Catalog
}

// New returns a collector of entries, as loaded by config.
func New(entries []Entry, catalog *price.Catalog) *Collector {
	if catalog == nil {
		catalog = price.DefaultCatalog()
	}
	return &Collector{entries: entries, catalog: catalog}
}

// Name implements collectors.Collector.
func (c *Collector) Name() string { return Name }

// AllowsZeroPrices implements collectors.ZeroPriceAllower: donated
// hardware with no power cost is free.
func (c *Collector) AllowsZeroPrices() bool { return true }

// Collect implements collectors.Collector. An entry whose cost cannot be
// worked out (an unreadable nvidia-smi file) fails the refresh, so that the
// last good prices are kept rather than that entry withdrawn.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	snap := &price.Snapshot{Provider: Name}
	for i := range c.entries {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		o := &c.entries[i]
		cost, err := Compute(o, c.catalog)
		if err != nil {
			return nil, fmt.Errorf("owned entry %s: %w", o.Name, err)
		}
		q := price.Quote{
			InstanceType: o.Name,
			Region:       o.Region,
			Geo:          o.Geo,
			PricingModel: price.Amortized,
			GPUModel:     cost.GPUModel,
			GPUForm:      cost.GPUForm,
			GPUMemoryGB:  cost.GPUMemoryGB,
			GPUCount:     cost.GPUCount,
			USDPerHour:   cost.AmortizedUSDPerGPUHour() * cost.GPUCount,
		}
		if cost.Measurement != nil {
			q.GPURaw = cost.Measurement.Raw
		}
		snap.Quotes = append(snap.Quotes, q)
	}
	return snap, nil
}
