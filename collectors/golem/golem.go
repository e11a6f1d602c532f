// Package golem collects GPU prices from the Golem Network, a
// decentralised market of compute providers paid in GLM, through the
// network stats API's list of online providers: GET
// <endpoint>/v2/network/online (endpoint https://api.stats.golem.network
// by default), anonymous, one answer.
//
// Each provider node lists its runtimes with the properties of its offer.
// A node offers a GPU when it has the "vm-nvidia" runtime, whose
// properties name the GPU (golem.!exp.gap-35.v1.inf.gpu.model and
// .memory.total.gib, in GiB) and price the VM by a linear function of
// usage counters: golem.com.pricing.model.linear.coeffs holds one
// coefficient per counter of golem.com.usage.vector, in that order, then
// a fixed one, charged once per activity (the start price). The
// counters priced here are golem.usage.duration_sec (seconds the VM
// runs) and golem.usage.cpu_sec (CPU-seconds the VM uses). So the price of
// an hour of the whole node, in GLM, is
//
//	3600 × (duration_sec coefficient + cpu_sec coefficient × threads)
//
// where threads is golem.inf.cpu.threads: an hour with every offered CPU
// thread busy, the most a GPU job can be charged for its CPUs, and what
// a rental of the node costs at full use. The start price is left out: it
// is paid once, not per hour. A node whose vector holds a counter this
// formula does not know, or whose coefficients do not match its vector,
// is skipped rather than priced wrong.
//
// GLM is converted to USD at fx.glm_usd_url's rate (collectors.Env.FX);
// without a rate younger than fx.glm_max_age the refresh fails with
// reason fx and nothing is published. Each quote keeps its GLM amount
// (price.Quote.Currency, CurrencyPerHour).
//
// Golem sells nodes, not instance types, so the collector aggregates as
// for Vast.ai (DESIGN §3), one GPU per node (gap-35 describes one):
//
//   - Quotes: one per shape (GPU name and memory), on demand (an activity
//     is not interrupted for a better bid), region "global" (nodes say
//     nothing of where they are), no geo, gpu_count 1: the cheapest
//     node's price, the node count, the GPUs on offer and the 10th, 50th
//     and 90th percentiles of the nodes' prices (price.Quantile). Its
//     instance_type is "1x_<gpu name>_<memory>GB" with spaces as "_"
//     ("1x_NVIDIA_GeForce_RTX_4090_24GB").
//   - Markets: one per catalog GPU (model, form, memory), with the same
//     statistics; GPUs the catalog does not know are left out of them.
//   - Offers: every priced node, with its node_id, for the API.
//
// Only nodes a user can rent now count: online and not computing now (a
// vm-nvidia node passes its GPU through to one VM). Skipped, and counted
// in a debug log: nodes without the vm-nvidia runtime, offline or busy
// nodes, nodes paid on test networks only (a payment platform in tGLM, no
// mainnet GLM one), and nodes whose price is not a positive number. A node
// that does not decode is counted as price.SkippedInvalid.
package golem

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/collectors"
	"github.com/gpuprice/gpuprice/price"
)

// Name is the provider label value and config section name.
const Name = "golem"

// OnlinePath is appended to the configured endpoint.
const OnlinePath = "/v2/network/online"

// Region is the region of every Golem quote.
const Region = "global"

// Runtime is the runtime of GPU offers.
const Runtime = "vm-nvidia"

// The usage counters the price formula knows.
const (
	durationSec = "golem.usage.duration_sec"
	cpuSec      = "golem.usage.cpu_sec"
)

// Collector is the Golem collector.
type Collector struct{ collectors.Base }

// New returns a collector for the configured endpoint.
func New(cfg *Config, env collectors.Env) (*Collector, error) {
	return &Collector{collectors.NewBase(Name, cfg, env)}, nil
}

type node struct {
	NodeID       string `json:"node_id"`
	Online       *bool  `json:"online"`
	ComputingNow bool   `json:"computing_now"`
	Runtimes     map[string]struct {
		Properties properties `json:"properties"`
	} `json:"runtimes"`
}

// properties are the offer properties read; the rest of the offer is
// kept as raw values, for the payment platforms' keys.
type properties struct {
	GPUModel     string    `json:"golem.!exp.gap-35.v1.inf.gpu.model"`
	GPUMemoryGiB float64   `json:"golem.!exp.gap-35.v1.inf.gpu.memory.total.gib"`
	PricingModel string    `json:"golem.com.pricing.model"`
	Coeffs       []float64 `json:"golem.com.pricing.model.linear.coeffs"`
	UsageVector  []string  `json:"golem.com.usage.vector"`
	CPUThreads   float64   `json:"golem.inf.cpu.threads"`
	platforms    []string
}

