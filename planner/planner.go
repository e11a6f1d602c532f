// Package planner answers "rent or buy?" for one GPU model and one
// workload over a horizon: it compares, per month and over the horizon,
// renting at the cheapest on-demand price, renting at the cheapest spot
// price, each configured owned option (buying), each static option
// (academic allocations, contracts), and hybrids that own the baseline and
// rent the peaks; and it gives the utilisation above which buying beats
// renting. It backs `gpuprice breakeven` and GET /api/v1/breakeven.
//
// Rented prices are a statistic (median, p10, mean, min or last) of the
// cheapest price per GPU-hour over a window of history, not one instant:
// every series of the GPU and pricing model is resampled on a grid by
// store/query (withdrawn and stale stretches are gaps), the cheapest price
// is taken at each grid time, and the statistic is taken over those
// minima. Where no price is known the answer says so and leaves that
// option without a cost.
//
// # Arithmetic (H = 730 hours a month, G = the workload's GPU-hours a month)
//
//	workload G    = gpu_hours, or baseline_gpus × H + peak_gpus × peak_hours
//	rent          = G × price                           (price: the statistic, per GPU-hour)
//	own           = n × c × H                           (n: GPUs to own, c: one GPU's cost per wall-clock hour)
//	  n           = baseline_gpus + peak_gpus, or ceil(G / H)
//	  c           = capital + maintenance + power per GPU-hour, from owned.Compute
//	static        = min(G, cap) × static price + (G − min(G, cap)) × on-demand price
//	hybrid        = baseline_gpus × c × H + peak_gpus × peak_hours × rented price
//	break-even u* = c / price: owning a GPU beats renting it when it is busy
//	                more than u* of the hours (never when u* > 1)
//	payback       = n × purchase per GPU / (G × on-demand price − n × (maintenance + power) × H) months
//
// Owned costs are computed from purchase, power and maintenance for the
// workload's own use of the hardware: the utilization configured for the
// exported amortized price is not applied again.
package planner

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gpuprice/gpuprice/collectors/owned"
	"github.com/gpuprice/gpuprice/collectors/static"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/query"
)

// Inputs are what a plan is worked out from.
type Inputs struct {
	// History holds the rented prices: a store.Store, or a read-only
	// sqlite.Reader.
	History query.Source
	// Owned and Static are the configuration's entries; those of other
	// GPUs are ignored.
	Owned  []owned.Entry
	Static []static.Entry
	// Catalog prices owned hardware without purchase_usd; nil means
	// price.DefaultCatalog().
	Catalog *price.Catalog
	// Limits bound the history read (store/query); zero: its defaults.
	Limits query.Limits
}

// Plan is the planner's answer. Every cost comes with the arithmetic that
// produced it and the inputs it used.
type Plan struct {
	Request       Request  `json:"request"`
	HoursPerMonth float64  `json:"hours_per_month"`
	Workload      Workload `json:"workload"`
	// Prices are the rented prices: on_demand, then spot.
	Prices    []*RentPrice `json:"prices"`
	Options   []Option     `json:"options"`
	BreakEven []BreakEven  `json:"break_even"`
	// Cheapest is the name of the option with the lowest monthly cost.
	Cheapest string `json:"cheapest,omitempty"`
	// Warnings say where the answer rests on less than was asked: fewer
	// days of history than the window.
	Warnings []string `json:"warnings,omitempty"`
	Notes    []string `json:"notes"`
}

// Workload is the request's workload in GPU-hours per month.
type Workload struct {
	GPUHoursPerMonth float64 `json:"gpu_hours_per_month"`
	// GPUsToOwn is how many GPUs owning all of it takes.
	GPUsToOwn float64 `json:"gpus_to_own"`
	Formula   string  `json:"formula"`
}

// Option kinds.
const (
	KindRent   = "rent"
	KindOwned  = "owned"
	KindStatic = "static"
	KindHybrid = "hybrid"
)

