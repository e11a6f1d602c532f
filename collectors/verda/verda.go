// Package verda collects GPU instance prices from Verda (formerly
// DataCrunch) through its public catalog, GET
// <endpoint>/v1/instance-types?currency=usd (endpoint https://api.verda.com
// by default), which answers without credentials.
//
// Verda prices each instance type once, in USD per instance-hour, the same
// in every location; its locations and their availability need an OAuth2
// client, which this collector does not use. So it returns, for every
// configured location (default FIN-01), one on-demand quote per GPU
// instance type and one spot quote where the type has a spot price:
//
//   - instance_type: Verda's name ("8H100.80S.176V"); region: the location
//     code, lower-cased ("fin-01"); usd_per_hour: price_per_hour (spot:
//     spot_price), which Verda sends as strings.
//   - GPU: gpu.description without its "<n>x " prefix ("H100 SXM5 80GB")
//     through the catalog's verda aliases; the count from
//     gpu.number_of_gpus; the memory from the alias, or else
//     gpu_memory.size_in_gigabytes, which is the total of the instance's
//     GPUs, divided by their count. An unknown GPU is kept as
//     price.Unknown with the description as its raw name.
//   - vCPUs and RAM: cpu.number_of_cores and memory.size_in_gigabytes.
//   - Skipped, and counted in a debug log: types without GPUs, rows whose
//     price is missing, not a number, zero or negative, and rows priced in
//     another currency than USD (never converted). A row that does not
//     decode, or whose price is missing or not a number, is counted in
//     the snapshot as price.SkippedInvalid; the others go on. A spot_price of "0" or
//     none means no spot quote.
//
// Stock is unknown: the anonymous catalog does not say it. A refresh is
// one request.
package verda

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "verda"

// InstanceTypesPath is appended to the configured endpoint.
const InstanceTypesPath = "/v1/instance-types?currency=usd"

// Collector is the Verda collector.
type Collector struct {
	collectors.Base
	locations []string
}

// New returns a collector for the configured endpoint and locations.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{Base: collectors.NewBase(Name, cfg, env), locations: collectors.NormalizeRegions(cfg.Locations)}, nil
}

// instanceType is one element of the answer, as far as it is used.
type instanceType struct {
	InstanceType string  `json:"instance_type"`
	PricePerHour *string `json:"price_per_hour"`
	SpotPrice    *string `json:"spot_price"`
	Currency     string  `json:"currency"`
	GPU          struct {
		Description  string  `json:"description"`
		NumberOfGPUs float64 `json:"number_of_gpus"`
	} `json:"gpu"`
	GPUMemory struct {
		SizeInGigabytes float64 `json:"size_in_gigabytes"`
	} `json:"gpu_memory"`
	CPU struct {
		NumberOfCores float64 `json:"number_of_cores"`
	} `json:"cpu"`
	Memory struct {
		SizeInGigabytes float64 `json:"size_in_gigabytes"`
	} `json:"memory"`
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	u := c.Endpoint + InstanceTypesPath
	var types collectors.Rows[instanceType]
	if err := collectors.GetJSON(ctx, c.HTTPClient, u, &types); err != nil {
		return nil, fmt.Errorf("list instance types: %w", err)
	}
	if err := types.NoRows(u, "instance types", "list instance types"); err != nil {
		return nil, err
	}
	quotes, invalid := c.quotes(types.Items)
	if len(quotes) == 0 {
		return nil, fmt.Errorf("list instance types: no GPU instance type has a usable USD price: %w", collectors.ErrEmpty)
	}
	snap := &price.Snapshot{Provider: Name, Quotes: quotes}
	snap.Skip(price.SkippedInvalid, types.Bad+invalid)
	return snap, nil
}

var countPrefix = regexp.MustCompile(`^\d+x\s+`) // "8x H100 SXM5 80GB"

// quotes turns the instance types into quotes, one per location, type and
// pricing model, and the number of rows whose on-demand price is missing
// or not a number (price.SkippedInvalid).
func (c *Collector) quotes(types []instanceType) ([]price.Quote, int) {
	var out []price.Quote
	skipped := map[string]int{}
	invalid := 0
	for _, t := range types {
		count := t.GPU.NumberOfGPUs
		raw := strings.Join(strings.Fields(countPrefix.ReplaceAllString(t.GPU.Description, "")), " ")
		switch {
		case !(count > 0) || raw == "":
			skipped["no GPU"]++
			continue
		case !strings.EqualFold(t.Currency, "usd"):
			skipped["not priced in USD"]++
			continue
		}
		onDemand, err := parsePrice(t.PricePerHour)
		if err != nil {
			skipped["price_per_hour "+err.Error()]++
			if !errors.Is(err, errNotPositive) {
				invalid++
			}
			continue
		}
		q := price.Quote{Provider: Name, InstanceType: t.InstanceType, GPUModel: price.Unknown, GPUCount: count, GPURaw: raw,
			VCPUs: max(t.CPU.NumberOfCores, 0), MemoryGB: max(t.Memory.SizeInGigabytes, 0)}
		if a, ok := c.Catalog.Lookup(Name, raw); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		}
		if q.GPUMemoryGB == 0 && t.GPUMemory.SizeInGigabytes > 0 {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, q.GPUForm, t.GPUMemory.SizeInGigabytes/count*1024)
		}
		models := []struct {
			pm  price.PricingModel
			usd float64
		}{{price.OnDemand, onDemand}}
		if spot, err := parsePrice(t.SpotPrice); err == nil {
			models = append(models, struct {
				pm  price.PricingModel
				usd float64
			}{price.Spot, spot})
		}
		for _, loc := range c.locations {
			for _, m := range models {
				q.Region, q.Geo, q.PricingModel, q.USDPerHour = loc, price.Geo(loc), m.pm, m.usd
				out = append(out, q)
			}
		}
	}
	collectors.LogSkipped(c.Logger, "Verda instance types", skipped)
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region),
			cmp.Compare(x.PricingModel, y.PricingModel))
	})
	return out, invalid
}

var (
	errNoPrice     = errors.New("missing")
	errNotPositive = errors.New("not a positive price")
)

// parsePrice reads one of Verda's string prices; missing, zero, negative
// or non-numeric prices are errors.
func parsePrice(s *string) (float64, error) {
	if s == nil || strings.TrimSpace(*s) == "" {
		return 0, errNoPrice
	}
	v, err := strconv.ParseFloat(strings.TrimSpace(*s), 64)
	switch {
	case err != nil:
		return 0, errors.New("not a number")
	case !(v > 0) || v > 1e6:
		return 0, errNotPositive
	}
	return v, nil
}
