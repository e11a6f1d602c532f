package planner

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/query"
)

// RentPrice is the statistic of the cheapest rented price per GPU-hour of
// one pricing model over the window, and where it comes from.
type RentPrice struct {
	PricingModel price.PricingModel `json:"pricing_model"`
	// GPUUSDPerHour is the requested statistic of the cheapest price; null
	// when no price is known (Missing says why).
	GPUUSDPerHour *float64 `json:"gpu_usd_per_hour"`
	Statistic     string   `json:"statistic"`
	// Series counts the series that matched; Samples the grid times at
	// which at least one had a known price, of SampleTimes.
	Series      int `json:"series"`
	Samples     int `json:"samples"`
	SampleTimes int `json:"sample_times"`
	// Summary of the cheapest price over the window, each sample counting
	// one step (store/query's Summarize); Last is its value at the
	// window's end.
	Min      *float64 `json:"min"`
	P10      *float64 `json:"p10"`
	Median   *float64 `json:"median"`
	Mean     *float64 `json:"mean"`
	Max      *float64 `json:"max"`
	Last     *float64 `json:"last"`
	Coverage float64  `json:"coverage"`
	// KnownSince is the first sample time with a known price: the history
	// the statistic rests on starts there. HistoryDays is how many days of
	// the window that is (KnownSince to the window's end); less than the
	// window when the store has no earlier price.
	KnownSince  *time.Time `json:"known_since,omitempty"`
	HistoryDays float64    `json:"history_days"`
	// Cheapest lists the series that were the cheapest, with the share of
	// the samples at which each was, most often first.
	Cheapest []SeriesShare `json:"cheapest_series"`
	// Volatility describes the series that was the cheapest most often:
	// the provider's own price movements over the window.
	Volatility *Volatility `json:"volatility,omitempty"`
	Missing    string      `json:"missing,omitempty"`
}

// SeriesRef names one stored series.
type SeriesRef struct {
	Provider     string  `json:"provider"`
	InstanceType string  `json:"instance_type"`
	Region       string  `json:"region"`
	Zone         string  `json:"zone,omitempty"`
	GPUCount     float64 `json:"gpu_count"`
}

// String renders the series as provider/instance_type/region[/zone].
func (s SeriesRef) String() string {
	out := s.Provider + "/" + s.InstanceType + "/" + s.Region
	if s.Zone != "" {
		out += "/" + s.Zone
	}
	return out
}

// SeriesShare is a series and the share of samples at which it was the
// cheapest.
type SeriesShare struct {
	SeriesRef
	Samples int     `json:"samples"`
	Share   float64 `json:"share"`
}

// Volatility is one series' price movement over the window: the
// time-weighted coefficient of variation (standard deviation / mean), its
// range, and how many times its known price changed.
type Volatility struct {
	SeriesRef
	CV       *float64 `json:"cv"`
	Mean     *float64 `json:"mean"`
	Min      *float64 `json:"min"`
	Max      *float64 `json:"max"`
	Changes  int      `json:"changes"`
	Coverage float64  `json:"coverage"`
}

// maxCheapestListed bounds RentPrice.Cheapest.
const maxCheapestListed = 5