// Option is one way of running the workload.
type Option struct {
	Name string `json:"name"`
	Kind string `json:"kind"`
	// USDPerMonth, USDTotal (over the horizon) and USDPerGPUHour (per
	// GPU-hour of the workload) are null when a price is missing.
	USDPerMonth   *float64 `json:"usd_per_month"`
	USDTotal      *float64 `json:"usd_total"`
	USDPerGPUHour *float64 `json:"usd_per_gpu_hour"`
	// Owned and hybrid options: the GPUs bought, how busy the workload
	// keeps them, what buying them costs at once, and in how many months
	// the saving over renting on demand pays that back.
	GPUsOwned     float64  `json:"gpus_owned,omitempty"`
	Utilization   *float64 `json:"utilization,omitempty"`
	UpfrontUSD    *float64 `json:"upfront_usd,omitempty"`
	PaybackMonths *float64 `json:"payback_months,omitempty"`
	// Arithmetic is the sum that gives USDPerMonth, one line per term.
	Arithmetic []Line `json:"arithmetic"`
	// The inputs of owned, hybrid and static options.
	Owned   *owned.Cost  `json:"owned,omitempty"`
	Static  *StaticInput `json:"static,omitempty"`
	Missing string       `json:"missing,omitempty"`
}

// Line is one term of an option's monthly cost.
type Line struct {
	What        string  `json:"what"`
	Formula     string  `json:"formula"`
	USDPerMonth float64 `json:"usd_per_month"`
}

// StaticInput is the configured static entry an option uses.
type StaticInput struct {
	Provider            string             `json:"provider"`
	InstanceType        string             `json:"instance_type"`
	Region              string             `json:"region"`
	PricingModel        price.PricingModel `json:"pricing_model"`
	GPUCount            float64            `json:"gpu_count"`
	USDPerHour          float64            `json:"usd_per_hour"`
	GPUUSDPerHour       float64            `json:"gpu_usd_per_hour"`
	MaxGPUHoursPerMonth float64            `json:"max_gpu_hours_per_month"`
}

// BreakEven is the utilisation at which owning one GPU of an owned entry
// costs as much as renting it at a rented price.
type BreakEven struct {
	Owned  string             `json:"owned"`
	Versus price.PricingModel `json:"versus"`
	// RentUSDPerGPUHour is the rented price; OwnUSDPerGPUHour one owned
	// GPU's cost per wall-clock hour, busy or idle.
	RentUSDPerGPUHour float64 `json:"rent_usd_per_gpu_hour"`
	OwnUSDPerGPUHour  float64 `json:"own_usd_per_gpu_hour"`
	// Utilization is OwnUSDPerGPUHour / RentUSDPerGPUHour; null when
	// renting is free. Above 1, buying never beats renting.
	Utilization *float64 `json:"utilization"`
	// GPUHoursPerMonth is the same per owned GPU: Utilization × 730.
	GPUHoursPerMonth *float64 `json:"gpu_hours_per_month"`
	// WorkloadUtilization is how busy this workload keeps the GPUs it
	// would own; Buy is whether that is above the break-even.
	WorkloadUtilization float64 `json:"workload_utilization"`
	Buy                 bool    `json:"buy"`
	Formula             string  `json:"formula"`
}

