// Package scaleway collects GPU instance prices from Scaleway through its
// Instance API's list of server types, GET
// <endpoint>/instance/v1/zones/{zone}/products/servers (endpoint
// https://api.scaleway.com by default), which answers without a key, one
// zone at a time, in pages of at most 100: a zone's walk ends at its first
// page of fewer.
//
// Scaleway prices in EUR, per instance-hour. The collector converts each
// price to USD at the ECB's reference rate (collectors.Env.FX); when no
// rate young enough is available the refresh fails with reason fx and no
// price is published, never one converted with a guessed rate. Each quote
// keeps its EUR amount (price.Quote.Currency, CurrencyPerHour). It
// returns one on-demand quote per GPU server type and zone:
//
//   - instance_type: the server type ("H100-SXM-8-80G"); region: the zone
//     ("fr-par-2"); gpu_count: gpu.
//   - GPU: the server type through the catalog's scaleway aliases
//     (H100-N-80G is PCIe, H100-SXM-N-80G SXM), else price.Unknown with
//     the memory from gpu_info.gpu_memory (bytes) and gpu_info.gpu_name as
//     its raw name.
//   - vCPUs and RAM: ncpus and ram (bytes, shown in GB of 2^30 bytes).
//   - Skipped, and counted in a debug log: types without GPUs and types
//     whose hourly_price is not a positive number (a 0 is a type not on
//     sale).
//
// Stock is unknown. A zone that Scaleway does not know (404) fails the
// refresh, naming the zone.
package scaleway

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "scaleway"

// perPage is the most server types Scaleway returns per page.
const perPage = 100

// maxPages bounds a zone's walk: far more than the few pages a zone
// has, and an answer that never ends is an error.
const maxPages = 20

var errPagination = errors.New("the server types never end: every page is full")

// Collector is the Scaleway collector.
type Collector struct {
	collectors.Base
	zones []string
}

// New returns a collector for the configured endpoint and zones.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{Base: collectors.NewBase(Name, cfg, env), zones: collectors.NormalizeRegions(cfg.Zones)}, nil
}

type serverType struct {
	HourlyPrice float64 `json:"hourly_price"`
	GPU         float64 `json:"gpu"`
	NCPUs       float64 `json:"ncpus"`
	RAMBytes    float64 `json:"ram"`
	GPUInfo     *struct {
		GPUName   string  `json:"gpu_name"`
		GPUMemory float64 `json:"gpu_memory"`
	} `json:"gpu_info"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	if c.FX == nil {
		return nil, errors.New("no currency converter: Scaleway prices in EUR")
	}
	var out []price.Quote
	skipped := map[string]int{}
	types := 0
	for _, zone := range c.zones {
		st, err := c.zone(ctx, zone)
		if err != nil {
			return nil, fmt.Errorf("scaleway zone %s: %w", zone, err)
		}
		types += len(st)
		for name, t := range st {
			switch {
			case !(t.GPU > 0):
				skipped["no GPU"]++
				continue
			case !(t.HourlyPrice > 0) || t.HourlyPrice > 1e5:
				skipped["hourly_price not a positive price"]++
				continue
			}
			usd, _, err := c.FX.USD(ctx, t.HourlyPrice, "EUR")
			if err != nil {
				return nil, fmt.Errorf("convert Scaleway's EUR prices: %w", err)
			}
			q := price.Quote{Provider: Name, InstanceType: name, Region: zone, Geo: price.Geo(zone), PricingModel: price.OnDemand,
				GPUModel: price.Unknown, GPUCount: t.GPU, GPURaw: name, USDPerHour: usd, Currency: "EUR", CurrencyPerHour: t.HourlyPrice,
				VCPUs: max(t.NCPUs, 0), MemoryGB: max(t.RAMBytes, 0) / (1 << 30)}
			if a, ok := c.Catalog.Lookup(Name, name); ok {
				q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
			} else if t.GPUInfo != nil {
				q.GPURaw = t.GPUInfo.GPUName
				q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, "", t.GPUInfo.GPUMemory/(1<<20))
			}
			out = append(out, q)
		}
	}
	if types == 0 {
		return nil, fmt.Errorf("list server types: %w", collectors.ErrEmpty)
	}
	collectors.LogSkipped(c.Logger, "Scaleway server types", skipped)
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region))
	})
	return &price.Snapshot{Provider: Name, Quotes: out}, nil
}

// zone lists a zone's server types, every page.
func (c *Collector) zone(ctx context.Context, zone string) (map[string]serverType, error) {
	all := map[string]serverType{}
	for page := 1; ; page++ {
		if page > maxPages {
			return nil, &collectors.DecodeError{What: "server types", Err: errPagination}
		}
		u := fmt.Sprintf("%s/instance/v1/zones/%s/products/servers?per_page=%d&page=%d", c.Endpoint, url.PathEscape(zone), perPage, page)
		var ans struct {
			Servers map[string]serverType `json:"servers"`
		}
		if err := collectors.GetJSON(ctx, c.HTTPClient, u, &ans); err != nil {
			return nil, err
		}
		for n, t := range ans.Servers {
			all[n] = t
		}
		if len(ans.Servers) < perPage {
			return all, nil
		}
	}
}
