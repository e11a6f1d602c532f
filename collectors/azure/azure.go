// Package azure collects Azure GPU virtual machine prices, on-demand and
// spot, from the anonymous Azure Retail Prices API
// (https://prices.azure.com/api/retail/prices).
//
// The API knows nothing of GPUs: it prices VM sizes (armSkuName). The
// GPU families are the N-series, and the catalog's Azure alias table maps
// each whole size to its GPU model, form, memory and count (fractional for
// GPU partitions such as Standard_NV6ads_A10_v5 = 1/6 A10). An N-series
// size the catalog does not know is kept as gpu_model UNKNOWN with a GPU
// count of 1, so its per-GPU price is the price of the whole instance until
// the size is added to the catalog.
//
// Each refresh walks every configured region with its own filtered query,
// a few regions at a time. A walk per region keeps each one short: the
// API pages with $skip, which is not consistent while prices are being
// updated, so a long walk can skip or repeat rows.
//
// A row whose retailPrice is null, missing or not a number, or that has
// no armSkuName, is skipped and counted as price.SkippedInvalid; the rest
// of the page goes on. A page none of whose rows can be read fails the
// refresh as a decode error.
//
// With providers.azure.subscription_id (and azidentity's default chain, or
// a service principal), the collector also reads Azure Resource Manager's
// Resource SKUs (armcompute ResourceSKUsClient, one filtered list per
// region, every sku_refresh): each size's GPU count, vCPUs and memory, the
// zones offering it, and whether the subscription may deploy it, which
// becomes the quote's stock. Without SKUs for a region its stock stays
// unknown; a failed read never holds prices back.
package azure

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider's label value and config section.
const Name = "azure"

// apiVersion adds savings-plan data and makes filter values case-sensitive;
// it is the version the fake and the filter below were written against.
const apiVersion = "2023-01-01-preview"

// defaultMaxPages bounds one region's walk. A region's N-series rows fill
// one to three pages of 1000; a NextPageLink still present after this many
// pages is a broken API, not a big region.
const defaultMaxPages = 100

// Collector fetches Azure GPU VM prices. It holds no state between
// refreshes.
type Collector struct {
	collectors.Base
	endpoint    *url.URL
	regions     []string
	concurrency int
	maxPages    int
	// skus is nil without a subscription: prices only.
	skus *skuSource
}

// New builds the Azure collector from its section.
func New(s *Config, env collectors.Env) (*Collector, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("azure endpoint: %w", err)
	}
	c := &Collector{
		endpoint:    u,
		concurrency: max(s.Concurrency, 1),
		Base:        collectors.NewBase(Name, s, env),
		maxPages:    defaultMaxPages,
	}
	// Region names are lower-case in the API, and the preview API version
	// compares filter values case-sensitively.
	regions := s.Regions
	if len(regions) == 0 {
		regions = publicRegions
	}
	c.regions = collectors.NormalizeRegions(regions)
	if c.skus, err = newSKUSource(s, c.Env); err != nil {
		return nil, err
	}
	return c, nil
}

// Collect walks every region and returns their quotes, sorted by region,
// instance type and pricing model. Any region's failure fails the whole
// refresh: a snapshot without that region would withdraw its series. With a
// subscription, the Resource SKUs are read meanwhile (see skuSource.read)
// and complete the quotes; their failure never fails the refresh.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	type result struct {
		quotes    []price.Quote
		rows, bad int
	}
	results := make([]result, len(c.regions))
	// Resource SKUs are read beside the prices, and never fail them.
	skus := make(chan map[string]*regionSKUs, 1)
	skuCtx, cancelSKUs := context.WithCancel(ctx)
	defer cancelSKUs()
	if c.skus != nil {
		go func() {
			var got map[string]*regionSKUs
			defer func() { skus <- got }()
			if err := collectors.Safely(func() error {
				got = c.skus.read(skuCtx, c.regions, c.concurrency)
				return nil
			}); err != nil {
				c.Logger.Error("reading Azure Resource SKUs panicked; stock left unknown", "err", err)
			}
		}()
	} else {
		skus <- nil
	}
	// A walk of every region takes from seconds to minutes: say how far it
	// got (logged at most every 10s; a bar on a terminal).
	progress := collectors.NewProgress(c.Logger, "walk azure regions", "regions", int64(len(c.regions)))
	// The first region to fail cancels the others: the refresh fails anyway.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.concurrency)
	for i, region := range c.regions {
		g.Go(func() error {
			return collectors.Safely(func() error {
				quotes, rows, bad, err := c.walk(gctx, region)
				if err != nil {
					return fmt.Errorf("azure region %s: %w", region, err)
				}
				results[i] = result{quotes, rows, bad}
				progress.Add(1)
				return nil
			})
		})
	}
	if err := g.Wait(); err != nil {
		cancelSKUs()
		<-skus // no read outlives its refresh
		return nil, err
	}

	snap := &price.Snapshot{Provider: Name}
	rows := 0
	for _, r := range results {
		snap.Quotes = append(snap.Quotes, r.quotes...)
		rows += r.rows
		snap.Skip(price.SkippedInvalid, r.bad)
	}
	if rows == 0 {
		// Not one row in any region: the API is broken, not empty.
		cancelSKUs()
		<-skus
		return nil, fmt.Errorf("azure: no price rows in %d regions: %w", len(c.regions), collectors.ErrEmpty)
	}
	if c.skus != nil {
		apply(snap.Quotes, <-skus, c.Logger)
	}
	return snap, nil
}