// Make works out the plan for r, which must have been normalized.
func Make(ctx context.Context, in Inputs, r Request) (*Plan, error) {
	if in.Catalog == nil {
		in.Catalog = price.DefaultCatalog()
	}
	g := r.MonthlyGPUHours()
	p := &Plan{Request: r, HoursPerMonth: HoursPerMonth, Workload: Workload{GPUHoursPerMonth: g, GPUsToOwn: r.GPUsToOwn()}}
	if r.Profile() {
		p.Workload.Formula = fmt.Sprintf("%s baseline GPUs × %s h + %s peak GPUs × %s h = %s GPU-h", f(r.BaselineGPUs), f(HoursPerMonth),
			f(r.PeakGPUs), f(r.PeakHours), f(g))
	} else {
		p.Workload.Formula = fmt.Sprintf("%s GPU-h a month; owning it takes ceil(%s / %s) = %s GPUs", f(g), f(g), f(HoursPerMonth), f(p.Workload.GPUsToOwn))
	}
	for _, m := range []price.PricingModel{price.OnDemand, price.Spot} {
		rp, err := cheapest(ctx, in, &r, m)
		if err != nil {
			return nil, err
		}
		p.Prices = append(p.Prices, rp)
	}
	od, spot := p.Prices[0], p.Prices[1]
	for _, rp := range p.Prices {
		p.Options = append(p.Options, rentOption(&r, g, rp))
		switch {
		case rp.GPUUSDPerHour == nil:
		case rp.KnownSince != nil && rp.KnownSince.After(r.Start().Add(time.Duration(r.Step))):
			p.Warnings = append(p.Warnings, fmt.Sprintf("%s prices rest on %s of history (since %s), fewer than the %s window asked: the store has no earlier %s price of %s",
				rp.PricingModel, days(rp.HistoryDays), rp.KnownSince.Format(time.RFC3339), r.Window, rp.PricingModel, describeGPU(&r)))
		case rp.Coverage < 0.5:
			p.Notes = append(p.Notes, fmt.Sprintf("%s prices were known for only %.0f%% of the window: the %s describes that part",
				rp.PricingModel, 100*rp.Coverage, r.Stat))
		}
	}

	var ownedSeen bool
	for i := range in.Owned {
		o := &in.Owned[i]
		if !matches(&r, o.GPUModel, o.GPUForm, o.GPUMemoryGB) {
			continue
		}
		ownedSeen = true
		cost, err := owned.Compute(o, in.Catalog)
		if err != nil {
			p.Options = append(p.Options, Option{Name: "own " + o.Name, Kind: KindOwned, Missing: err.Error(), Arithmetic: []Line{}})
			continue
		}
		p.Options = append(p.Options, ownOption(&r, g, cost, od))
		if r.Profile() && r.BaselineGPUs > 0 && r.PeakGPUs > 0 {
			for _, rp := range p.Prices {
				p.Options = append(p.Options, hybridOption(&r, cost, rp))
			}
		}
		for _, rp := range p.Prices {
			if rp.GPUUSDPerHour != nil {
				p.BreakEven = append(p.BreakEven, breakEven(&r, g, cost, rp))
			}
		}
	}
	if !ownedSeen {
		p.Notes = append(p.Notes, fmt.Sprintf("no owned: entry of %s in the configuration: add one to compare buying", describeGPU(&r)))
	} else {
		p.Notes = append(p.Notes,
			"owned: capital is the purchase spread evenly over the amortization period (straight line); the hardware is paid for, kept and powered every hour, busy or idle (power_watts is its average draw)")
		if !r.Profile() {
			p.Notes = append(p.Notes, "hybrid options need a profile (baseline_gpus, peak_gpus, peak_hours)")
		}
	}
	for i := range in.Static {
		s := &in.Static[i]
		if matches(&r, s.GPUModel, s.GPUForm, s.GPUMemoryGB) {
			p.Options = append(p.Options, staticOption(&r, g, s, od))
		}
	}
	if spot.GPUUSDPerHour != nil {
		p.Notes = append(p.Notes, "spot capacity can be reclaimed at any time: the spot costs include no interruptions or re-runs")
	}
	best := math.Inf(1)
	for i := range p.Options {
		o := &p.Options[i]
		if o.USDPerMonth != nil {
			o.USDTotal = num(*o.USDPerMonth * float64(r.Months))
			o.USDPerGPUHour = num(*o.USDPerMonth / g)
			if *o.USDPerMonth < best {
				best, p.Cheapest = *o.USDPerMonth, o.Name
			}
		}
	}
	return p, nil
}

// matches reports whether a configured GPU is the request's: same model,
// and the same form and memory where both say.
func matches(r *Request, model, form string, memGB float64) bool {
	return model == r.GPUModel && (r.GPUForm == "" || form == "" || form == r.GPUForm) &&
		(r.GPUMemoryGB == 0 || memGB == 0 || memGB == r.GPUMemoryGB)
}

// statLabel describes a rented price: "median of the cheapest on_demand
// price over 30d".
func statLabel(r *Request, rp *RentPrice) string {
	return fmt.Sprintf("%s of the cheapest %s price over %s", r.Stat, rp.PricingModel, r.Window)
}

