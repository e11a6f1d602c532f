// Package ovhcloud collects GPU instance prices from OVHcloud's Public
// Cloud through its public order catalog, GET
// <endpoint>/order/catalog/public/cloud?ovhSubsidiary=<subsidiary>
// (endpoint https://eu.api.ovh.com/1.0, subsidiary FR by default), which
// answers without a key, in one piece.
//
// The catalog lists addons; an instance flavor is an addon of product
// "publiccloud-instance" whose blobs.technical describes it (cpu.cores,
// memory.size, gpu.{number, model, memory.size}, os.family). Each flavor
// has one addon per way of paying for it, told apart by the planCode's
// suffix: "<flavor>.consumption" is billed by the hour, and is the only one
// priced here. Its pricing of capacity "consumption" is per hour
// (intervalUnit "hour", interval 1; the US subsidiary's catalog says
// "none"), in 1e-8 of the catalog's currency (locale.currencyCode, EUR for
// FR), net of tax, for the whole instance.
//
// The collector returns one on-demand quote per GPU flavor and region:
//
//   - instance_type: the flavor ("h100-380"); gpu_count:
//     blobs.technical.gpu.number, never read from the flavor's name.
//   - GPU: gpu.model ("H100", "Tesla V100S") through the catalog's
//     ovhcloud aliases, the memory from gpu.memory.size (GB per GPU) where
//     the alias leaves it out; else price.Unknown with gpu.model as its
//     raw name.
//   - vCPUs and RAM: blobs.technical.cpu.cores and memory.size (GB).
//   - region: every region the flavor's hourly plan lists in its
//     configurations (name "region"), lower-cased ("gra11", "bhs5"), or,
//     when it lists none, those of its monthly plan. OVHcloud prices a
//     flavor the same in every region of a subsidiary's catalog: the
//     addon has one price and a list of regions. A flavor that lists no
//     region is quoted once, without one.
//   - The price is converted to USD at the ECB's rate (collectors.Env.FX)
//     unless the catalog is in USD; without a rate young enough the
//     refresh fails with reason fx. Each quote keeps the catalog's
//     amount (price.Quote.Currency, CurrencyPerHour).
//   - Stock is unknown; a flavor tagged "coming_soon" is priced with
//     stock none (not orderable yet).
//   - Skipped, and counted in a debug log: addons of other products
//     (volumes, IPs, AI Training, whose GPU addons are priced per
//     minute), other plans of a flavor (.monthly.postpaid, the 3-AZ and
//     local-zone variants .consumption.3AZ, .consumption.LZ..., which
//     price other places), flavors without a GPU, Windows flavors (the
//     licence is in the price), and plans whose hourly price is not a
//     positive number. An addon that does not decode is counted in the
//     snapshot as price.SkippedInvalid.
package ovhcloud

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "ovhcloud"

// CatalogPath is appended to the configured endpoint.
const CatalogPath = "/order/catalog/public/cloud"

// product is the addons' product of instance flavors.
const product = "publiccloud-instance"

// The planCode suffixes of a flavor's hourly and monthly plans.
const (
	hourlySuffix  = ".consumption"
	monthlySuffix = ".monthly.postpaid"
)

// Collector is the OVHcloud collector.
type Collector struct {
	collectors.Base
	query string // of the catalog: the subsidiary
}

// New returns a collector for the configured endpoint and subsidiary.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	q := url.Values{"ovhSubsidiary": {strings.ToUpper(cfg.Subsidiary)}}
	return &Collector{Base: collectors.NewBase(Name, cfg, env), query: q.Encode()}, nil
}

type answer struct {
	Locale struct {
		CurrencyCode string `json:"currencyCode"`
	} `json:"locale"`
	Addons collectors.Rows[addon] `json:"addons"`
}

type addon struct {
	PlanCode       string    `json:"planCode"`
	Product        string    `json:"product"`
	Pricings       []pricing `json:"pricings"`
	Configurations []struct {
		Name   string   `json:"name"`
		Values []string `json:"values"`
	} `json:"configurations"`
	Blobs *struct {
		Technical *struct {
			GPU *struct {
				Number float64 `json:"number"`
				Model  string  `json:"model"`
				Memory *struct {
					Size float64 `json:"size"`
				} `json:"memory"`
			} `json:"gpu"`
			OS *struct {
				Family string `json:"family"`
			} `json:"os"`
			CPU struct {
				Cores float64 `json:"cores"`
			} `json:"cpu"`
			Memory struct {
				Size float64 `json:"size"`
			} `json:"memory"`
		} `json:"technical"`
		Tags []string `json:"tags"`
	} `json:"blobs"`
}

type pricing struct {
	Price        float64  `json:"price"`
	Interval     float64  `json:"interval"`
	IntervalUnit string   `json:"intervalUnit"`
	Capacities   []string `json:"capacities"`
}

