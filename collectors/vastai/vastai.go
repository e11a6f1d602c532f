// Package vastai collects GPU prices from the Vast.ai marketplace through
// its offer search (POST <endpoint>/bundles/), once for on-demand offers and
// once for interruptible ones.
//
// Vast.ai sells individual offers, not instance types, and offer ids are
// ephemeral, so the collector aggregates (DESIGN §3):
//
//   - Quotes: one per shape, (GPU, GPU count, region, pricing model), with
//     the cheapest offer's price, the offer count, the GPUs on offer and
//     the 10th/50th/90th percentiles of the offers' per-GPU prices. Its
//     instance_type is the shape name "<count>x_<gpu_name>_<memory>GB",
//     with runs of spaces in Vast's gpu_name turned into "_":
//     "8x_H100_SXM_80GB", "1x_RTX_4090_24GB", "4x_Tesla_V100_32GB". The
//     memory is part of the name because one gpu_name can cover two sizes
//     (A100 SXM4 40 and 80 GB); it is left out when unknown.
//   - Markets: one per (region, pricing model, GPU model, form, memory)
//     across offer sizes, with the same percentiles, offer count, GPUs and
//     the sum of the per-GPU prices (for the exported summary's _sum).
//     Every offer counts once, whatever its GPU count. Offers of GPUs the
//     catalog does not know are left out: "UNKNOWN" would mix different
//     GPUs in one distribution.
//   - Offers: every usable offer, with its id, for the API.
//   - vCPUs and RAM: an offer's cpu_cores_effective, and its host's
//     cpu_ram (MB) shared out as the cores are; a shape's quote has its
//     cheapest offer's. Unknown (0) when cpu_cores is null.
//
// Only offers a user can rent at their price count: the search asks for
// rentable, not rented offers, and offers the answer still marks
// "rentable": false or "rented": true are dropped before aggregation, so
// that the cheapest price, the offer count, the GPUs on offer and the
// quantiles all come from rentable offers (they are counted in a debug log
// line, never exported). Offers that cannot be priced (a null, missing or
// wrong-typed gpu_name, num_gpus or price, or no GPUs) are skipped and
// counted as price.SkippedInvalid; the rest of the answer is used. GPUs come from
// the catalog's vastai aliases, memory from the alias or else from gpu_ram
// (MiB, snapped to a marketed size); an unknown gpu_name is kept as
// price.Unknown with GPURaw set (Vast's name, white space normalized).
//
// Prices are per hour for the whole offer. Vast charges three things for a
// rental: the GPU (with its share of the host), storage and bandwidth.
// The price includes the first two and leaves out bandwidth:
//
//   - GPU: dph_base, the host's asking price, for on-demand; for
//     interruptible, the bid, which must be at least min_bid: min_bid is
//     the cheapest bid that can win the machine now.
//   - storage: dph_total − dph_base, which Vast computes from the offer's
//     storage_cost ($/GB-month) for allocated_storage. It is mandatory
//     (no instance runs without a disk) and so included, for the
//     smallest disk: 5 GB, the vast CLI's default, pinned in the query so
//     that the meaning of a price does not depend on a server default. A
//     larger disk costs more (storage_cost × GB / 720 h, about $0.0007/h
//     per 5 GB at $0.10/GB-month); disk storage is also charged while an
//     instance is stopped.
//   - bandwidth (inet_up_cost, inet_down_cost, $/GB transferred) is
//     usage, not time, and is not in any price: Vast's dph_total leaves it
//     out too.
//
// So on_demand is dph_total, and spot is min_bid + (dph_total − dph_base):
// an interruptible rental pays its bid plus the same storage as an
// on-demand one.
//
// Percentiles interpolate linearly between closest ranks (see
// price.Quantile).
// The region is the lower-case country code at the end of the offer's
// geolocation ("Texas, US" → "us"), or "" when Vast gives none.
package vastai

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "vastai"

// allocatedStorageGB is the disk every price includes: the vast CLI's
// default, so that prices match what `vastai search offers` shows.
const allocatedStorageGB = 5

// search is one offer search and the pricing model its offers are sold at.
type search struct {
	typ   string // the query's "type"
	model price.PricingModel
	// orderBy is what the server sorts by before applying the limit, so
	// that a truncated answer keeps the cheapest offers.
	orderBy string
}

var searches = [...]search{
	{typ: "on-demand", model: price.OnDemand, orderBy: "dph_total"},
	{typ: "bid", model: price.Spot, orderBy: "min_bid"},
}