func rentOption(r *Request, g float64, rp *RentPrice) Option {
	o := Option{Name: "rent " + string(rp.PricingModel), Kind: KindRent, Arithmetic: []Line{}}
	if rp.GPUUSDPerHour == nil {
		o.Missing = rp.Missing
		return o
	}
	pr := *rp.GPUUSDPerHour
	o.Arithmetic = append(o.Arithmetic, Line{
		What:        fmt.Sprintf("%s GPU-h at %s USD/GPU-h (%s)", f(g), f(pr), statLabel(r, rp)),
		Formula:     fmt.Sprintf("%s × %s", f(g), f(pr)),
		USDPerMonth: g * pr,
	})
	o.USDPerMonth = num(g * pr)
	return o
}

// ownLines are the monthly cost of n GPUs of an owned entry, term by term.
func ownLines(n float64, c *owned.Cost) []Line {
	hours := n * HoursPerMonth
	return []Line{
		{
			What: fmt.Sprintf("capital: %s USD / %s GPUs / %s h amortization = %s USD per GPU-hour", f(c.PurchaseUSD), f(c.GPUCount),
				f(c.AmortizationHours), f(c.CapitalUSDPerGPUHour)),
			Formula:     fmt.Sprintf("%s GPUs × %s h × %s", f(n), f(HoursPerMonth), f(c.CapitalUSDPerGPUHour)),
			USDPerMonth: hours * c.CapitalUSDPerGPUHour,
		},
		{
			What: fmt.Sprintf("maintenance: %s USD a year / %s GPUs / %d h = %s USD per GPU-hour", f(c.MaintenanceUSDPerYear), f(c.GPUCount), owned.HoursPerYear,
				f(c.MaintenanceUSDPerGPUHour)),
			Formula:     fmt.Sprintf("%s GPUs × %s h × %s", f(n), f(HoursPerMonth), f(c.MaintenanceUSDPerGPUHour)),
			USDPerMonth: hours * c.MaintenanceUSDPerGPUHour,
		},
		{
			What: fmt.Sprintf("power: %s W / 1000 / %s GPUs × PUE %s × %s USD/kWh = %s USD per GPU-hour", f(c.Watts), f(c.GPUCount), f(c.PUE),
				f(c.USDPerKWh), f(c.PowerUSDPerGPUHour)),
			Formula:     fmt.Sprintf("%s GPUs × %s h × %s", f(n), f(HoursPerMonth), f(c.PowerUSDPerGPUHour)),
			USDPerMonth: hours * c.PowerUSDPerGPUHour,
		},
	}
}

func ownOption(r *Request, g float64, c *owned.Cost, od *RentPrice) Option {
	n := r.GPUsToOwn()
	o := Option{Name: "own " + c.Name, Kind: KindOwned, GPUsOwned: n, Owned: c, Arithmetic: ownLines(n, c)}
	o.USDPerMonth = num(n * HoursPerMonth * c.HourlyUSDPerGPU())
	o.Utilization = num(g / (n * HoursPerMonth))
	upfront := n * c.PurchaseUSD / c.GPUCount
	o.UpfrontUSD = num(upfront)
	if od.GPUUSDPerHour != nil {
		saving := g**od.GPUUSDPerHour - n*HoursPerMonth*(c.MaintenanceUSDPerGPUHour+c.PowerUSDPerGPUHour)
		if saving > 0 {
			o.PaybackMonths = num(upfront / saving)
		}
	}
	return o
}

func hybridOption(r *Request, c *owned.Cost, rp *RentPrice) Option {
	o := Option{Name: fmt.Sprintf("hybrid %s + %s peaks", c.Name, rp.PricingModel), Kind: KindHybrid,
		GPUsOwned: r.BaselineGPUs, Owned: c}
	if rp.GPUUSDPerHour == nil {
		o.Missing, o.Arithmetic = rp.Missing, []Line{}
		return o
	}
	o.Arithmetic = ownLines(r.BaselineGPUs, c)
	peak := r.PeakGPUs * r.PeakHours
	pr := *rp.GPUUSDPerHour
	o.Arithmetic = append(o.Arithmetic, Line{
		What:        fmt.Sprintf("peaks rented: %s GPUs × %s h = %s GPU-h at %s USD/GPU-h (%s)", f(r.PeakGPUs), f(r.PeakHours), f(peak), f(pr), statLabel(r, rp)),
		Formula:     fmt.Sprintf("%s × %s", f(peak), f(pr)),
		USDPerMonth: peak * pr,
	})
	total := 0.0
	for _, l := range o.Arithmetic {
		total += l.USDPerMonth
	}
	o.USDPerMonth = num(total)
	o.Utilization = num(1) // the baseline keeps the owned GPUs busy
	o.UpfrontUSD = num(r.BaselineGPUs * c.PurchaseUSD / c.GPUCount)
	return o
}

