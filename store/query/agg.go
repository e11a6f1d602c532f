package query

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/gpuprice/gpuprice/price"
)

// Agg aggregates, at each sample time, the values of the series that have
// one.
type Agg string

// The aggregations. P10, P50 and P90 interpolate linearly between the two
// closest ranks, as PromQL's quantile() does: p50 of 1, 2, 3, 4 is 2.5.
const (
	None Agg = ""
	Min  Agg = "min"
	Max  Agg = "max"
	Avg  Agg = "avg"
	P10  Agg = "p10"
	P50  Agg = "p50"
	P90  Agg = "p90"
)

// Aggs lists every aggregation.
var Aggs = []Agg{Min, Max, Avg, P10, P50, P90}

// ParseAgg reads an aggregation name; "" is None.
func ParseAgg(s string) (Agg, error) {
	a := Agg(s)
	if a == None || slices.Contains(Aggs, a) {
		return a, nil
	}
	names := make([]string, len(Aggs))
	for i, a := range Aggs {
		names[i] = string(a)
	}
	return None, fmt.Errorf("%q is not one of %s", s, strings.Join(names, ", "))
}

// quantile returns the quantile a computes and true, or false for min, max
// and avg.
func (a Agg) quantile() (float64, bool) {
	switch a {
	case P10:
		return 0.1, true
	case P50:
		return 0.5, true
	case P90:
		return 0.9, true
	}
	return 0, false
}

// Quantile is the q-quantile (0 <= q <= 1) of vs, interpolating linearly
// between the closest ranks as PromQL's quantile() does; NaN for no
// values. It sorts vs.
func Quantile(vs []float64, q float64) float64 {
	if len(vs) == 0 {
		return nan
	}
	slices.Sort(vs)
	return price.Quantile(vs, q)
}

// Aggregate reduces series sampled on one grid (rows[i][k] is series i at
// time k, NaN where it has no value) with a, time by time; times where no
// series has a value are NaN. The result does not depend on the order of
// the rows.
func Aggregate(a Agg, rows [][]float64) []float64 {
	if len(rows) == 0 {
		return nil
	}
	acc := newAccumulator(a, len(rows[0]))
	for _, r := range rows {
		acc.add(r)
	}
	return acc.result()
}

// accumulator aggregates rows as they come: min, max and avg keep one
// value (and a count) per time; quantiles keep every row.
type accumulator struct {
	agg    Agg
	vals   []float64 // min or max so far, or the sum for avg
	counts []int32   // rows with a value, per time
	rows   [][]float64
}

func newAccumulator(a Agg, n int) *accumulator {
	acc := &accumulator{agg: a}
	if _, q := a.quantile(); !q {
		acc.vals = make([]float64, n)
		acc.counts = make([]int32, n)
	}
	return acc
}

// add takes one row; a quantile accumulator keeps it, so the caller must
// not reuse it.
func (acc *accumulator) add(row []float64) {
	if acc.vals == nil {
		acc.rows = append(acc.rows, row)
		return
	}
	for k, v := range row {
		if math.IsNaN(v) {
			continue
		}
		c := acc.counts[k]
		acc.counts[k]++
		switch acc.agg {
		case Min:
			if c == 0 || v < acc.vals[k] {
				acc.vals[k] = v
			}
		case Max:
			if c == 0 || v > acc.vals[k] {
				acc.vals[k] = v
			}
		case Avg:
			acc.vals[k] += v
		}
	}
}

// result is the aggregate at each time, NaN where no row had a value.
func (acc *accumulator) result() []float64 {
	if acc.vals == nil {
		q, _ := acc.agg.quantile()
		if len(acc.rows) == 0 {
			return nil
		}
		out := make([]float64, len(acc.rows[0]))
		vs := make([]float64, 0, len(acc.rows))
		for k := range out {
			vs = vs[:0]
			for _, r := range acc.rows {
				if !math.IsNaN(r[k]) {
					vs = append(vs, r[k])
				}
			}
			out[k] = Quantile(vs, q)
		}
		return out
	}
	out := make([]float64, len(acc.vals))
	for k, v := range acc.vals {
		switch c := acc.counts[k]; {
		case c == 0:
			out[k] = nan
		case acc.agg == Avg:
			out[k] = v / float64(c)
		default:
			out[k] = v
		}
	}
	return out
}

// LabelValue is the value of label name (one of LabelNames) of q, as a
// label: numbers formatted with price.FormatNumber, absent values empty.
func LabelValue(q *price.Quote, name string) string {
	for i := range price.SeriesLabels {
		if l := &price.SeriesLabels[i]; l.Name == name {
			return l.Value(q)
		}
	}
	return ""
}

// groupKey is the values of the by labels of q, joined.
func groupKey(q *price.Quote, by []string, buf []byte) []byte {
	for _, name := range by {
		buf = append(buf, LabelValue(q, name)...)
		buf = append(buf, 0)
	}
	return buf
}

// narrow clears the labels of c that l does not share, gpu_raw included;
// numbers compare as label values.
func narrow(c *price.Quote, l *price.Quote) {
	for i := range price.Labels {
		if lb := &price.Labels[i]; !lb.Is(c, lb.Value(l)) {
			lb.Clear(c)
		}
	}
}
