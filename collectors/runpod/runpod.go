// Package runpod collects GPU prices from Runpod through its GraphQL API
// (POST <endpoint>, https://api.runpod.io/graphql by default): the
// gpuTypes list, once per cloud tier, with each type's prices per
// GPU-hour and lowestPrice for one GPU of that tier (its stock).
//
// Runpod rents GPUs by the GPU-hour in two tiers, Secure Cloud (Runpod's
// data centers) and Community Cloud (vetted third-party hosts), each with
// an on-demand and a spot (interruptible) price. Per GPU type and tier the
// collector returns up to two quotes:
//
//   - instance_type: "<gpuTypes id>/<tier>", e.g.
//     "NVIDIA H100 80GB HBM3/secure", "NVIDIA GeForce RTX 4090/community".
//     The id is Runpod's own stable key of the type (the one its API and
//     docs use), so two types that map to the same catalog GPU never share
//     a series.
//   - on_demand: securePrice or communityPrice; spot: secureSpotPrice or
//     communitySpotPrice, Runpod's listed interruptible price per tier.
//     Where the listed price is null, the tier's lowestPrice stands in:
//     uninterruptablePrice on demand, minimumBidPrice for spot (the
//     lowest current bid on the one cheapest machine, which is why it is
//     only a fallback: it moves with that machine). A price that is null,
//     zero or negative in both places, or a type the tier does not offer
//     (secureCloud/communityCloud false), gives no quote: 0 is never a
//     price. A type the tier offers with no price at all, a type without
//     an id, and a type whose fields have the wrong types are skipped and
//     counted as price.SkippedInvalid; the other types go on.
//   - gpu_count 1: prices are per GPU-hour and a pod of n GPUs costs n
//     times as much, so multi-GPU shapes would only repeat the price.
//     MIG slices are the exception: the catalog gives their fraction of a
//     GPU (1g.24gb = 0.25), the price being that of one slice.
//   - Stock: lowestPrice.stockStatus of the tier's query, as Runpod
//     documents it: High, Medium, Low → price.StockHigh, StockMedium,
//     StockLow; null → StockNone (not rentable now; the quote and so its
//     series and history are kept); any other value → StockAvailable. It
//     applies to both pricing models of the tier. A lowestPrice that is
//     null altogether, or without a stockStatus key, or with a blank one,
//     says nothing about stock: StockUnknown, never "not rentable" for
//     want of an answer.
//   - Region: lowestPrice.countryCode lower-cased ("us"), the country of
//     the cheapest machine that can take a pod now, or "" when Runpod
//     gives none. A type that goes out of stock has no country code: it
//     keeps the last region it had (remembered across refreshes, and read
//     back from the store's history after a restart), so that it stays in
//     the same series. A type whose cheapest machine moves to another
//     country moves to that country's series.
//   - vCPUs and RAM: lowestPrice.minVcpu and minMemory (GB), the least a
//     pod of one GPU of the tier comes with; 0 (unknown) when null.
//
// GPUs come from the catalog's runpod aliases, looked up by id and then by
// displayName; an unknown GPU is kept as price.Unknown with the id as its
// raw name and memoryInGb as its memory.
//
// GraphQL reports failures of a well-formed request as HTTP 200 with an
// "errors" array; such an answer fails the refresh as a
// *collectors.DecodeError wrapping a *GraphQLError (reason "decode").
package runpod

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "runpod"

// Query is the GraphQL document sent for each tier; the tier is chosen by
// the lowestPriceInput variable.
const Query = `query GpuTypes($lowestPriceInput: GpuLowestPriceInput) {
  gpuTypes {
    id
    displayName
    manufacturer
    memoryInGb
    maxGpuCount
    secureCloud
    communityCloud
    securePrice
    communityPrice
    secureSpotPrice
    communitySpotPrice
    lowestPrice(input: $lowestPriceInput) {
      stockStatus
      countryCode
      minimumBidPrice
      uninterruptablePrice
      minVcpu
      minMemory
      availableGpuCounts
    }
  }
}`