func staticOption(r *Request, g float64, s *static.Entry, od *RentPrice) Option {
	in := &StaticInput{Provider: s.Provider, InstanceType: s.InstanceType, Region: s.Region, PricingModel: s.PricingModel,
		GPUCount: s.GPUCount, USDPerHour: *s.USDPerHour, GPUUSDPerHour: s.GPUUSDPerHour(), MaxGPUHoursPerMonth: s.MaxGPUHoursPerMonth}
	o := Option{Name: "static " + s.Provider + "/" + s.InstanceType, Kind: KindStatic, Static: in, Arithmetic: []Line{}}
	covered := g
	if s.MaxGPUHoursPerMonth > 0 {
		covered = min(g, s.MaxGPUHoursPerMonth)
	}
	o.Arithmetic = append(o.Arithmetic, Line{
		What:        fmt.Sprintf("%s GPU-h at the configured %s USD/GPU-h (%s USD/h / %s GPUs)", f(covered), f(in.GPUUSDPerHour), f(in.USDPerHour), f(in.GPUCount)),
		Formula:     fmt.Sprintf("%s × %s", f(covered), f(in.GPUUSDPerHour)),
		USDPerMonth: covered * in.GPUUSDPerHour,
	})
	if rest := g - covered; rest > 0 {
		if od.GPUUSDPerHour == nil {
			o.Missing = fmt.Sprintf("the allocation covers %s of %s GPU-h a month and the rest would be rented on demand: %s", f(covered), f(g), od.Missing)
			return o
		}
		o.Arithmetic = append(o.Arithmetic, Line{
			What: fmt.Sprintf("beyond the cap of %s GPU-h a month: %s GPU-h at %s USD/GPU-h (%s)", f(s.MaxGPUHoursPerMonth), f(rest),
				f(*od.GPUUSDPerHour), statLabel(r, od)),
			Formula:     fmt.Sprintf("%s × %s", f(rest), f(*od.GPUUSDPerHour)),
			USDPerMonth: rest * *od.GPUUSDPerHour,
		})
	}
	total := 0.0
	for _, l := range o.Arithmetic {
		total += l.USDPerMonth
	}
	o.USDPerMonth = num(total)
	return o
}

func breakEven(r *Request, g float64, c *owned.Cost, rp *RentPrice) BreakEven {
	rent, own := *rp.GPUUSDPerHour, c.HourlyUSDPerGPU()
	be := BreakEven{Owned: c.Name, Versus: rp.PricingModel, RentUSDPerGPUHour: rent, OwnUSDPerGPUHour: own,
		WorkloadUtilization: g / (r.GPUsToOwn() * HoursPerMonth)}
	if rent > 0 {
		u := own / rent
		be.Utilization, be.GPUHoursPerMonth = num(u), num(u*HoursPerMonth)
		be.Buy = be.WorkloadUtilization >= u
		be.Formula = fmt.Sprintf("%s / %s = %s", f(own), f(rent), f(u))
	} else {
		be.Formula = fmt.Sprintf("%s / 0: renting is free", f(own))
	}
	return be
}

// f renders a number of an arithmetic line: at most 6 decimals (enough
// for the line to recompute to the cent), no trailing zeros.
func f(v float64) string {
	if !finite(v) {
		return "-"
	}
	s := strconv.FormatFloat(math.Round(v*1e6)/1e6, 'f', -1, 64)
	if s == "-0" {
		return "0"
	}
	return s
}