// Collector is the Vast.ai collector. It is not safe for concurrent use;
// the Runner never calls Collect concurrently with itself.
type Collector struct {
	collectors.Base
	url          string
	apiKey       config.Secret
	limit        int
	verifiedOnly bool

	// truncated remembers the searches already reported as cut at the
	// limit, so that a persistent condition is logged once, not every
	// two minutes.
	truncated map[string]bool
}

// New returns a collector for the configured endpoint. env.HTTPClient
// carries the rate limit and retries; when nil, a default one is built.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("vastai: endpoint is empty")
	}
	if cfg.Limit < 1 {
		return nil, fmt.Errorf("vastai: limit %d is below 1", cfg.Limit)
	}
	c := &Collector{
		url:          strings.TrimRight(cfg.Endpoint, "/") + "/bundles/",
		apiKey:       cfg.APIKey,
		limit:        cfg.Limit,
		verifiedOnly: cfg.VerifiedOnly,
		Base:         collectors.NewBase(Name, cfg, env),
		truncated:    map[string]bool{},
	}
	return c, nil
}

// Collect implements collectors.Collector: both searches, then the
// aggregation. A search that fails, or yields no usable offer, fails the
// whole refresh: half a market would withdraw every series of the other
// pricing model.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	// Each offer is aggregated as it is decoded: what the aggregator keeps
	// of an offer (its id, price and location) is all a refresh holds of
	// the answers.
	a := newAggregator(c.Catalog)
	var invalid int
	for _, s := range searches {
		var skipped skips
		offers, err := c.search(ctx, s, func(o *offer) { a.addOne(s.model, o, &skipped) })
		if err != nil {
			return nil, fmt.Errorf("search %s offers: %w", s.typ, err)
		}
		skipped.undecodable = offers.Bad
		invalid += skipped.invalid()
		if skipped.total() > 0 {
			c.Logger.Debug("skipped offers", "search", s.typ, "offers", offers.Good+offers.Bad,
				"not_rentable", skipped.notRentable, "rented", skipped.rented, "no_gpus", skipped.noGPUs,
				"no_name", skipped.noName, "no_price", skipped.noPrice, "undecodable", skipped.undecodable)
		}
		if offers.Good == skipped.total()-skipped.undecodable {
			return nil, fmt.Errorf("search %s offers: none of %d offers is usable: %w", s.typ, offers.Good, collectors.ErrEmpty)
		}
	}
	snap := a.snapshot()
	snap.Skip(price.SkippedInvalid, invalid)
	return snap, nil
}

// query is the search body. Field names and operators are Vast's.
type query struct {
	Verified         *eq         `json:"verified,omitempty"`
	Rentable         eq          `json:"rentable"`
	Rented           eq          `json:"rented"`
	Type             string      `json:"type"`
	Limit            int         `json:"limit"`
	Order            [][2]string `json:"order"`
	AllocatedStorage float64     `json:"allocated_storage"`
}

type eq struct {
	Eq bool `json:"eq"`
}

// offer holds the fields of a search answer the collector reads. A null
// number decodes as 0, which every check below treats as missing; a
// missing rentable as true (the search asked for rentable offers only).
type offer struct {
	ID          int64   `json:"id"`
	GPUName     string  `json:"gpu_name"`
	NumGPUs     float64 `json:"num_gpus"`
	GPURAM      float64 `json:"gpu_ram"` // MiB per GPU
	DPHBase     float64 `json:"dph_base"`
	DPHTotal    float64 `json:"dph_total"`
	MinBid      float64 `json:"min_bid"`
	Geolocation string  `json:"geolocation"`
	// The host: its cores, the share of them that comes with the offer,
	// and its RAM (MB), shared out as the cores are.
	CPUCores          float64 `json:"cpu_cores"`
	CPUCoresEffective float64 `json:"cpu_cores_effective"`
	CPURAM            float64 `json:"cpu_ram"`
	Rentable          *bool   `json:"rentable"`
	Rented            bool    `json:"rented"`
}

type answer struct {
	Offers collectors.Rows[offer] `json:"offers"`
	// A refusal may come as a 200 with Vast's error envelope.
	Error string `json:"error"`
	Msg   string `json:"msg"`
}

