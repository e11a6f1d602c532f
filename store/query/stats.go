package query

import (
	"cmp"
	"math"
	"slices"
	"time"
)

// Summary describes a series' price over a window [Start, End). Every
// statistic is over the time the price was known, weighted by time: a
// price that held for two hours counts twice as much as one that held for
// one. Statistics are NaN when the price was never known in the window.
type Summary struct {
	Start, End time.Time
	// Known is the time the price was known; Coverage is Known divided by
	// the window's length.
	Known    time.Duration
	Coverage float64

	Min, Max float64
	// Mean is the time-weighted mean: ∫ price dt / Known.
	Mean float64
	// Median, P10 and P90 are time-weighted quantiles: the lowest price
	// p such that the price was at most p for at least that share of the
	// known time (no interpolation: always a price the series had).
	Median, P10, P90 float64
	// Volatility is the coefficient of variation: the time-weighted
	// standard deviation divided by Mean (0 for a constant price, NaN
	// when Mean is 0 and the price varied).
	Volatility float64
	// Below is the threshold of ShareBelow, NaN when none was given;
	// ShareBelow is the share of the known time the price was strictly
	// below it.
	Below, ShareBelow float64
	// Changes counts the times the known price differs from the previous
	// known price: a withdrawal or an unknown stretch is not a change, a
	// price coming back different after one is.
	Changes int
}

// Summarize computes the statistics of st over [start, end); st must lie
// within the window (StepsOf clips to it). below is the ShareBelow
// threshold, NaN for none.
func Summarize(st Steps, start, end time.Time, below float64) Summary {
	s := Summary{Start: start, End: end, Below: below,
		Coverage: nan, Min: nan, Max: nan, Mean: nan, Median: nan, P10: nan, P90: nan, Volatility: nan, ShareBelow: nan}
	if w := end.Sub(start); w > 0 {
		s.Coverage = 0
	}
	if len(st) == 0 {
		return s
	}
	var known int64
	var sum float64
	s.Min, s.Max = math.Inf(1), math.Inf(-1)
	for i, seg := range st {
		d := seg.End - seg.Start
		known += d
		sum += float64(d) * seg.Value
		s.Min, s.Max = min(s.Min, seg.Value), max(s.Max, seg.Value)
		if i > 0 && seg.Value != st[i-1].Value {
			s.Changes++
		}
	}
	s.Known = time.Duration(known) * time.Millisecond
	if w := end.Sub(start); w > 0 {
		s.Coverage = float64(s.Known) / float64(w)
	}
	if known == 0 {
		return s
	}
	total := float64(known)
	s.Mean = sum / total
	var sq, under float64
	for _, seg := range st {
		d := float64(seg.End - seg.Start)
		sq += d * (seg.Value - s.Mean) * (seg.Value - s.Mean)
		if seg.Value < below {
			under += d
		}
	}
	switch std := math.Sqrt(sq / total); {
	case std == 0 || s.Min == s.Max:
		s.Volatility = 0
	case s.Mean != 0:
		s.Volatility = std / s.Mean
	}
	if !math.IsNaN(below) {
		s.ShareBelow = under / total
	}
	qs := timeQuantiles(st, known)
	s.P10, s.Median, s.P90 = qs[0], qs[1], qs[2]
	return s
}

// quantileLevels are the time-weighted quantiles Summarize computes.
var quantileLevels = [3]float64{0.1, 0.5, 0.9}

// timeQuantiles returns the time-weighted quantiles quantileLevels of st:
// for each q, the lowest value v such that the price was at most v for at
// least q × known.
func timeQuantiles(st Steps, known int64) [3]float64 {
	sorted := slices.Clone(st)
	slices.SortFunc(sorted, func(a, b Segment) int { return cmp.Compare(a.Value, b.Value) })
	var out [3]float64
	var cum int64
	j := 0
	for i, seg := range sorted {
		cum += seg.End - seg.Start
		if i+1 < len(sorted) && sorted[i+1].Value == seg.Value {
			continue // the same price goes on in another segment
		}
		for j < len(out) && float64(cum) >= quantileLevels[j]*float64(known) {
			out[j] = seg.Value
			j++
		}
	}
	return out
}
