package query

import (
	"math"
	"testing"
	"time"
)

// seg is a segment from a to b hours after t0.
func seg(a, b float64, v float64) Segment {
	return Segment{t0.Add(time.Duration(a * float64(h))).UnixMilli(), t0.Add(time.Duration(b * float64(h))).UnixMilli(), v}
}

func TestSummarize(t *testing.T) {
	// The window is t0 .. t0+6h.
	tests := []struct {
		name  string
		st    Steps
		below float64
		want  Summary
	}{
		{
			// 1 for 1h, 2 for 1h, unknown 1h, 3 for 2h, unknown 1h.
			// Known 4h of 6h. Mean (1 + 2 + 3×2)/4 = 2.25. Variance
			// (1.25² + 0.25² + 2×0.75²)/4 = 0.6875. By time, sorted:
			// 1 until 1h, 2 until 2h, 3 until 4h: p10 (0.4h) is 1, the
			// median (2h) is 2, p90 (3.6h) is 3. Below 2.5 for 2h of 4h.
			// Two changes: 1→2, and 2→3 across the gap.
			name:  "changes and a gap",
			st:    Steps{seg(0, 1, 1), seg(1, 2, 2), seg(3, 5, 3)},
			below: 2.5,
			want: Summary{Known: 4 * h, Coverage: 4.0 / 6, Min: 1, Max: 3, Mean: 2.25, Median: 2, P10: 1, P90: 3,
				Volatility: math.Sqrt(0.6875) / 2.25, Below: 2.5, ShareBelow: 0.5, Changes: 2},
		},
		{
			name:  "below is strict",
			st:    Steps{seg(0, 1, 1), seg(1, 2, 2), seg(3, 5, 3)},
			below: 2,
			want: Summary{Known: 4 * h, Coverage: 4.0 / 6, Min: 1, Max: 3, Mean: 2.25, Median: 2, P10: 1, P90: 3,
				Volatility: math.Sqrt(0.6875) / 2.25, Below: 2, ShareBelow: 0.25, Changes: 2},
		},
		{
			name:  "constant: no volatility, no change",
			st:    Steps{seg(0, 6, 5)},
			below: nan,
			want: Summary{Known: 6 * h, Coverage: 1, Min: 5, Max: 5, Mean: 5, Median: 5, P10: 5, P90: 5,
				Volatility: 0, Below: nan, ShareBelow: nan},
		},
		{
			name:  "the same price back after a gap is no change",
			st:    Steps{seg(0, 1, 2), seg(2, 3, 2)},
			below: 3,
			want: Summary{Known: 2 * h, Coverage: 2.0 / 6, Min: 2, Max: 2, Mean: 2, Median: 2, P10: 2, P90: 2,
				Volatility: 0, Below: 3, ShareBelow: 1},
		},
		{
			// Sorted by time share: 4 for 3h, 10 for 1h: the median (2h)
			// and p10 are 4, p90 (3.6h) is 10. Mean (12 + 10)/4 = 5.5.
			// Variance (3×1.5² + 4.5²)/4 = 6.75.
			name:  "quantiles weigh time, not segments",
			st:    Steps{seg(0, 1, 10), seg(1, 4, 4)},
			below: nan,
			want: Summary{Known: 4 * h, Coverage: 4.0 / 6, Min: 4, Max: 10, Mean: 5.5, Median: 4, P10: 4, P90: 10,
				Volatility: math.Sqrt(6.75) / 5.5, Below: nan, ShareBelow: nan, Changes: 1},
		},
		{
			name:  "never known",
			st:    nil,
			below: 1,
			want: Summary{Coverage: 0, Min: nan, Max: nan, Mean: nan, Median: nan, P10: nan, P90: nan,
				Volatility: nan, Below: 1, ShareBelow: nan},
		},
		{
			name:  "free then paid: a zero mean is fine when it varies",
			st:    Steps{seg(0, 2, 0), seg(2, 4, 2)},
			below: nan,
			want: Summary{Known: 4 * h, Coverage: 4.0 / 6, Min: 0, Max: 2, Mean: 1, Median: 0, P10: 0, P90: 2,
				Volatility: 1, Below: nan, ShareBelow: nan, Changes: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Summarize(tt.st, t0, t0.Add(6*h), tt.below)
			tt.want.Start, tt.want.End = t0, t0.Add(6*h)
			checkSummary(t, got, tt.want)
		})
	}
}

// checkSummary compares summaries, NaN equal to NaN and floats to 1e-12.
func checkSummary(t *testing.T, got, want Summary) {
	t.Helper()
	if !got.Start.Equal(want.Start) || !got.End.Equal(want.End) || got.Known != want.Known || got.Changes != want.Changes {
		t.Errorf("window %v..%v known %v changes %d, want %v..%v %v %d",
			got.Start, got.End, got.Known, got.Changes, want.Start, want.End, want.Known, want.Changes)
	}
	for _, f := range []struct {
		name      string
		got, want float64
	}{
		{"coverage", got.Coverage, want.Coverage}, {"min", got.Min, want.Min}, {"max", got.Max, want.Max},
		{"mean", got.Mean, want.Mean}, {"median", got.Median, want.Median}, {"p10", got.P10, want.P10},
		{"p90", got.P90, want.P90}, {"volatility", got.Volatility, want.Volatility},
		{"below", got.Below, want.Below}, {"share_below", got.ShareBelow, want.ShareBelow},
	} {
		if !near(f.got, f.want) {
			t.Errorf("%s = %v, want %v", f.name, f.got, f.want)
		}
	}
}

func near(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= 1e-12*max(1, math.Abs(b))
}