// tier is one of Runpod's clouds.
type tier struct {
	name   string // the instance_type suffix
	secure bool   // lowestPriceInput.secureCloud
}

var tiers = [...]tier{{name: "secure", secure: true}, {name: "community", secure: false}}

// Collector is the Runpod collector. It is not safe for concurrent use;
// the Runner never calls Collect concurrently with itself.
type Collector struct {
	collectors.Base
	endpoint string // as configured, for messages
	url      string // endpoint with the api_key parameter, when there is a key

	// regions is the last region of each instance type, kept for the
	// refreshes in which Runpod gives no country code (out of stock).
	regions map[string]string
	seeded  bool // regions was read from history
}

// New returns a collector for the configured endpoint. env.HTTPClient
// carries the rate limit and retries; when nil, a default one is built.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	u, err := url.Parse(cfg.Endpoint) // checked by config
	if err != nil {
		return nil, fmt.Errorf("runpod endpoint: %w", err)
	}
	endpoint := u.String()
	if cfg.APIKey != "" {
		// Runpod's clients send the key as a query parameter; every error
		// message drops the query string (collectors.DoJSON).
		q := u.Query()
		q.Set("api_key", cfg.APIKey.Value())
		u.RawQuery = q.Encode()
	}
	c := &Collector{
		endpoint: endpoint,
		url:      u.String(),
		Base:     collectors.NewBase(Name, cfg, env),
		regions:  map[string]string{},
	}
	return c, nil
}

// Collect implements collectors.Collector: one query per tier. A failed
// query fails the whole refresh: a snapshot without one tier would
// withdraw all its series.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	c.seedRegions(ctx)
	var quotes []price.Quote
	invalid := 0
	for _, t := range tiers {
		types, err := c.query(ctx, t)
		if err != nil {
			return nil, fmt.Errorf("query %s cloud GPU types: %w", t.name, err)
		}
		qs, bad := c.quotes(t, types.Items)
		quotes = append(quotes, qs...)
		invalid += bad + types.Bad
	}
	slices.SortFunc(quotes, func(x, y price.Quote) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.PricingModel, y.PricingModel))
	})
	snap := &price.Snapshot{Provider: Name, Quotes: quotes}
	snap.Skip(price.SkippedInvalid, invalid)
	return snap, nil
}

// request is a GraphQL-over-HTTP request body.
type request struct {
	Query     string    `json:"query"`
	Variables variables `json:"variables"`
}

type variables struct {
	LowestPriceInput lowestPriceInput `json:"lowestPriceInput"`
}

type lowestPriceInput struct {
	GPUCount    int  `json:"gpuCount"`
	SecureCloud bool `json:"secureCloud"`
}

