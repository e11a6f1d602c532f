package api

import (
	"math"
	"slices"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// The store keeps each series as a step function: a price holds from its
// point until the next point, and a withdrawal point starts a gap. This
// file samples those functions on a regular grid and aggregates across
// series at each grid time.

// sampleCount is the number of grid times start, start+step, ... <= end.
func sampleCount(start, end time.Time, step time.Duration) int {
	return int(end.Sub(start)/step) + 1
}

// sampleTimes returns the n grid times from start.
func sampleTimes(start time.Time, step time.Duration, n int) []time.Time {
	ts := make([]time.Time, n)
	for i := range ts {
		ts[i] = start.Add(time.Duration(i) * step)
	}
	return ts
}

// stepValues returns a series' price at each time of ts (ascending): the
// price of its last point at or before that time, or NaN where there is
// none or that point is a withdrawal. points must be oldest first, as the
// store returns them.
func stepValues(points []store.Point, ts []time.Time) []float64 {
	out := make([]float64, len(ts))
	cur, j := math.NaN(), 0
	for i, t := range ts {
		for j < len(points) && !points[j].Time.After(t) {
			cur = points[j].USDPerHour
			if points[j].Withdrawn {
				cur = math.NaN()
			}
			j++
		}
		out[i] = cur
	}
	return out
}

// resampleAll samples every series at ts; samples where a series has no
// price are left out, so that a withdrawal shows as a gap rather than as a
// carried-over price.
func resampleAll(series []store.Series, ts []time.Time) []answerSeries {
	out := make([]answerSeries, len(series))
	for i, s := range series {
		out[i].labels = s.Labels
		for k, v := range stepValues(s.Points, ts) {
			if !math.IsNaN(v) {
				out[i].samples = append(out[i].samples, sample{t: ts[k], usd: v, gpu: perGPU(v, s.Labels.GPUCount)})
			}
		}
	}
	return out
}

// aggregators reduce the prices the series have at one grid time; they are
// only called with at least one value.
var aggregators = map[string]func(vs []float64) float64{
	"min": func(vs []float64) float64 { return slices.Min(vs) },
	"max": func(vs []float64) float64 { return slices.Max(vs) },
	"avg": func(vs []float64) float64 {
		sum := 0.0
		for _, v := range vs {
			sum += v
		}
		return sum / float64(len(vs))
	},
	"p50": func(vs []float64) float64 { return quantile(vs, 0.5) },
}

// quantile is the q-quantile of vs, interpolating linearly between the
// closest ranks as Prometheus' quantile does. It sorts vs.
func quantile(vs []float64, q float64) float64 {
	slices.Sort(vs)
	rank := q * float64(len(vs)-1)
	lo := int(math.Floor(rank))
	hi := int(math.Ceil(rank))
	return vs[lo] + (vs[hi]-vs[lo])*(rank-float64(lo))
}

// aggregate samples every series at ts and reduces, at each time, the
// prices of the series that have one with agg: usd_per_hour and
// gpu_usd_per_hour each on their own. Times where no series has a price are
// left out. The result carries the labels all series share; it is empty
// when no series matched.
func aggregate(series []store.Series, ts []time.Time, agg string) []answerSeries {
	if len(series) == 0 {
		return []answerSeries{}
	}
	f := aggregators[agg]
	grid := make([][]float64, len(series))
	for i, s := range series {
		grid[i] = stepValues(s.Points, ts)
	}
	out := answerSeries{labels: commonLabels(series), samples: []sample{}}
	usd := make([]float64, 0, len(series))
	gpu := make([]float64, 0, len(series))
	for k, t := range ts {
		usd, gpu = usd[:0], gpu[:0]
		for i, s := range series {
			v := grid[i][k]
			if math.IsNaN(v) {
				continue
			}
			usd = append(usd, v)
			if g := perGPU(v, s.Labels.GPUCount); !math.IsNaN(g) {
				gpu = append(gpu, g)
			}
		}
		if len(usd) == 0 {
			continue
		}
		sm := sample{t: t, usd: f(usd), gpu: math.NaN()}
		if len(gpu) > 0 {
			sm.gpu = f(gpu)
		}
		out.samples = append(out.samples, sm)
	}
	return []answerSeries{out}
}

// commonLabels returns the labels every series has in common; the others
// are left empty.
func commonLabels(series []store.Series) price.Quote {
	f := series[0].Labels
	c := price.Quote{
		Provider: f.Provider, InstanceType: f.InstanceType, Region: f.Region, Zone: f.Zone, Geo: f.Geo,
		PricingModel: f.PricingModel, GPUModel: f.GPUModel, GPUForm: f.GPUForm,
		GPUMemoryGB: f.GPUMemoryGB, GPUCount: f.GPUCount, GPURaw: f.GPURaw,
	}
	for _, s := range series[1:] {
		l := &s.Labels
		keep(&c.Provider, l.Provider)
		keep(&c.InstanceType, l.InstanceType)
		keep(&c.Region, l.Region)
		keep(&c.Zone, l.Zone)
		keep(&c.Geo, l.Geo)
		keep(&c.PricingModel, l.PricingModel)
		keep(&c.GPUModel, l.GPUModel)
		keep(&c.GPUForm, l.GPUForm)
		keep(&c.GPURaw, l.GPURaw)
		if price.FormatNumber(c.GPUMemoryGB) != price.FormatNumber(l.GPUMemoryGB) {
			c.GPUMemoryGB = 0
		}
		if price.FormatNumber(c.GPUCount) != price.FormatNumber(l.GPUCount) {
			c.GPUCount = 0
		}
	}
	return c
}

// keep clears *c unless it equals v.
func keep[T comparable](c *T, v T) {
	if *c != v {
		var zero T
		*c = zero
	}
}