// UnmarshalJSON implements json.Unmarshaler: the named properties, and the
// payment platforms of the golem.com.payment.platform.<name>.address keys.
func (p *properties) UnmarshalJSON(b []byte) error {
	type plain properties
	var named plain
	if err := json.Unmarshal(b, &named); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	*p = properties(named)
	for k := range all {
		if rest, ok := strings.CutPrefix(k, "golem.com.payment.platform."); ok {
			if name, ok := strings.CutSuffix(rest, ".address"); ok {
				p.platforms = append(p.platforms, name)
			}
		}
	}
	return nil
}

// Collect implements collectors.Collector.
func (c *Collector) Collect(ctx context.Context) (*price.Snapshot, error) {
	u := c.Endpoint + OnlinePath
	var nodes collectors.Rows[node]
	if err := collectors.GetJSON(ctx, c.HTTPClient, u, &nodes); err != nil {
		return nil, fmt.Errorf("read the online providers: %w", err)
	}
	if err := nodes.NoRows(u, "providers", "read the online providers"); err != nil {
		return nil, err
	}
	skipped := map[string]int{}
	var offers []offer
	for i := range nodes.Items {
		o, why := priced(&nodes.Items[i])
		if why != "" {
			skipped[why]++
			continue
		}
		offers = append(offers, o)
	}
	collectors.LogSkipped(c.Logger, "Golem providers", skipped)
	if len(offers) == 0 {
		return nil, nodes.NoneUsable(u, "providers could not be read and none of the others rents a GPU at a price",
			"read the online providers: no GPU node is for rent at a price")
	}
	if c.FX == nil {
		return nil, errors.New("no currency converter: Golem prices in GLM")
	}
	usdPerGLM, _, err := c.FX.USD(ctx, 1, "GLM")
	if err != nil {
		return nil, fmt.Errorf("convert Golem's GLM prices: %w", err)
	}
	snap := c.aggregate(offers, usdPerGLM)
	snap.Skip(price.SkippedInvalid, nodes.Bad)
	return snap, nil
}

// offer is one priced GPU node.
type offer struct {
	id       string
	gpu      string  // the GPU's name, white space normalized
	gib      float64 // its memory
	glmPerHr float64
}

// priced returns the node's GPU offer, or why it has none.
func priced(n *node) (offer, string) {
	rt, ok := n.Runtimes[Runtime]
	switch {
	case !ok:
		return offer{}, "no " + Runtime + " runtime"
	case n.Online != nil && !*n.Online:
		return offer{}, "offline"
	case n.ComputingNow:
		return offer{}, "computing now (rented)"
	}
	p := &rt.Properties
	if testnetOnly(p.platforms) {
		return offer{}, "paid on test networks only"
	}
	gpu := strings.Join(strings.Fields(p.GPUModel), " ")
	if gpu == "" {
		return offer{}, "no GPU model"
	}
	glm, ok := hourly(p)
	if !ok {
		return offer{}, "no positive linear price of known counters"
	}
	return offer{id: n.NodeID, gpu: gpu, gib: p.GPUMemoryGiB, glmPerHr: glm}, ""
}

// hourly is the GLM price of an hour of the node at full use (see the
// package comment); false when it cannot be told or is not positive.
func hourly(p *properties) (float64, bool) {
	if p.PricingModel != "" && p.PricingModel != "linear" {
		return 0, false
	}
	if len(p.Coeffs) != len(p.UsageVector)+1 {
		return 0, false
	}
	var perSec float64
	for i, counter := range p.UsageVector {
		switch counter {
		case durationSec:
			perSec += p.Coeffs[i]
		case cpuSec:
			if p.Coeffs[i] != 0 && !(p.CPUThreads > 0) {
				return 0, false
			}
			perSec += p.Coeffs[i] * p.CPUThreads
		default:
			if p.Coeffs[i] != 0 {
				return 0, false // a counter priced by a rule not known here
			}
		}
	}
	perHour := nano(perSec * 3600)
	if !(perHour > 0) || math.IsInf(perHour, 0) || perHour > 1e7 {
		return 0, false
	}
	return perHour, true
}

// nano rounds an amount to a billionth: the noise of a product of
// coefficients (1.5119999999999998) is not a price.
func nano(x float64) float64 { return math.Round(x*1e9) / 1e9 }