// search runs one offer search, handing each offer that decodes to each
// as it is read; the Rows returned count the offers (Good, Bad) and hold
// none.
func (c *Collector) search(ctx context.Context, s search, each func(*offer)) (collectors.Rows[offer], error) {
	var none collectors.Rows[offer]
	req, err := c.request(ctx, s)
	if err != nil {
		return none, err
	}
	var ans answer
	ans.Offers.Each = each
	if err := collectors.DoJSON(c.HTTPClient, req, &ans); err != nil {
		return none, err
	}
	if !ans.Offers.Set {
		msg := `the answer has no "offers" list`
		if ans.Error != "" || ans.Msg != "" {
			msg += fmt.Sprintf(" (error %q, msg %q)", ans.Error, ans.Msg)
		}
		return none, &collectors.DecodeError{What: c.url, Err: errors.New(msg)}
	}
	// Not one offer decodes: the format changed, which is not a row's
	// fault.
	if err := ans.Offers.NoRows(c.url, "offers", ""); err != nil {
		return none, err
	}
	n := ans.Offers.Good + ans.Offers.Bad
	if n >= c.limit && !c.truncated[s.typ] {
		c.truncated[s.typ] = true
		c.Logger.Warn("offer search hit the limit; the most expensive offers are missing from the quantiles",
			"search", s.typ, "limit", c.limit, "hint", "raise providers.vastai.limit")
	}
	return ans.Offers, nil
}

// request is the POST of search s.
func (c *Collector) request(ctx context.Context, s search) (*http.Request, error) {
	q := query{
		Rentable:         eq{true},
		Rented:           eq{false},
		Type:             s.typ,
		Limit:            c.limit,
		Order:            [][2]string{{s.orderBy, "asc"}},
		AllocatedStorage: allocatedStorageGB,
	}
	if c.verifiedOnly {
		q.Verified = &eq{true}
	}
	req, err := collectors.NewJSONRequest(ctx, c.url, q)
	if err != nil {
		return nil, err
	}
	if c.apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+c.apiKey.Value())
	}
	return req, nil
}

// skips counts the offers left out of one search, by reason: offers that
// cannot be rented at their price, and offers that cannot be priced.
type skips struct {
	notRentable, rented                  int
	noGPUs, noName, noPrice, undecodable int
}

// invalid counts the offers that could not be priced (price.SkippedInvalid).
func (s skips) invalid() int { return s.noGPUs + s.noName + s.noPrice + s.undecodable }

func (s skips) total() int { return s.notRentable + s.rented + s.invalid() }

// gpu is a resolved Vast gpu_name at one gpu_ram.
type gpu struct {
	raw         string // gpu_name with runs of white space made one space
	model, form string
	memoryGB    float64
	shapeName   string // without the count prefix: "H100_SXM_80GB"
}

type gpuKey struct {
	raw string
	mib float64
}

// shapeKey identifies a shape. The shape name stands for the GPU: it
// holds the normalized gpu_name and the memory, so two spellings of one
// name ("RTX 4090", "RTX  4090") make one shape, as they would make one
// series.
type shapeKey struct {
	name   string // gpu.shapeName
	count  float64
	region string
	model  price.PricingModel
}

// shape is one shape being aggregated.
type shape struct {
	quote  price.Quote // labels only; snapshot fills in the prices
	offers []offerRef
}

// offerRef is what a shape keeps of each offer: the price.Offers, ten
// times larger, are built once, already in their final order.
type offerRef struct {
	id           int64
	usd          float64
	location     string
	vcpus, ramGB float64 // the host's share that comes with it; 0 unknown
}

// host returns the vCPUs and RAM (GB of 1024 MB) that come with o: its
// share of the host's cores, and the same share of its RAM; 0 when the
// answer leaves the cores out (null cpu_cores is common).
func (o *offer) host() (vcpus, ramGB float64) {
	if !(o.CPUCoresEffective > 0) || o.CPUCoresEffective > 1e5 {
		return 0, 0
	}
	vcpus = o.CPUCoresEffective
	if o.CPUCores >= o.CPUCoresEffective && o.CPURAM > 0 && o.CPURAM < 1e9 {
		ramGB = math.Round(o.CPURAM*o.CPUCoresEffective/o.CPUCores/1024*10) / 10
	}
	return vcpus, ramGB
}

type marketKey struct {
	region, gpuModel, form string
	memoryGB               float64
	model                  price.PricingModel
}

// market is one market being aggregated.
type market struct {
	market price.Market // labels and AvailableGPUs; snapshot fills in the rest
	prices []float64    // per-GPU prices of its offers
}

// aggregator turns offers into a snapshot. Its caches keep the per-offer
// work to map lookups: a market of 30k offers has a few hundred distinct
// GPU names, locations and shapes.
type aggregator struct {
	catalog *price.Catalog
	gpus    map[gpuKey]gpu
	regions map[string]string // geolocation → region
	shapes  map[shapeKey]*shape
	markets map[marketKey]*market
	offers  int
}

