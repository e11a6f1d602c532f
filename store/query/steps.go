package query

import (
	"math"
	"time"

	"github.com/gpuprice/gpuprice/store"
)

var nan = math.NaN()

// Segment is a stretch [Start, End) of unix milliseconds during which a
// series' price is known and equal to Value.
type Segment struct {
	Start, End int64
	Value      float64
}

// Duration is the segment's length.
func (s Segment) Duration() time.Duration { return time.Duration(s.End-s.Start) * time.Millisecond }

// Steps is a series' known price over a window: segments in time order that
// do not overlap; adjacent segments have different values. The time
// between segments is unknown (a gap).
type Steps []Segment

// StepsOf is the step function of s's price p over the window [start, end)
// under k's rule (nil: no poll log). s.Points must be oldest first, as the
// store returns them, starting with the point in effect at start.
func StepsOf(s *store.Series, start, end time.Time, k *Known, p Price) Steps {
	return appendSteps(nil, s, start.UnixMilli(), end.UnixMilli(), k, p)
}

// appendSteps appends StepsOf(s, [lo, hi)) to dst.
func appendSteps(dst Steps, s *store.Series, lo, hi int64, k *Known, p Price) Steps {
	pl := k.log(s.Labels.Provider)
	var parts [8]span
	for i, pt := range s.Points {
		if pt.Withdrawn {
			continue
		}
		v := p.Of(pt.USDPerHour, s.Labels.GPUCount)
		if math.IsNaN(v) {
			return dst // no per-GPU price for any point of the series
		}
		a, b := pt.Time.UnixMilli(), int64(math.MaxInt64)
		if i+1 < len(s.Points) {
			b = s.Points[i+1].Time.UnixMilli()
		}
		if b <= lo || a >= hi || a >= b {
			continue
		}
		for _, kn := range pl.known(parts[:0], a, b) {
			from, to := max(kn.from, lo), min(kn.to, hi)
			if from < to {
				dst = dst.add(Segment{from, to, v})
			}
		}
	}
	return dst
}

// add appends seg, merging it into the last segment when they touch and
// have the same value.
func (st Steps) add(seg Segment) Steps {
	if n := len(st); n > 0 && st[n-1].End == seg.Start && st[n-1].Value == seg.Value {
		st[n-1].End = seg.End
		return st
	}
	return append(st, seg)
}

// Sample appends to dst the value of st at each time of g: the value of
// the segment holding that time, NaN where none does. This is instant
// sampling, as Prometheus' range queries do: a price that held only
// between two grid times is not seen.
func (st Steps) Sample(g Grid, dst []float64) []float64 {
	return st.sample(g.times(), dst)
}

// sample is Sample at the grid times ts (Grid.times), which a query
// computes once for all its series.
func (st Steps) sample(ts []int64, dst []float64) []float64 {
	j := 0
	for _, t := range ts {
		for j < len(st) && st[j].End <= t {
			j++
		}
		if j < len(st) && st[j].Start <= t {
			dst = append(dst, st[j].Value)
		} else {
			dst = append(dst, nan)
		}
	}
	return dst
}

// FromSamples is the step function of a resampled series: each sample's
// value holds for one step from its time. Summarize then weighs every
// sample the same.
func FromSamples(samples []Sample, step time.Duration) Steps {
	var st Steps
	d := step.Milliseconds()
	for _, s := range samples {
		if math.IsNaN(s.Value) {
			continue
		}
		t := s.Time.UnixMilli()
		st = st.add(Segment{t, t + d, s.Value})
	}
	return st
}