// page is one answer of the Retail Prices API; only the fields used are
// decoded.
type page struct {
	Items collectors.Rows[item] `json:"Items"`
	// NextPageLink is null (decoded as "") on the last page.
	NextPageLink string `json:"NextPageLink"`
}

// item is one price row.
type item struct {
	CurrencyCode string `json:"currencyCode"`
	// RetailPrice is nil when the row has none (null or missing): such a
	// row is bad input, unlike a zero price, which is passed on for the
	// Runner to reject and count.
	RetailPrice        *float64 `json:"retailPrice"`
	ArmRegionName      string   `json:"armRegionName"`
	EffectiveStartDate string   `json:"effectiveStartDate"`
	MeterName          string   `json:"meterName"`
	ProductName        string   `json:"productName"`
	SkuName            string   `json:"skuName"`
	ServiceName        string   `json:"serviceName"`
	UnitOfMeasure      string   `json:"unitOfMeasure"`
	Type               string   `json:"type"`
	ArmSkuName         string   `json:"armSkuName"`
}

// retailPrice is the row's price; 0 when it has none.
func (it *item) retailPrice() float64 {
	if it.RetailPrice == nil {
		return 0
	}
	return *it.RetailPrice
}

// filter is the $filter sent for region: pay-as-you-go VM prices of the
// N-series (the GPU families) in that region, without the Windows and
// Low Priority rows the API can exclude itself. Windows rows whose product
// says only "Win", Cloud Services rows and the rest are dropped client-side
// (see dropReason); so are all of these, in case the API filters less than
// asked.
func filter(region string) string {
	return "serviceName eq 'Virtual Machines' and priceType eq 'Consumption'" +
		" and armRegionName eq '" + odataString(region) + "'" +
		" and contains(armSkuName, 'Standard_N') eq true" +
		" and contains(productName, 'Windows') eq false" +
		" and contains(meterName, 'Low Priority') eq false"
}

// odataString escapes s for a single-quoted OData literal.
func odataString(s string) string { return strings.ReplaceAll(s, "'", "''") }

// firstPage is the URL of region's first page.
func (c *Collector) firstPage(region string) string {
	u := *c.endpoint
	// Spaces as %20 rather than +, and $filter unescaped, as in the API's
	// own documentation and NextPageLinks.
	u.RawQuery = "api-version=" + apiVersion + "&$filter=" +
		strings.ReplaceAll(url.QueryEscape(filter(region)), "+", "%20")
	return u.String()
}

// nextPage turns a NextPageLink into the next URL to fetch. Only the
// link's query is used, on the configured endpoint: the API names its own
// public host, which would bypass a configured proxy or mirror, and a
// price feed has no business sending the client to another server.
func (c *Collector) nextPage(link string) (string, error) {
	n, err := url.Parse(link)
	if err != nil {
		return "", err
	}
	u := *c.endpoint
	u.RawQuery = n.RawQuery
	return u.String(), nil
}

// errPagination is wrapped in a DecodeError when NextPageLink never ends.
var errPagination = errors.New("endless pagination")

// walk fetches every page of region and returns its deduplicated quotes,
// how many rows the API sent, and how many of them could not be read.
func (c *Collector) walk(ctx context.Context, region string) ([]price.Quote, int, int, error) {
	start := time.Now()
	best := map[seriesKey]*item{}
	rows, bad, pages := 0, 0, 0
	u := c.firstPage(region)
	for {
		if pages == c.maxPages {
			return nil, rows, bad, &collectors.DecodeError{What: "azure price pages",
				Err: fmt.Errorf("%w: NextPageLink still present after %d pages", errPagination, pages)}
		}
		pages++
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return nil, rows, bad, err
		}
		// Rows are filtered and de-duplicated as they are decoded: a walk
		// holds the best row of each series, not its pages.
		var p page
		p.Items.Each = func(it *item) {
			if it.RetailPrice == nil || strings.TrimSpace(it.ArmSkuName) == "" {
				bad++ // no price, or no size to price
				return
			}
			if dropReason(it, region) != "" {
				return
			}
			k := seriesKey{strings.ToLower(it.ArmSkuName), isSpot(it)}
			if old, ok := best[k]; !ok || better(it, old) {
				kept := *it // it is reused for the next row
				best[k] = &kept
			}
		}
		if err := collectors.DoJSON(c.HTTPClient, req, &p); err != nil {
			return nil, rows, bad, err
		}
		if err := p.Items.AllBadError("azure price page", "rows"); err != nil {
			return nil, rows, bad, err
		}
		rows += p.Items.Good + p.Items.Bad
		bad += p.Items.Bad
		// An empty page ends the walk even if it links on.
		if p.NextPageLink == "" || p.Items.Good == 0 {
			break
		}
		next, err := c.nextPage(p.NextPageLink)
		if err != nil {
			return nil, rows, bad, &collectors.DecodeError{What: "azure NextPageLink", Err: err}
		}
		if next == u {
			return nil, rows, bad, &collectors.DecodeError{What: "azure price pages",
				Err: fmt.Errorf("%w: NextPageLink points to the page itself", errPagination)}
		}
		u = next
	}

	quotes := make([]price.Quote, 0, len(best))
	for k, it := range best {
		quotes = append(quotes, c.quote(it, region, k.spot))
	}
	slices.SortFunc(quotes, func(a, b price.Quote) int { return price.CompareQuotes(&a, &b) })
	c.Logger.Debug("region walked", "region", region, "pages", pages, "rows", rows, "invalid_rows", bad,
		"quotes", len(quotes), "duration_seconds", time.Since(start).Seconds())
	return quotes, rows, bad, nil
}

