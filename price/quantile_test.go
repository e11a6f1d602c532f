package price

import (
	"math"
	"testing"
)

// TestQuantile checks the interpolation against values worked out by hand
// with h = (n−1)·p.
func TestQuantile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []float64
		p      float64
		want   float64
	}{
		{"one value", []float64{2.5}, 0.9, 2.5},
		{"two values, p10: h=0.1", []float64{10, 20}, 0.1, 11},
		{"two values, p90: h=0.9", []float64{10, 20}, 0.9, 19},
		{"four values, p10: h=0.3", []float64{1, 2, 3, 4}, 0.1, 1.3},
		{"four values, p50: h=1.5", []float64{1, 2, 3, 4}, 0.5, 2.5},
		{"four values, p90: h=2.7", []float64{1, 2, 3, 4}, 0.9, 3.7},
		{"five values, p50 is the middle", []float64{1, 2, 3, 4, 100}, 0.5, 3},
		{"five values, p90: h=3.6", []float64{1, 2, 3, 4, 100}, 0.9, 61.6},
		{"eleven values, p10 on a rank: h=1", []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, 0.1, 1},
		{"ties", []float64{3, 3, 3, 7}, 0.5, 3},
		{"p0 and p100 are min and max", []float64{1, 5, 9}, 1, 9},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quantile(tt.sorted, tt.p); math.Abs(got-tt.want) > 1e-12 {
				t.Errorf("Quantile(%v, %g) = %g, want %g", tt.sorted, tt.p, got, tt.want)
			}
		})
	}
}