func newAggregator(catalog *price.Catalog) *aggregator {
	return &aggregator{
		catalog: catalog,
		gpus:    map[gpuKey]gpu{},
		regions: map[string]string{},
		shapes:  map[shapeKey]*shape{},
		markets: map[marketKey]*market{},
	}
}

// add aggregates the offers of one search and returns what it skipped.
func (a *aggregator) add(model price.PricingModel, offers []offer) skips {
	var sk skips
	for i := range offers {
		a.addOne(model, &offers[i], &sk)
	}
	return sk
}

// addOne aggregates one offer of a search, or counts in sk why not.
func (a *aggregator) addOne(model price.PricingModel, o *offer, sk *skips) {
	// The search asked for rentable, not rented offers, but the answer
	// may still hold others (the CLI filters rented ones on the
	// client too): their price is not one a user can rent at.
	if o.Rentable != nil && !*o.Rentable {
		sk.notRentable++
		return
	}
	if o.Rented {
		sk.rented++
		return
	}
	if o.NumGPUs <= 0 {
		sk.noGPUs++
		return
	}
	if strings.TrimSpace(o.GPUName) == "" {
		sk.noName++
		return
	}
	usd, ok := offerPrice(o, model)
	if !ok {
		sk.noPrice++
		return
	}
	g := a.gpu(o.GPUName, o.GPURAM)
	region := a.region(o.Geolocation)

	key := shapeKey{name: g.shapeName, count: o.NumGPUs, region: region, model: model}
	s := a.shapes[key]
	if s == nil {
		s = &shape{quote: price.Quote{
			Provider:     Name,
			InstanceType: price.FormatNumber(o.NumGPUs) + "x_" + g.shapeName,
			Region:       region,
			Geo:          price.Geo(region),
			PricingModel: model,
			GPUModel:     g.model,
			GPUForm:      g.form,
			GPUMemoryGB:  g.memoryGB,
			GPUCount:     o.NumGPUs,
			GPURaw:       g.raw,
		}}
		a.shapes[key] = s
	}
	vcpus, ramGB := o.host()
	s.offers = append(s.offers, offerRef{id: o.ID, usd: usd, location: o.Geolocation, vcpus: vcpus, ramGB: ramGB})
	a.offers++

	if g.model != price.Unknown {
		mk := marketKey{region: region, gpuModel: g.model, form: g.form, memoryGB: g.memoryGB, model: model}
		m := a.markets[mk]
		if m == nil {
			m = &market{market: price.Market{
				Provider:     Name,
				Region:       region,
				Geo:          s.quote.Geo,
				PricingModel: model,
				GPUModel:     g.model,
				GPUForm:      g.form,
				GPUMemoryGB:  g.memoryGB,
			}}
			a.markets[mk] = m
		}
		m.prices = append(m.prices, usd/o.NumGPUs)
		m.market.AvailableGPUs += o.NumGPUs
	}
}

// offerPrice returns the whole-offer price under model; false when a price
// it needs is missing (null, absent or not positive).
func offerPrice(o *offer, model price.PricingModel) (float64, bool) {
	if o.DPHTotal <= 0 {
		return 0, false
	}
	if model == price.OnDemand {
		return o.DPHTotal, true
	}
	if o.MinBid <= 0 || o.DPHBase <= 0 {
		return 0, false
	}
	// A dph_total below dph_base would be a negative storage charge: an
	// upstream rounding artefact, read as no storage charge. The sum is
	// rounded to a millionth of a dollar so that 0.0863+0.001 reads 0.0873,
	// not 0.08730000000000002, in the API and the store.
	sum := o.MinBid + max(0, o.DPHTotal-o.DPHBase)
	return math.Round(sum*1e6) / 1e6, true
}

// gpu resolves a gpu_name through the catalog; unknown names are kept as
// price.Unknown (the Runner logs and counts them).
func (a *aggregator) gpu(raw string, mib float64) gpu {
	k := gpuKey{raw, mib}
	if g, ok := a.gpus[k]; ok {
		return g
	}
	g := gpu{model: price.Unknown}
	if al, ok := a.catalog.Lookup(Name, raw); ok {
		g.model, g.form, g.memoryGB = al.Model, al.Form, al.MemoryGB
	}
	if g.memoryGB == 0 {
		g.memoryGB = a.catalog.SnapMemory(g.model, g.form, mib)
	}
	g.raw = strings.Join(strings.Fields(raw), " ")
	g.shapeName = strings.ReplaceAll(g.raw, " ", "_")
	if g.memoryGB > 0 {
		g.shapeName += "_" + price.FormatNumber(g.memoryGB) + "GB"
	}
	a.gpus[k] = g
	return g
}