// cheapest works out the RentPrice of model: every matching series
// resampled on the request's grid (store/query: withdrawn and stale
// stretches are gaps), the minimum across series at each grid time, and
// the request's statistic of those minima.
func cheapest(ctx context.Context, in Inputs, r *Request, model price.PricingModel) (*RentPrice, error) {
	rp := &RentPrice{PricingModel: model, Statistic: r.Stat}
	qr := query.Request{
		Query: store.Query{GPUModel: r.GPUModel, GPUMemoryGB: r.GPUMemoryGB, GPUForm: r.GPUForm, Geo: r.Geo, PricingModel: model},
		Start: r.Start(), End: r.End, Step: time.Duration(r.Step), Price: query.PerGPU, Limits: in.Limits,
	}
	series, err := query.Run(ctx, in.History, qr)
	if err != nil {
		return nil, fmt.Errorf("%s history: %w", model, err)
	}
	g := query.NewGrid(qr.Start, qr.End, qr.Step)
	rp.Series, rp.SampleTimes = len(series), g.N
	best := make([]float64, g.N)
	who := make([]int, g.N)
	for i := range best {
		best[i], who[i] = math.NaN(), -1
	}
	for si, s := range series {
		for _, sm := range s.Samples {
			k := int(sm.Time.Sub(qr.Start) / qr.Step)
			if k < 0 || k >= g.N {
				continue
			}
			if who[k] < 0 || sm.Value < best[k] {
				best[k], who[k] = sm.Value, si
			}
		}
	}
	var env []query.Sample
	counts := make([]int, len(series))
	for k, v := range best {
		if who[k] >= 0 {
			env = append(env, query.Sample{Time: g.Time(k), Value: v})
			counts[who[k]]++
		}
	}
	rp.Samples = len(env)
	if len(env) == 0 {
		rp.Missing = fmt.Sprintf("no %s price of %s is known in the %s up to %s",
			model, describeGPU(r), r.Window, r.End.Format(time.RFC3339))
		if len(series) == 0 {
			rp.Missing = fmt.Sprintf("no %s series of %s in the store", model, describeGPU(r))
		}
		return rp, nil
	}
	sum := query.Summarize(query.FromSamples(env, qr.Step), qr.Start, g.Time(g.N), math.NaN())
	rp.Min, rp.P10, rp.Median, rp.Mean, rp.Max = num(sum.Min), num(sum.P10), num(sum.Median), num(sum.Mean), num(sum.Max)
	rp.Coverage = sum.Coverage
	since := env[0].Time
	rp.KnownSince = &since
	rp.HistoryDays = r.End.Sub(since).Hours() / 24
	if who[g.N-1] >= 0 {
		rp.Last = num(best[g.N-1])
	}
	switch r.Stat {
	case StatMin:
		rp.GPUUSDPerHour = rp.Min
	case StatP10:
		rp.GPUUSDPerHour = rp.P10
	case StatMean:
		rp.GPUUSDPerHour = rp.Mean
	case StatLast:
		rp.GPUUSDPerHour = rp.Last
		if rp.Last == nil {
			rp.Missing = fmt.Sprintf("no %s price of %s is known at the window's end %s (withdrawn or stale)",
				model, describeGPU(r), r.End.Format(time.RFC3339))
		}
	default:
		rp.GPUUSDPerHour = rp.Median
	}

	order := make([]int, 0, len(series))
	for si, n := range counts {
		if n > 0 {
			order = append(order, si)
		}
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(counts[b], counts[a]) })
	for i, si := range order {
		if i == maxCheapestListed {
			break
		}
		rp.Cheapest = append(rp.Cheapest, SeriesShare{SeriesRef: refOf(&series[si].Labels), Samples: counts[si],
			Share: float64(counts[si]) / float64(len(env))})
	}
	top := series[order[0]]
	vs := query.Summarize(query.FromSamples(top.Samples, qr.Step), qr.Start, g.Time(g.N), math.NaN())
	rp.Volatility = &Volatility{SeriesRef: refOf(&top.Labels), CV: num(vs.Volatility), Mean: num(vs.Mean),
		Min: num(vs.Min), Max: num(vs.Max), Changes: vs.Changes, Coverage: vs.Coverage}
	return rp, nil
}

func refOf(q *price.Quote) SeriesRef {
	return SeriesRef{Provider: q.Provider, InstanceType: q.InstanceType, Region: q.Region, Zone: q.Zone, GPUCount: q.GPUCount}
}

// num is v for JSON: nil when NaN or infinite.
func num(v float64) *float64 {
	if !finite(v) {
		return nil
	}
	return &v
}

// describeGPU renders the request's GPU: "H100 sxm 80GB in eu".
func describeGPU(r *Request) string {
	s := r.GPUModel
	if r.GPUForm != "" {
		s += " " + r.GPUForm
	}
	if r.GPUMemoryGB > 0 {
		s += " " + price.FormatNumber(r.GPUMemoryGB) + "GB"
	}
	if r.Geo != "" {
		s += " in " + r.Geo
	}
	return s
}