// flavor is a GPU flavor's hourly plan, ready to quote.
type flavor struct {
	name    string
	a       *addon
	perHour float64 // in the catalog's currency
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	what := c.Endpoint + CatalogPath
	var ans answer
	if err := collectors.GetJSON(ctx, c.HTTPClient, what+"?"+c.query, &ans); err != nil {
		return nil, fmt.Errorf("read the public cloud catalog: %w", err)
	}
	if err := ans.Addons.NoRows(what, "addons", "read the public cloud catalog"); err != nil {
		return nil, err
	}
	currency := strings.ToUpper(strings.TrimSpace(ans.Locale.CurrencyCode))
	if currency == "" {
		return nil, &collectors.DecodeError{What: what, Err: errors.New("the catalog names no currency (locale.currencyCode)")}
	}

	skipped := map[string]int{}
	monthlyRegions := map[string][]string{}
	var flavors []flavor
	for i := range ans.Addons.Items {
		a := &ans.Addons.Items[i]
		if a.Product != product {
			skipped["not an instance"]++
			continue
		}
		name, ok := strings.CutSuffix(a.PlanCode, hourlySuffix)
		if !ok || name == "" || strings.Contains(name, ".") {
			if m, ok := strings.CutSuffix(a.PlanCode, monthlySuffix); ok {
				monthlyRegions[m] = regions(a)
			}
			skipped["not the hourly plan"]++
			continue
		}
		if a.Blobs == nil || a.Blobs.Technical == nil || a.Blobs.Technical.GPU == nil || !(a.Blobs.Technical.GPU.Number > 0) {
			skipped["no GPU"]++
			continue
		}
		if os := a.Blobs.Technical.OS; strings.HasPrefix(name, "win-") || (os != nil && strings.EqualFold(os.Family, "windows")) {
			skipped["Windows licence in the price"]++
			continue
		}
		perHour, ok := hourly(a.Pricings)
		if !ok {
			skipped["no positive hourly price"]++
			continue
		}
		flavors = append(flavors, flavor{name: name, a: a, perHour: perHour})
	}
	collectors.LogSkipped(c.Logger, "OVHcloud catalog addons", skipped)
	if len(flavors) == 0 {
		return nil, ans.Addons.NoneUsable(what, "addons could not be read and none of the others is a priced GPU flavor",
			"read the public cloud catalog: no GPU flavor has an hourly price")
	}

	var out []price.Quote
	for _, f := range flavors {
		usd := f.perHour
		if currency != "USD" {
			if c.FX == nil {
				return nil, fmt.Errorf("no currency converter: the OVHcloud catalog prices in %s", currency)
			}
			var err error
			if usd, _, err = c.FX.USD(ctx, f.perHour, currency); err != nil {
				return nil, fmt.Errorf("convert OVHcloud's %s prices: %w", currency, err)
			}
		}
		g := f.a.Blobs.Technical.GPU
		q := price.Quote{Provider: Name, InstanceType: f.name, PricingModel: price.OnDemand,
			GPUModel: price.Unknown, GPUCount: g.Number, GPURaw: g.Model, USDPerHour: usd,
			VCPUs: max(f.a.Blobs.Technical.CPU.Cores, 0), MemoryGB: max(f.a.Blobs.Technical.Memory.Size, 0)}
		if currency != "USD" {
			q.Currency, q.CurrencyPerHour = currency, f.perHour
		}
		if a, ok := c.Catalog.Lookup(Name, g.Model); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		}
		if q.GPUMemoryGB == 0 && g.Memory != nil {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, q.GPUForm, g.Memory.Size*1024)
		}
		if slices.Contains(f.a.Blobs.Tags, "coming_soon") {
			q.Stock = price.StockNone
		}
		rs := regions(f.a)
		if len(rs) == 0 {
			rs = monthlyRegions[f.name]
		}
		if len(rs) == 0 {
			rs = []string{""}
		}
		for _, r := range rs {
			q.Region, q.Geo = r, Geo(r)
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.Region, y.Region))
	})
	snap := &price.Snapshot{Provider: Name, Quotes: out}
	snap.Skip(price.SkippedInvalid, ans.Addons.Bad)
	return snap, nil
}

// hourly returns the price per hour of an hourly plan's pricings: the one
// of capacity "consumption", per hour (or, as the US catalog says, per
// "none"); false when there is none, when several disagree, or when it is
// not a positive number. Prices are in 1e-8 of the currency.
func hourly(ps []pricing) (float64, bool) {
	found := false
	var units float64
	for _, p := range ps {
		if !slices.Contains(p.Capacities, "consumption") {
			continue
		}
		switch {
		case p.IntervalUnit == "hour" && (p.Interval == 1 || p.Interval == 0):
		case p.IntervalUnit == "none" || p.IntervalUnit == "":
		default:
			continue // per minute, per month: not an hourly price
		}
		if found && p.Price != units {
			return 0, false
		}
		found, units = true, p.Price
	}
	perHour := units / 1e8
	if !found || !(perHour > 0) || perHour > 1e5 {
		return 0, false
	}
	return perHour, true
}

// regions returns the lower-cased region values of an addon's
// configurations, without repeats, sorted.
func regions(a *addon) []string {
	var out []string
	for _, c := range a.Configurations {
		if c.Name == "region" {
			out = append(out, c.Values...)
		}
	}
	out = collectors.NormalizeRegions(out)
	slices.Sort(out)
	return out
}

// Geo returns the coarse location of an OVHcloud region: the older ones
// are a datacenter's code and a number ("gra11" Gravelines, "bhs5"
// Beauharnois, "sgp1" Singapore), the newer ones follow the clouds'
// scheme ("eu-west-par", "ca-east-tor", "ap-southeast-syd").
func Geo(region string) string {
	if g, ok := newerGeo[region]; ok {
		return g
	}
	if g, ok := datacenterGeo[strings.TrimRight(region, "0123456789")]; ok {
		return g
	}
	return price.Geo(region)
}

// datacenterGeo maps the datacenter codes of OVHcloud's older regions.
var datacenterGeo = map[string]string{
	"gra": "eu", "sbg": "eu", "rbx": "eu", "par": "eu", "de": "eu", "lim": "eu", "uk": "eu", "eri": "eu", "waw": "eu",
	"bhs": "na", "tor": "na", "hil": "na", "vin": "na",
	"sgp": "asia", "mum": "asia",
	"syd": "oc",
}

// newerGeo holds the newer regions whose scheme name says the wrong
// place: "ap-southeast-syd" is Sydney, not Asia.
var newerGeo = map[string]string{
	"ap-southeast-syd": "oc",
}
