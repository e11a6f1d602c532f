// Package akash collects GPU prices from the Akash Network, a
// decentralised market of compute providers, through its console API's
// statistics of providers' bids: GET <endpoint>/v1/gpu-prices (endpoint
// https://console-api.akash.network by default), anonymous.
//
// The answer is not a list of offers but one entry per GPU model (vendor,
// model, ram, interface) with the number of its GPUs on the network and
// available now, and the min, max, average, weighted average and median of
// the providers' bids in USD per GPU-hour. The collector returns one
// on-demand quote per model (Akash leases are not interrupted):
//
//   - instance_type: "<model>-<ram>-<interface>", lower-cased
//     ("h100-80gi-sxm5"); region "global" (bids come from providers all
//     over; the answer does not say where), no geo; gpu_count 1.
//   - usd_per_hour: the lowest bid (price.min): what the cheapest provider
//     asks, as a marketplace's cheapest offer is; the quote's p50 is the
//     median bid (price.med) and its available GPUs
//     availability.available.
//   - Markets: one per catalog GPU (model, form, memory; none for
//     UNKNOWN), region global,
//     on demand: quantile 0.5 the median bid, available GPUs
//     availability.available (none when a model does not count them,
//     never 0). Akash gives no 0.1 and 0.9 quantiles and
//     no count of bids, so those are not exported; where two models map
//     to one GPU their GPUs add up and the median, which cannot be
//     combined, is left out. The max, average and weighted average are
//     not exported.
//   - Stock: available when availability.available is positive, none
//     when it is 0 (the price is kept), unknown when the answer does not
//     say (no availability, or available missing, null or negative).
//   - GPU: "<model> <ram> <interface>" through the catalog's akash
//     aliases, else price.Unknown with the memory from ram ("80Gi").
//   - Skipped, and counted in a debug log: models without a price (null),
//     with a lowest bid that is not a positive number, or in a currency
//     other than USD; a model that does not decode is counted in the
//     snapshot as price.SkippedInvalid.
package akash

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "akash"

// GPUPricesPath is appended to the configured endpoint.
const GPUPricesPath = "/v1/gpu-prices"

// Region is the region of every Akash quote.
const Region = "global"

// Collector is the Akash collector.
type Collector struct{ collectors.Base }

// New returns a collector for the configured endpoint.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{collectors.NewBase(Name, cfg, env)}, nil
}

// availability is a model's GPUs on the network and rentable now; nil
// fields were missing or null in the answer.
type availability struct {
	Available *float64 `json:"available"` // the total is not read
}

type answer struct {
	Models collectors.Rows[model] `json:"models"`
}

type model struct {
	Vendor       string        `json:"vendor"`
	Model        string        `json:"model"`
	RAM          string        `json:"ram"`
	Interface    string        `json:"interface"`
	Availability *availability `json:"availability"`
	Price        *struct {
		Currency string   `json:"currency"`
		Min      float64  `json:"min"`
		Median   *float64 `json:"med"`
	} `json:"price"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	u := c.Endpoint + GPUPricesPath
	var ans answer
	if err := collectors.GetJSON(ctx, c.HTTPClient, u, &ans); err != nil {
		return nil, fmt.Errorf("read GPU prices: %w", err)
	}
	if err := ans.Models.NoRows(u, "GPU models", "read GPU prices"); err != nil {
		return nil, err
	}
	var out []price.Quote
	skipped := map[string]int{}
	for _, m := range ans.Models.Items {
		switch {
		case m.Price == nil:
			skipped["no bids"]++
			continue
		case !strings.EqualFold(m.Price.Currency, "usd"):
			skipped["not priced in USD"]++
			continue
		case !(m.Price.Min > 0) || m.Price.Min > 1e4:
			skipped["lowest bid not a positive price"]++
			continue
		}
		raw := strings.Join(strings.Fields(strings.Join([]string{m.Model, m.RAM, m.Interface}, " ")), " ")
		q := price.Quote{Provider: Name, InstanceType: strings.ToLower(strings.ReplaceAll(raw, " ", "-")), Region: Region,
			PricingModel: price.OnDemand, GPUModel: price.Unknown, GPUCount: 1, GPURaw: raw, USDPerHour: m.Price.Min,
			Stock: stock(m.Availability)}
		if a := m.Availability; a != nil && a.Available != nil {
			q.AvailableGPUs = max(*a.Available, 0)
		}
		if med := m.Price.Median; med != nil && *med >= m.Price.Min && *med <= 1e4 {
			q.P50 = *med
		}
		if a, ok := c.Catalog.Lookup(Name, raw); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		} else if gib, err := strconv.ParseFloat(strings.TrimSuffix(m.RAM, "Gi"), 64); err == nil {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, "", gib*1024)
		}
		out = append(out, q)
	}
	collectors.LogSkipped(c.Logger, "Akash GPU models", skipped)
	if len(out) == 0 {
		return nil, ans.Models.NoneUsable(u, "GPU models could not be read and none of the others has a price",
			"read GPU prices: no GPU model has a usable USD price")
	}
	slices.SortFunc(out, func(x, y price.Quote) int { return cmp.Compare(x.InstanceType, y.InstanceType) })
	snap := &price.Snapshot{Provider: Name, Quotes: out, Markets: markets(out)}
	snap.Skip(price.SkippedInvalid, ans.Models.Bad)
	return snap, nil
}

// markets returns a market per GPU of quotes (see the package comment),
// in GPU order.
func markets(quotes []price.Quote) []price.Market {
	type key struct {
		model, form string
		memory      float64
	}
	byGPU := map[key]int{}
	var out []price.Market
	for i := range quotes {
		q := &quotes[i]
		if q.GPUModel == price.Unknown {
			continue // unrelated models would share a market
		}
		k := key{q.GPUModel, q.GPUForm, q.GPUMemoryGB}
		available := q.AvailableGPUs
		if q.Stock == price.StockUnknown {
			available = math.NaN() // not counted: never 0
		}
		if j, ok := byGPU[k]; ok {
			out[j].AvailableGPUs += available
			out[j].P50 = math.NaN()
			continue
		}
		byGPU[k] = len(out)
		p50 := q.P50
		if p50 == 0 {
			p50 = math.NaN()
		}
		out = append(out, price.Market{Provider: Name, Region: Region, PricingModel: price.OnDemand,
			GPUModel: q.GPUModel, GPUForm: q.GPUForm, GPUMemoryGB: q.GPUMemoryGB,
			P10: math.NaN(), P50: p50, P90: math.NaN(), AvailableGPUs: available})
	}
	slices.SortFunc(out, func(x, y price.Market) int {
		return cmp.Or(cmp.Compare(x.GPUModel, y.GPUModel), cmp.Compare(x.GPUForm, y.GPUForm), cmp.Compare(x.GPUMemoryGB, y.GPUMemoryGB))
	})
	return out
}

// stock is what a model's availability says: none only when the answer
// counts 0 GPUs available, unknown when it does not count them.
func stock(a *availability) price.Stock {
	switch {
	case a == nil || a.Available == nil || *a.Available < 0:
		return price.StockUnknown
	case *a.Available > 0:
		return price.StockAvailable
	}
	return price.StockNone
}