// region returns the cached region of a geolocation.
func (a *aggregator) region(geolocation string) string {
	r, ok := a.regions[geolocation]
	if !ok {
		r = Region(geolocation)
		a.regions[geolocation] = r
	}
	return r
}

// Region returns the lower-case ISO country code ending a Vast
// geolocation ("Texas, US" → "us", "US" → "us"), or "" when there is none
// (null, or a free-text place without a code).
func Region(geolocation string) string {
	cc := geolocation
	if i := strings.LastIndexByte(geolocation, ','); i >= 0 {
		cc = geolocation[i+1:]
	}
	cc = strings.TrimSpace(cc)
	if len(cc) != 2 || !isLetter(cc[0]) || !isLetter(cc[1]) {
		return ""
	}
	return strings.ToLower(cc)
}

func isLetter(b byte) bool { return ('a' <= b && b <= 'z') || ('A' <= b && b <= 'Z') }

// snapshot finishes the aggregation and sorts everything into a
// deterministic order: quotes and markets by their labels (see
// compareQuotes), offers in the order of their shape's quote, then by
// price and id.
func (a *aggregator) snapshot() *price.Snapshot {
	shapes := make([]*shape, 0, len(a.shapes))
	for _, s := range a.shapes {
		shapes = append(shapes, s)
	}
	slices.SortFunc(shapes, func(x, y *shape) int { return compareQuotes(&x.quote, &y.quote) })
	snap := &price.Snapshot{
		Provider: Name,
		Quotes:   make([]price.Quote, 0, len(shapes)),
		Markets:  make([]price.Market, 0, len(a.markets)),
		Offers:   make([]price.Offer, 0, a.offers),
	}
	var perGPU []float64
	for _, s := range shapes {
		// Within a shape the GPU count is fixed, so ordering by offer price
		// orders the per-GPU prices too.
		slices.SortFunc(s.offers, func(x, y offerRef) int {
			return cmp.Or(cmp.Compare(x.usd, y.usd), cmp.Compare(x.id, y.id))
		})
		perGPU = perGPU[:0]
		for _, r := range s.offers {
			perGPU = append(perGPU, r.usd/s.quote.GPUCount)
		}
		q := s.quote
		q.USDPerHour = s.offers[0].usd
		q.VCPUs, q.MemoryGB = s.offers[0].vcpus, s.offers[0].ramGB
		q.Offers, q.AvailableGPUs = len(s.offers), float64(len(s.offers))*q.GPUCount
		q.P10, q.P50, q.P90 = price.Quantiles(perGPU)
		snap.Quotes = append(snap.Quotes, q)
		for _, r := range s.offers {
			o := price.Offer{ID: strconv.FormatInt(r.id, 10), Location: r.location, Quote: s.quote}
			o.USDPerHour = r.usd
			o.VCPUs, o.MemoryGB = r.vcpus, r.ramGB
			snap.Offers = append(snap.Offers, o)
		}
	}
	for _, g := range a.markets {
		m := g.market
		slices.Sort(g.prices)
		m.Offers = len(g.prices)
		for _, p := range g.prices {
			m.SumGPUUSDPerHour += p
		}
		m.P10, m.P50, m.P90 = price.Quantiles(g.prices)
		snap.Markets = append(snap.Markets, m)
	}
	slices.SortFunc(snap.Markets, func(x, y price.Market) int {
		return cmp.Or(
			cmp.Compare(x.PricingModel, y.PricingModel),
			cmp.Compare(x.GPUModel, y.GPUModel),
			cmp.Compare(x.GPUForm, y.GPUForm),
			cmp.Compare(x.GPUMemoryGB, y.GPUMemoryGB),
			cmp.Compare(x.Region, y.Region),
		)
	})
	return snap
}

// compareQuotes orders by pricing model, GPU, count, region and shape
// name; for shape quotes that is a total order, as the shape name and the
// count identify the GPU.
func compareQuotes(x, y *price.Quote) int {
	return cmp.Or(
		cmp.Compare(x.PricingModel, y.PricingModel),
		cmp.Compare(x.GPUModel, y.GPUModel),
		cmp.Compare(x.GPUForm, y.GPUForm),
		cmp.Compare(x.GPUMemoryGB, y.GPUMemoryGB),
		cmp.Compare(x.GPUCount, y.GPUCount),
		cmp.Compare(x.Region, y.Region),
		cmp.Compare(x.InstanceType, y.InstanceType),
	)
}