// answer is a GraphQL response. Numbers the collector does not use are
// decoded too, so that a change of their type is noticed.
type answer struct {
	Data *struct {
		GPUTypes collectors.Rows[gpuType] `json:"gpuTypes"`
	} `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

type gpuType struct {
	ID                 string       `json:"id"`
	DisplayName        string       `json:"displayName"`
	Manufacturer       string       `json:"manufacturer"`
	MemoryInGb         float64      `json:"memoryInGb"`
	MaxGpuCount        int          `json:"maxGpuCount"`
	SecureCloud        *bool        `json:"secureCloud"`
	CommunityCloud     *bool        `json:"communityCloud"`
	SecurePrice        *float64     `json:"securePrice"`
	CommunityPrice     *float64     `json:"communityPrice"`
	SecureSpotPrice    *float64     `json:"secureSpotPrice"`
	CommunitySpotPrice *float64     `json:"communitySpotPrice"`
	LowestPrice        *lowestPrice `json:"lowestPrice"`
}

type lowestPrice struct {
	StockStatus          *string  `json:"stockStatus"`
	CountryCode          *string  `json:"countryCode"`
	MinimumBidPrice      *float64 `json:"minimumBidPrice"`
	UninterruptablePrice *float64 `json:"uninterruptablePrice"`
	MinVcpu              *float64 `json:"minVcpu"`
	MinMemory            *float64 `json:"minMemory"`
	AvailableGpuCounts   []int    `json:"availableGpuCounts"`
	// stockUnsaid: the answer has no stockStatus key at all. GraphQL
	// answers every field asked for, null included, so a missing one
	// says nothing about stock, unlike null (none in stock).
	stockUnsaid bool
}

// UnmarshalJSON decodes a lowestPrice, noting whether stockStatus was
// there.
func (lp *lowestPrice) UnmarshalJSON(b []byte) error {
	type plain lowestPrice
	if err := json.Unmarshal(b, (*plain)(lp)); err != nil {
		return err
	}
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(b, &keys); err != nil {
		return err
	}
	_, said := keys["stockStatus"]
	lp.stockUnsaid = !said
	return nil
}

// GraphQLError is an answer carrying GraphQL errors, which Runpod sends
// with HTTP 200 when a well-formed request fails (an unknown field, an
// internal error, a refused key).
type GraphQLError struct {
	Messages []string
}

func (e *GraphQLError) Error() string {
	return "GraphQL errors: " + strings.Join(e.Messages, "; ")
}

// query fetches the GPU types with the lowest price of one GPU in tier t.
func (c *Collector) query(ctx context.Context, t tier) (collectors.Rows[gpuType], error) {
	var none collectors.Rows[gpuType]
	req, err := collectors.NewJSONRequest(ctx, c.url, request{
		Query:     Query,
		Variables: variables{LowestPriceInput: lowestPriceInput{GPUCount: 1, SecureCloud: t.secure}},
	})
	if err != nil {
		return none, err
	}
	var ans answer
	if err := collectors.DoJSON(c.HTTPClient, req, &ans); err != nil {
		return none, err
	}
	if len(ans.Errors) > 0 {
		ge := &GraphQLError{}
		for _, e := range ans.Errors {
			ge.Messages = append(ge.Messages, e.Message)
		}
		return none, &collectors.DecodeError{What: c.endpoint, Err: ge}
	}
	if ans.Data == nil || !ans.Data.GPUTypes.Set {
		return none, &collectors.DecodeError{What: c.endpoint, Err: errors.New(`the answer has no data.gpuTypes list`)}
	}
	types := ans.Data.GPUTypes
	if err := types.NoRows(c.endpoint, "GPU types", ""); err != nil {
		return none, err
	}
	return types, nil
}

// quotes turns one tier's GPU types into quotes, and counts the types
// that could not be priced.
func (c *Collector) quotes(t tier, types []gpuType) (out []price.Quote, invalid int) {
	skipped := 0
	for i := range types {
		g := &types[i]
		offered, onDemand, spot := g.SecureCloud, g.SecurePrice, g.SecureSpotPrice
		if !t.secure {
			offered, onDemand, spot = g.CommunityCloud, g.CommunityPrice, g.CommunitySpotPrice
		}
		if offered != nil && !*offered {
			skipped++
			continue
		}
		if strings.TrimSpace(g.ID) == "" {
			invalid++
			continue
		}
		if lp := g.LowestPrice; lp != nil {
			onDemand = cmp.Or(positive(onDemand), positive(lp.UninterruptablePrice))
			spot = cmp.Or(positive(spot), positive(lp.MinimumBidPrice))
		}
		onDemand, spot = positive(onDemand), positive(spot)
		if onDemand == nil && spot == nil {
			invalid++ // offered in the tier, yet no price anywhere
			continue
		}
		it := g.ID + "/" + t.name
		stock, region := c.place(it, g.LowestPrice)
		q := c.gpu(g)
		q.InstanceType, q.Region, q.Stock = it, region, stock
		if lp := g.LowestPrice; lp != nil {
			// What a pod of one GPU of the tier comes with at least.
			q.VCPUs, q.MemoryGB = nonNegative(lp.MinVcpu), nonNegative(lp.MinMemory)
		}
		for _, p := range []struct {
			model price.PricingModel
			usd   *float64
		}{{price.OnDemand, onDemand}, {price.Spot, spot}} {
			if p.usd == nil {
				continue // not sold this way in this tier
			}
			// The price is that of one unit rented: a GPU, or a slice.
			q.PricingModel, q.USDPerHour = p.model, *p.usd
			out = append(out, q)
		}
	}
	if skipped > 0 || invalid > 0 {
		c.Logger.Debug("GPU types without a quote in a tier", "tier", t.name, "types", len(types),
			"not_offered", skipped, "invalid", invalid)
	}
	return out, invalid
}

// positive returns p when it points to a price above zero, else nil: a
// null, zero or negative price is no price.
func positive(p *float64) *float64 {
	if p == nil || !(*p > 0) {
		return nil
	}
	return p
}

// nonNegative returns *p, or 0 for a null or negative value.
func nonNegative(p *float64) float64 {
	if p == nil {
		return 0
	}
	return max(*p, 0)
}

// gpu returns a quote with the GPU fields of g filled in.
func (c *Collector) gpu(g *gpuType) price.Quote {
	q := price.Quote{Provider: Name, GPUModel: price.Unknown, GPUCount: 1, GPURaw: g.ID}
	a, ok := c.Catalog.Lookup(Name, g.ID)
	if !ok && g.DisplayName != "" {
		a, ok = c.Catalog.Lookup(Name, g.DisplayName)
	}
	if ok {
		q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		if a.Count > 0 {
			q.GPUCount = a.Count
		}
	}
	if q.GPUMemoryGB == 0 {
		q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, q.GPUForm, g.MemoryInGb*1024)
	}
	return q
}

// place returns the stock and region of instance type it from its
// lowestPrice, remembering the region for the refreshes without one.
func (c *Collector) place(it string, lp *lowestPrice) (price.Stock, string) {
	stock := price.StockUnknown
	region := ""
	if lp != nil {
		stock = price.StockNone
		switch {
		case lp.stockUnsaid:
			stock = price.StockUnknown
		case lp.StockStatus != nil:
			switch strings.ToLower(strings.TrimSpace(*lp.StockStatus)) {
			case "":
				stock = price.StockUnknown // a blank level says nothing
			case "high":
				stock = price.StockHigh
			case "medium":
				stock = price.StockMedium
			case "low":
				stock = price.StockLow
			default:
				stock = price.StockAvailable
			}
		}
		if lp.CountryCode != nil {
			region = strings.ToLower(strings.TrimSpace(*lp.CountryCode))
		}
	}
	if region == "" {
		return stock, c.regions[it]
	}
	c.regions[it] = region
	return stock, region
}

// seedRegions reads, once, the region of each instance type's newest
// stored point, so that a type out of stock at the first refresh after a
// restart stays in its series. Without a store it does nothing; a store
// error is logged and costs only that continuity.
func (c *Collector) seedRegions(ctx context.Context) {
	if c.seeded {
		return
	}
	c.seeded = true
	if c.Backfiller == nil {
		return
	}
	last, err := c.Backfiller.LastPoints(ctx)
	if err != nil {
		c.Logger.Warn("could not read the last regions from the store; a type out of stock now may start a new series", "err", err)
		return
	}
	// When a type moved country, both series have a point at the same
	// time (a withdrawal and a price); the larger region name wins, which
	// is arbitrary but stable, and matters only until Runpod next gives
	// the type a country code.
	newest := map[string]time.Time{}
	for k, t := range last {
		if k.Region == "" {
			continue
		}
		prev, seen := newest[k.InstanceType]
		if !seen || t.After(prev) || (t.Equal(prev) && k.Region > c.regions[k.InstanceType]) {
			newest[k.InstanceType] = t
			c.regions[k.InstanceType] = k.Region
		}
	}
}