// testnetOnly reports whether every payment platform is a test network's
// (the token "tglm": erc20-holesky-tglm); no platform at all is not.
func testnetOnly(platforms []string) bool {
	for _, p := range platforms {
		if !strings.HasSuffix(strings.ToLower(p), "-tglm") {
			return false
		}
	}
	return len(platforms) > 0
}

type shapeKey struct {
	gpu string
	gb  float64
}

type marketKey struct {
	model, form string
	gb          float64
}

// aggregate builds the snapshot of the offers at usdPerGLM.
func (c *Collector) aggregate(offers []offer, usdPerGLM float64) *price.Snapshot {
	type shape struct {
		quote  price.Quote
		offers []price.Offer
	}
	shapes := map[shapeKey]*shape{}
	markets := map[marketKey][]float64{}
	marketOf := map[marketKey]price.Market{}
	for _, o := range offers {
		q := price.Quote{Provider: Name, Region: Region, PricingModel: price.OnDemand, GPUModel: price.Unknown, GPUCount: 1, GPURaw: o.gpu}
		if a, ok := c.Catalog.Lookup(Name, o.gpu); ok {
			q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
		}
		if q.GPUMemoryGB == 0 {
			q.GPUMemoryGB = c.Catalog.SnapMemory(q.GPUModel, q.GPUForm, o.gib*1024)
		}
		q.InstanceType = "1x_" + strings.ReplaceAll(o.gpu, " ", "_")
		if q.GPUMemoryGB > 0 {
			q.InstanceType += "_" + price.FormatNumber(q.GPUMemoryGB) + "GB"
		}
		k := shapeKey{o.gpu, q.GPUMemoryGB}
		s := shapes[k]
		if s == nil {
			s = &shape{quote: q}
			shapes[k] = s
		}
		off := price.Offer{ID: o.id, Quote: q}
		off.USDPerHour, off.Currency, off.CurrencyPerHour = nano(o.glmPerHr*usdPerGLM), "GLM", o.glmPerHr
		s.offers = append(s.offers, off)
		if q.GPUModel != price.Unknown {
			mk := marketKey{q.GPUModel, q.GPUForm, q.GPUMemoryGB}
			markets[mk] = append(markets[mk], off.USDPerHour)
			marketOf[mk] = price.Market{Provider: Name, Region: Region, PricingModel: price.OnDemand,
				GPUModel: q.GPUModel, GPUForm: q.GPUForm, GPUMemoryGB: q.GPUMemoryGB}
		}
	}
	snap := &price.Snapshot{Provider: Name}
	for _, s := range shapes {
		slices.SortFunc(s.offers, func(x, y price.Offer) int {
			return cmp.Or(cmp.Compare(x.USDPerHour, y.USDPerHour), cmp.Compare(x.ID, y.ID))
		})
		prices := make([]float64, len(s.offers))
		for i, o := range s.offers {
			prices[i] = o.USDPerHour
		}
		q := s.quote
		q.USDPerHour, q.Currency, q.CurrencyPerHour = s.offers[0].USDPerHour, "GLM", s.offers[0].CurrencyPerHour
		q.Offers, q.AvailableGPUs = len(s.offers), float64(len(s.offers))
		q.P10, q.P50, q.P90 = price.Quantiles(prices)
		snap.Quotes = append(snap.Quotes, q)
		snap.Offers = append(snap.Offers, s.offers...)
	}
	for k, prices := range markets {
		slices.Sort(prices)
		m := marketOf[k]
		m.Offers, m.AvailableGPUs = len(prices), float64(len(prices))
		for _, p := range prices {
			m.SumGPUUSDPerHour += p
		}
		m.P10, m.P50, m.P90 = price.Quantiles(prices)
		snap.Markets = append(snap.Markets, m)
	}
	slices.SortFunc(snap.Quotes, func(x, y price.Quote) int { return cmp.Compare(x.InstanceType, y.InstanceType) })
	slices.SortFunc(snap.Offers, func(x, y price.Offer) int {
		return cmp.Or(cmp.Compare(x.InstanceType, y.InstanceType), cmp.Compare(x.USDPerHour, y.USDPerHour), cmp.Compare(x.ID, y.ID))
	})
	slices.SortFunc(snap.Markets, func(x, y price.Market) int {
		return cmp.Or(cmp.Compare(x.GPUModel, y.GPUModel), cmp.Compare(x.GPUForm, y.GPUForm), cmp.Compare(x.GPUMemoryGB, y.GPUMemoryGB))
	})
	return snap
}
