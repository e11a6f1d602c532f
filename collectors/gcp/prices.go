package gcp

import (
	"math"
	"slices"

	"github.com/gpuprice/gpuprice/price"
)

// where is one region and capacity type: what a component price is for.
type where struct {
	region string
	spot   bool
}

// sliceKey names the slice SKUs of one machine family and GPU.
type sliceKey struct{ family, accelerator string }

// prices are the component prices of one walk of the catalog, per unit-hour.
type prices struct {
	gpu      map[string]map[where]float64 // accelerator type →
	slice    map[sliceKey]map[where]float64
	core     map[string]map[where]float64 // billing family →
	ram      map[string]map[where]float64
	localSSD map[where]float64
	// conflicts counts components priced twice for one region and
	// capacity type (two SKUs naming the same GPU): the lower price is
	// kept, so that the result does not depend on the catalog's order.
	conflicts int
}

func newPrices() *prices {
	return &prices{
		gpu:      map[string]map[where]float64{},
		slice:    map[sliceKey]map[where]float64{},
		core:     map[string]map[where]float64{},
		ram:      map[string]map[where]float64{},
		localSSD: map[where]float64{},
	}
}

// add records c for every region of its SKU.
func (p *prices) add(c component, regions []string) {
	var m map[where]float64
	switch c.kind {
	case kindGPU:
		m = entry(p.gpu, c.name)
	case kindSlice:
		m = entry(p.slice, sliceKey{c.family, c.name})
	case kindCore:
		m = entry(p.core, c.name)
	case kindRAM:
		m = entry(p.ram, c.name)
	case kindLocalSSD:
		m = p.localSSD
	default:
		return
	}
	for _, r := range regions {
		w := where{r, c.spot}
		if old, ok := m[w]; ok {
			p.conflicts++
			if old <= c.usd {
				continue
			}
		}
		m[w] = c.usd
	}
}

func entry[K comparable](m map[K]map[where]float64, k K) map[where]float64 {
	e := m[k]
	if e == nil {
		e = map[where]float64{}
		m[k] = e
	}
	return e
}

// machinePrice returns the hourly price of a whole machine of shape s in w:
// its GPUs times the slice price where the family is priced per slice,
// else vCPUs × core + GiB × RAM + GPUs × GPU (+ bundled local SSD). ok is
// false when a component has no price there.
func (p *prices) machinePrice(s machine, w where) (usd float64, ok bool) {
	if slice, ok := p.slice[sliceKey{s.family, s.accelerator}][w]; ok {
		return float64(s.gpus) * slice, true
	}
	core, ok1 := p.core[s.family][w]
	ram, ok2 := p.ram[s.family][w]
	gpu, ok3 := p.gpu[s.accelerator][w]
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	usd = float64(s.vCPUs)*core + s.memoryGiB*ram + float64(s.gpus)*gpu
	if s.localSSDGiB > 0 {
		ssd, ok := p.localSSD[w]
		if !ok {
			return 0, false
		}
		usd += float64(s.localSSDGiB) * ssd
	}
	return usd, true
}

// availability says, per accelerator type, which regions have at least one
// zone offering it. Nil means unknown.
type availability map[string]map[string]bool

// stock is what availability says about accelerator in region.
func (a availability) stock(accelerator, region string) price.Stock {
	switch {
	case a == nil:
		return price.StockUnknown
	case a[accelerator][region]:
		return price.StockAvailable
	}
	return price.StockNone
}

// bundled lists the accelerator types sold only inside the machine shapes.
var bundled = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range machineShapes {
		m[s.accelerator] = true
	}
	return m
}()

// quoteStats says what quotes could not be made.
type quoteStats struct {
	perGPU, machines int
	// unpriced counts machine shapes, regions and capacity types where the
	// GPU is priced but another component is not.
	unpriced int
}

// quotes turns the component prices into quotes: one per machine shape
// wherever all its components are priced, and, for GPUs that are attached
// to a VM rather than bundled in a machine family (N1's T4, V100, P100 and
// P4; G4's RTX PRO 6000), one per GPU SKU, region and capacity type
// (instance_type = the accelerator type, gpu_count 1). A bundled GPU's SKU
// alone is not a rentable shape: quoted by itself it would undercut every
// machine that contains it. Quotes are sorted by instance type, region and
// pricing model.
func (p *prices) quotes(cat *price.Catalog, avail availability) ([]price.Quote, quoteStats) {
	var qs []price.Quote
	var st quoteStats
	for accel, m := range p.gpu {
		if bundled[accel] {
			continue
		}
		for w, usd := range m {
			qs = append(qs, newQuote(cat, accel, accel, 1, w, usd, avail))
			st.perGPU++
		}
	}
	for _, s := range machineShapes {
		// Every place the machine's GPU is priced, alone or by the slice.
		places := map[where]bool{}
		for w := range p.gpu[s.accelerator] {
			places[w] = true
		}
		for w := range p.slice[sliceKey{s.family, s.accelerator}] {
			places[w] = true
		}
		for w := range places {
			usd, ok := p.machinePrice(s, w)
			if !ok {
				st.unpriced++
				continue
			}
			q := newQuote(cat, s.name, s.accelerator, float64(s.gpus), w, usd, avail)
			q.VCPUs, q.MemoryGB = float64(s.vCPUs), s.memoryGiB
			qs = append(qs, q)
			st.machines++
		}
	}
	slices.SortFunc(qs, func(a, b price.Quote) int { return price.CompareQuotes(&a, &b) })
	return qs, st
}

// newQuote makes the quote of count GPUs of accelerator sold as
// instanceType in w, mapped through the catalog. An accelerator the
// catalog does not know is kept as UNKNOWN (the Runner counts and logs it).
func newQuote(cat *price.Catalog, instanceType, accelerator string, count float64, w where, usd float64, avail availability) price.Quote {
	q := price.Quote{
		Provider:     Name,
		InstanceType: instanceType,
		Region:       w.region,
		Geo:          price.Geo(w.region),
		PricingModel: price.OnDemand,
		GPUModel:     price.Unknown,
		GPUCount:     count,
		GPURaw:       accelerator,
		// Nano-dollars, the catalog's own resolution: sums of components
		// carry float noise below it.
		USDPerHour: math.Round(usd*1e9) / 1e9,
		Stock:      avail.stock(accelerator, w.region),
	}
	if w.spot {
		q.PricingModel = price.Spot
	}
	if a, ok := cat.Lookup(Name, accelerator); ok {
		q.GPUModel, q.GPUForm, q.GPUMemoryGB = a.Model, a.Form, a.MemoryGB
	}
	return q
}