// seriesKey identifies a quote within one region walk.
type seriesKey struct {
	size string // lower-cased armSkuName
	spot bool
}

// better reports whether row a should replace row b for the same series. A
// size can be listed twice: the same row on two pages (the $skip paging is
// not consistent under updates), or an old and a new meter. A non-zero
// price beats a zero one, then the later effectiveStartDate wins, then the
// lower price, so the choice does not depend on page order.
func better(a, b *item) bool {
	if (a.retailPrice() > 0) != (b.retailPrice() > 0) {
		return a.retailPrice() > 0
	}
	ta, _ := time.Parse(time.RFC3339, a.EffectiveStartDate)
	tb, _ := time.Parse(time.RFC3339, b.EffectiveStartDate)
	if !ta.Equal(tb) {
		return ta.After(tb)
	}
	return a.retailPrice() < b.retailPrice()
}

// dropReason says why a row is not a pay-as-you-go Linux GPU VM price in
// region, or returns "" to keep it. Zero prices are kept: the Runner
// rejects and counts them, which keeps them visible.
func dropReason(it *item, region string) string {
	size := strings.ToLower(it.ArmSkuName)
	switch {
	case !strings.EqualFold(it.ArmRegionName, region):
		return "another region"
	case !strings.EqualFold(it.ServiceName, "Virtual Machines"):
		return "not a virtual machine"
	case !strings.EqualFold(it.Type, "Consumption"):
		return "not pay-as-you-go" // Reservation (priced per term), DevTestConsumption
	case !strings.EqualFold(it.CurrencyCode, "USD"):
		return "not USD"
	case !strings.EqualFold(it.UnitOfMeasure, "1 Hour"):
		return "not hourly"
	case !strings.HasPrefix(size, "standard_n"):
		return "not N-series"
	case strings.HasPrefix(size, "standard_np"):
		return "FPGA" // NP-series: Xilinx FPGAs, the one N-series without GPUs
	case hasWord(it.ProductName, "Windows") || hasWord(it.ProductName, "Win"):
		return "Windows"
	case strings.Contains(strings.ToLower(it.ProductName), "cloud services"):
		return "Cloud Services"
	case strings.Contains(strings.ToLower(it.MeterName+" "+it.SkuName), "low priority"):
		return "Low Priority"
	}
	return ""
}

// isSpot reports whether a row prices a spot VM: its meter or SKU name
// ends in " Spot".
func isSpot(it *item) bool {
	return hasWord(it.MeterName, "Spot") || hasWord(it.SkuName, "Spot")
}

// hasWord reports whether w is one of the space-separated words of s,
// ignoring case. Words, not substrings: "Win" must match the short Windows
// product names ("... Srs Win") without matching every name containing
// "win".
func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if strings.EqualFold(f, w) {
			return true
		}
	}
	return false
}

// quote maps a kept row to a Quote through the catalog.
func (c *Collector) quote(it *item, region string, spot bool) price.Quote {
	q := price.Quote{
		Provider:     Name,
		InstanceType: it.ArmSkuName,
		Region:       region,
		Geo:          price.Geo(region),
		PricingModel: price.OnDemand,
		GPURaw:       it.ArmSkuName,
		USDPerHour:   it.retailPrice(),
	}
	if spot {
		q.PricingModel = price.Spot
	}
	a, ok := c.Catalog.Lookup(Name, it.ArmSkuName)
	if !ok {
		// Kept, not dropped: the Runner counts and logs unknown GPUs. One
		// GPU per instance is a guess that at least keeps the per-GPU
		// price finite (it is the instance price).
		q.GPUModel, q.GPUCount = price.Unknown, 1
		return q
	}
	q.GPUModel, q.GPUForm, q.GPUMemoryGB, q.GPUCount = a.Model, a.Form, a.MemoryGB, a.Count
	if q.GPUCount <= 0 {
		// Every Azure alias names its count; one that does not is a
		// catalog bug, and 1 keeps the quote usable meanwhile.
		q.GPUCount = 1
	}
	return q
}
