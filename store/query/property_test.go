package query

import (
	"math"
	"math/rand"
	"reflect"
	"slices"
	"testing"
	"testing/quick"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Property tests with testing/quick: random step functions, random grids.
// A failure prints the generated input.

// unit is the time quantum of generated histories: every point is on a
// whole number of units from t0.
const unit = 10 * time.Minute

// history is a random series: points on the unit grid from -3 units on,
// some of them withdrawals, prices in cents (so that comparisons are
// exact), one GPU per instance.
type history struct {
	Points []store.Point
}

func (history) Generate(r *rand.Rand, size int) reflect.Value {
	var h history
	k := -3 + r.Intn(5)
	for n := r.Intn(size + 1); n > 0; n-- {
		p := store.Point{Time: t0.Add(time.Duration(k) * unit)}
		if r.Intn(5) == 0 {
			p.Withdrawn = true
		} else {
			p.USDPerHour = float64(r.Intn(500)) / 100
		}
		h.Points = append(h.Points, p)
		k += 1 + r.Intn(6)
	}
	return reflect.ValueOf(h)
}

func (h history) series(provider string) store.Series {
	return store.Series{Labels: price.Quote{Provider: provider, InstanceType: "x", GPUCount: 1}, Points: h.Points}
}

// valueAt is the price in effect at t the slow way: the latest point at or
// before t, NaN when there is none or it is a withdrawal.
func (h history) valueAt(t time.Time) float64 {
	v := nan
	for _, p := range h.Points {
		if p.Time.After(t) {
			break
		}
		v = p.USDPerHour
		if p.Withdrawn {
			v = nan
		}
	}
	return v
}

// grid is a random sampling grid over t0 .. t0+40 units: a start within
// the first units, a step that divides the unit or is a few units long.
type grid struct{ Grid }

func (grid) Generate(r *rand.Rand, _ int) reflect.Value {
	steps := []time.Duration{time.Minute, 5 * time.Minute, unit, 25 * time.Minute, time.Hour}
	start := t0.Add(time.Duration(r.Intn(3)) * unit)
	return reflect.ValueOf(grid{NewGrid(start, t0.Add(40*unit), steps[r.Intn(len(steps))])})
}

// sample resamples h on g with no poll log, as Run does.
func (h history) sample(g Grid) []float64 {
	s := h.series("aws")
	end := g.Time(g.N - 1)
	return appendSteps(nil, &s, g.Start.UnixMilli(), end.UnixMilli()+1, nil, PerInstance).Sample(g, nil)
}

var quickConfig = &quick.Config{MaxCount: 300}

func TestPropertyConstantResamplesToItself(t *testing.T) {
	f := func(cents uint16, g grid, before uint8) bool {
		v := float64(cents) / 100
		h := history{Points: []store.Point{{Time: g.Start.Add(-time.Duration(before) * time.Minute), USDPerHour: v}}}
		for _, got := range h.sample(g.Grid) {
			if got != v {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPropertyResampleIsTheStepFunction compares every sample with the
// price in effect at its time: in particular, a withdrawal yields a gap
// (NaN) until the next price, never a carried-forward price.
func TestPropertyResampleIsTheStepFunction(t *testing.T) {
	f := func(h history, g grid) bool {
		got := h.sample(g.Grid)
		for i, v := range got {
			if want := h.valueAt(g.Time(i)); !(v == want || math.IsNaN(v) && math.IsNaN(want)) {
				t.Logf("sample %d at %v: %v, want %v", i, g.Time(i).Sub(t0), v, want)
				return false
			}
		}
		return len(got) == g.N
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

func TestPropertyWithdrawalIsAGap(t *testing.T) {
	f := func(h history, g grid) bool {
		got := h.sample(g.Grid)
		for _, p := range h.Points {
			if !p.Withdrawn {
				continue
			}
			// Every sample from the withdrawal to the next point is NaN.
			for i := range got {
				tm := g.Time(i)
				if tm.Before(p.Time) {
					continue
				}
				if next := h.nextAfter(p.Time); !next.IsZero() && !tm.Before(next) {
					break
				}
				if !math.IsNaN(got[i]) {
					return false
				}
			}
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

func (h history) nextAfter(t time.Time) time.Time {
	for _, p := range h.Points {
		if p.Time.After(t) {
			return p.Time
		}
	}
	return time.Time{}
}

// TestPropertyFineStepPreservesEveryChange resamples at a step that
// divides the unit every change is on: each change shows at its own time,
// and the run-length encoding of the samples is the sequence of changes.
func TestPropertyFineStepPreservesEveryChange(t *testing.T) {
	f := func(h history, div uint8) bool {
		step := unit / time.Duration(1+div%5)
		g := NewGrid(t0.Add(-5*unit), t0.Add(150*unit), step)
		got := h.sample(g)
		var runs, changes []float64
		for i, v := range got {
			if i == 0 || !same(v, got[i-1]) {
				runs = append(runs, v)
			}
		}
		prev := nan
		if len(got) > 0 && len(h.Points) > 0 && h.Points[0].Time.After(g.Start) {
			changes = append(changes, nan) // nothing yet at the start
		}
		for _, p := range h.Points {
			if p.Time.After(g.Time(g.N - 1)) {
				break
			}
			v := p.USDPerHour
			if p.Withdrawn {
				v = nan
			}
			if len(changes) == 0 || !same(v, prev) {
				changes = append(changes, v)
			}
			prev = v
		}
		if len(h.Points) == 0 {
			changes = []float64{nan}
		}
		if !slices.EqualFunc(runs, changes, same) {
			t.Logf("runs %v, changes %v", runs, changes)
			return false
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

func same(a, b float64) bool { return a == b || math.IsNaN(a) && math.IsNaN(b) }

// rows are several random histories sampled on one grid.
type rows struct {
	Histories []history
	G         grid
}

func (rows) Generate(r *rand.Rand, size int) reflect.Value {
	var rs rows
	for n := 1 + r.Intn(6); n > 0; n-- {
		rs.Histories = append(rs.Histories, history{}.Generate(r, size).Interface().(history))
	}
	rs.G = grid{}.Generate(r, size).Interface().(grid)
	return reflect.ValueOf(rs)
}

func (rs rows) sampled() [][]float64 {
	out := make([][]float64, len(rs.Histories))
	for i, h := range rs.Histories {
		out[i] = h.sample(rs.G.Grid)
	}
	return out
}

// TestPropertyAggregateBounds: at every sample time, min is at most and
// max at least every series that has a price, the others lie between
// them, and a time where no series has a price stays a gap.
func TestPropertyAggregateBounds(t *testing.T) {
	f := func(rs rows) bool {
		sampled := rs.sampled()
		agg := map[Agg][]float64{}
		for _, a := range Aggs {
			agg[a] = Aggregate(a, sampled)
		}
		for k := range rs.G.N {
			any := false
			for _, row := range sampled {
				v := row[k]
				if math.IsNaN(v) {
					continue
				}
				any = true
				if agg[Min][k] > v || agg[Max][k] < v {
					return false
				}
			}
			for _, a := range Aggs {
				v := agg[a][k]
				if !any {
					if !math.IsNaN(v) {
						return false
					}
					continue
				}
				if v < agg[Min][k]-1e-9 || v > agg[Max][k]+1e-9 {
					return false
				}
			}
			if any && !(agg[P10][k] <= agg[P50][k] && agg[P50][k] <= agg[P90][k]) {
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPropertyAggregatePermutationInvariant: the order of the series does
// not change any aggregate (avg up to rounding), through Run as well.
func TestPropertyAggregatePermutationInvariant(t *testing.T) {
	f := func(rs rows, seed int64) bool {
		sampled := rs.sampled()
		perm := rand.New(rand.NewSource(seed)).Perm(len(sampled))
		shuffled := make([][]float64, len(sampled))
		for i, j := range perm {
			shuffled[i] = slices.Clone(sampled[j])
		}
		for _, a := range Aggs {
			x, y := Aggregate(a, sampled), Aggregate(a, shuffled)
			for k := range x {
				if !same(x[k], y[k]) && !(a == Avg && math.Abs(x[k]-y[k]) <= 1e-9) {
					return false
				}
			}
		}

		// Through Run: the same series in another order, grouped.
		src, shuffledSrc := &memSource{}, &memSource{}
		for i, h := range rs.Histories {
			src.series = append(src.series, h.series([]string{"aws", "azure"}[i%2]))
		}
		for _, j := range perm {
			shuffledSrc.series = append(shuffledSrc.series, src.series[j])
		}
		req := Request{Start: rs.G.Start, End: rs.G.Time(rs.G.N - 1), Step: rs.G.Step, Agg: Min, By: []string{"provider"}, Price: PerInstance}
		a, err1 := Run(t.Context(), src, req)
		b, err2 := Run(t.Context(), shuffledSrc, req)
		return err1 == nil && err2 == nil && reflect.DeepEqual(a, b)
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}

// TestPropertyPollLogOnlyRemoves: whatever the poll log, a price it lets
// through is the one the points say; it can only turn known time into
// gaps.
func TestPropertyPollLogOnlyRemoves(t *testing.T) {
	f := func(h history, okMask uint64, every uint8) bool {
		interval := time.Duration(1+every%20) * time.Minute
		var ps []store.Poll
		for i := range 64 {
			ps = append(ps, poll("aws", time.Duration(i)*interval, okMask&(1<<i) != 0))
		}
		s := h.series("aws")
		lo, hi := t0.Add(-5*unit).UnixMilli(), t0.Add(100*unit).UnixMilli()
		without := appendSteps(nil, &s, lo, hi, nil, PerInstance)
		with := appendSteps(nil, &s, lo, hi, NewKnown(ps, 0), PerInstance)
		for _, seg := range with {
			// Every segment with the log lies in one without, same value.
			i := slices.IndexFunc(without, func(w Segment) bool { return w.Start <= seg.Start && seg.End <= w.End })
			if i < 0 || without[i].Value != seg.Value {
				t.Logf("segment %+v not within %+v", seg, without)
				return false
			}
		}
		return true
	}
	if err := quick.Check(f, quickConfig); err != nil {
		t.Error(err)
	}
}
