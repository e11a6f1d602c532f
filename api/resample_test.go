package api

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

func TestSampleCount(t *testing.T) {
	tests := []struct {
		name       string
		start, end time.Duration
		step       time.Duration
		want       int
	}{
		{"start equals end", 0, 0, time.Hour, 1},
		{"aligned end is included", 0, 6 * time.Hour, time.Hour, 7},
		{"unaligned end is not passed", 0, 6*time.Hour + 59*time.Minute, time.Hour, 7},
		{"step longer than the range", 0, time.Hour, 24 * time.Hour, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sampleCount(t0.Add(tt.start), t0.Add(tt.end), tt.step); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestStepValues(t *testing.T) {
	h := time.Hour
	ts := sampleTimes(t0, h, 5) // t0 .. t0+4h
	tests := []struct {
		name   string
		points []store.Point
		want   []float64
	}{
		{"no points", nil, []float64{nan, nan, nan, nan, nan}},
		{"constant resamples to itself", []store.Point{at(-h, 3)}, []float64{3, 3, 3, 3, 3}},
		{"a point exactly at a sample time counts", []store.Point{at(2*h, 3)}, []float64{nan, nan, 3, 3, 3}},
		{"the last of several points before a sample wins",
			[]store.Point{at(-h, 1), at(30*time.Minute, 2), at(45*time.Minute, 3)}, []float64{1, 3, 3, 3, 3}},
		{"a withdrawal is a gap until the next price",
			[]store.Point{at(-h, 1), withdrawn(h), at(3*h, 2)}, []float64{1, nan, nan, 2, 2}},
		{"a withdrawal between samples hides the price before it",
			[]store.Point{at(-h, 1), withdrawn(90 * time.Minute), at(110*time.Minute, 4)}, []float64{1, 1, 4, 4, 4}},
		{"points after the last sample are ignored", []store.Point{at(0, 1), at(5*h, 9)}, []float64{1, 1, 1, 1, 1}},
		{"a free price is a price", []store.Point{at(0, 0)}, []float64{0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := stepValues(tt.points, ts)
			if !sameFloats(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// sameFloats compares float slices, NaN equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
	}
	return true
}

func TestQuantile(t *testing.T) {
	tests := []struct {
		name string
		vs   []float64
		want float64
	}{
		{"one value", []float64{7}, 7},
		{"two values: midway", []float64{3, 1}, 2},
		{"odd count: the middle", []float64{3, 1, 2}, 2},
		{"even count: between the middle two", []float64{4, 1, 3, 2}, 2.5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantile(tt.vs, 0.5); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestAggregateBounds checks that at every sample time min is at most, and
// max at least, the price of each series that has one, and that avg and
// p50 lie between them.
func TestAggregateBounds(t *testing.T) {
	h := time.Hour
	labels := price.Quote{GPUModel: "H100", GPUCount: 8}
	series := []store.Series{
		{Labels: labels, Points: []store.Point{at(-h, 30), at(2*h, 50), withdrawn(5 * h), at(7*h, 20)}},
		{Labels: labels, Points: []store.Point{at(h, 40), at(3*h, 10), at(6*h, 60)}},
		{Labels: labels, Points: []store.Point{at(-3*h, 45), withdrawn(4 * h)}},
	}
	ts := sampleTimes(t0, h, 9)
	grid := make([][]float64, len(series))
	for i, s := range series {
		grid[i] = stepValues(s.Points, ts)
	}
	result := map[string]map[time.Time]sample{}
	for agg := range aggregators {
		got := aggregate(series, ts, agg)
		if len(got) != 1 {
			t.Fatalf("%s: %d series", agg, len(got))
		}
		result[agg] = map[time.Time]sample{}
		for _, s := range got[0].samples {
			result[agg][s.t] = s
		}
	}
	for k, tm := range ts {
		lo, hi := result["min"][tm], result["max"][tm]
		for i := range series {
			v := grid[i][k]
			if math.IsNaN(v) {
				continue
			}
			if lo.usd > v || lo.gpu > v/8 {
				t.Errorf("%v: min %v > series %d's %v", tm, lo.usd, i, v)
			}
			if hi.usd < v || hi.gpu < v/8 {
				t.Errorf("%v: max %v < series %d's %v", tm, hi.usd, i, v)
			}
		}
		for _, agg := range []string{"avg", "p50"} {
			if s := result[agg][tm]; s.usd < lo.usd || s.usd > hi.usd {
				t.Errorf("%v: %s %v outside [%v, %v]", tm, agg, s.usd, lo.usd, hi.usd)
			}
		}
	}
	// Hand-computed: at +4h the third series is withdrawn, the first is
	// at 50 and the second at 10.
	if got := result["min"][t0.Add(4*h)]; got.usd != 10 || got.gpu != 1.25 {
		t.Errorf("min at +4h = %+v, want 10 (1.25 per GPU)", got)
	}
	if got := result["avg"][t0.Add(4*h)]; got.usd != 30 {
		t.Errorf("avg at +4h = %v, want 30", got.usd)
	}
}

func TestCommonLabels(t *testing.T) {
	a := price.Quote{Provider: "aws", Region: "us-east-1", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80, GPUCount: 8}
	b := price.Quote{Provider: "aws", Region: "us-west-2", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80, GPUCount: 4}
	got := commonLabels([]store.Series{{Labels: a}, {Labels: b}})
	want := price.Quote{Provider: "aws", Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUMemoryGB: 80}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("\n got %+v\nwant %+v", got, want)
	}
}
