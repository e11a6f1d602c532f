package query

import (
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

const h = time.Hour

// t0 is the tests' origin; at(d) is a point d after it.
var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func at(d time.Duration, usd float64) store.Point {
	return store.Point{Time: t0.Add(d), USDPerHour: usd}
}
func withdrawn(d time.Duration) store.Point { return store.Point{Time: t0.Add(d), Withdrawn: true} }

// poll is a refresh of provider that ended d after t0 and took a second.
func poll(provider string, d time.Duration, ok bool) store.Poll {
	return store.Poll{Provider: provider, Start: t0.Add(d - time.Second), Duration: time.Second, OK: ok}
}

// polls are refreshes of provider every 10 minutes from t0 (minute 0)
// on, ok except at the minutes listed as failed.
func polls(provider string, last int, failed ...int) []store.Poll {
	var out []store.Poll
	for m := 0; m <= last; m += 10 {
		ok := true
		for _, f := range failed {
			ok = ok && f != m
		}
		out = append(out, poll(provider, time.Duration(m)*time.Minute, ok))
	}
	return out
}

// render shows segments as "[from,to)=value" with times relative to t0.
func render(st Steps) string {
	var parts []string
	for _, s := range st {
		parts = append(parts, fmt.Sprintf("[%s,%s)=%g", rel(s.Start), rel(s.End), s.Value))
	}
	return strings.Join(parts, " ")
}

func rel(ms int64) string { return time.UnixMilli(ms).Sub(t0).String() }

func series(count float64, points ...store.Point) *store.Series {
	return &store.Series{Labels: price.Quote{Provider: "aws", GPUCount: count}, Points: points}
}

func TestNewKnown(t *testing.T) {
	m := time.Minute
	tests := []struct {
		name     string
		polls    []store.Poll
		override time.Duration
		stale    time.Duration // aws's X
		spans    []span        // relative to t0, in minutes
	}{
		{"every 10m: X is 30m, failures make a gap once X has passed",
			polls("aws", 80, 30, 40, 50, 60), 0, 30 * m, []span{{0, 50}, {70, 110}}},
		{"an override replaces X",
			polls("aws", 80, 30, 40, 50, 60), 15 * m, 15 * m, []span{{0, 35}, {70, 95}}},
		{"a single refresh: the default",
			[]store.Poll{poll("aws", 0, true)}, 0, DefaultStaleAfter, []span{{0, 180}}},
		{"failed refreshes count for the interval, not for the spans",
			polls("aws", 30, 0, 10), 0, 30 * m, []span{{20, 60}}},
		{"the median spacing ignores a long pause",
			append(polls("aws", 20), poll("aws", 300*m, true), poll("aws", 310*m, true)), 0, 30 * m,
			[]span{{0, 50}, {300, 340}}},
		{"unordered input",
			[]store.Poll{poll("aws", 20*m, true), poll("aws", 0, true), poll("aws", 10*m, true)}, 0, 30 * m, []span{{0, 50}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Another provider's log must not interfere.
			k := NewKnown(append(tt.polls, polls("azure", 600)...), tt.override)
			x, ok := k.StaleAfter("aws")
			if !ok || x != tt.stale {
				t.Errorf("StaleAfter = %v, %t; want %v", x, ok, tt.stale)
			}
			var got []span
			for _, s := range k.providers["aws"].spans {
				got = append(got, span{(s.from - t0.UnixMilli()) / 60000, (s.to - t0.UnixMilli()) / 60000})
			}
			if !reflect.DeepEqual(got, tt.spans) {
				t.Errorf("spans (minutes) %v, want %v", got, tt.spans)
			}
			if first := k.providers["aws"].first; first != firstEnd(tt.polls).UnixMilli() {
				t.Errorf("first = %s, want the end of the earliest refresh", rel(first))
			}
		})
	}
	if _, ok := NewKnown(nil, 0).StaleAfter("aws"); ok {
		t.Error("an empty log knows aws")
	}
	if _, ok := (*Known)(nil).StaleAfter("aws"); ok {
		t.Error("a nil Known knows aws")
	}
}

func firstEnd(ps []store.Poll) time.Time {
	first := ps[0].End()
	for _, p := range ps {
		if p.End().Before(first) {
			first = p.End()
		}
	}
	return first
}

func TestStepsOf(t *testing.T) {
	m := time.Minute
	// aws is refreshed every 10 minutes from t0 to +80m, failing from
	// +30m to +60m: its log vouches for [0, 50m) and [70m, 110m).
	log := NewKnown(polls("aws", 80, 30, 40, 50, 60), 0)
	tests := []struct {
		name   string
		k      *Known
		s      *store.Series
		p      Price
		window [2]time.Duration
		want   string
	}{
		{"no log: a price holds until the next point",
			nil, series(8, at(-2*h, 8), at(30*m, 16)), PerInstance, [2]time.Duration{-3 * h, 3 * h},
			"[-2h0m0s,30m0s)=8 [30m0s,3h0m0s)=16"},
		{"clipped to the window",
			nil, series(8, at(-2*h, 8), at(30*m, 16)), PerInstance, [2]time.Duration{0, h},
			"[0s,30m0s)=8 [30m0s,1h0m0s)=16"},
		{"per GPU",
			nil, series(8, at(-2*h, 8), at(30*m, 16)), PerGPU, [2]time.Duration{0, h},
			"[0s,30m0s)=1 [30m0s,1h0m0s)=2"},
		{"no GPU count: no per-GPU price",
			nil, series(0, at(-2*h, 8)), PerGPU, [2]time.Duration{0, h}, ""},
		{"no GPU count: an instance price",
			nil, series(0, at(-2*h, 8)), PerInstance, [2]time.Duration{0, h}, "[0s,1h0m0s)=8"},
		{"a withdrawal is a gap until the next price",
			nil, series(1, at(-2*h, 8), withdrawn(10*m), at(20*m, 9)), PerInstance, [2]time.Duration{0, h},
			"[0s,10m0s)=8 [20m0s,1h0m0s)=9"},
		{"withdrawn for good",
			nil, series(1, at(-2*h, 8), withdrawn(10*m)), PerInstance, [2]time.Duration{0, h}, "[0s,10m0s)=8"},
		{"not started yet",
			nil, series(1, at(2*h, 8)), PerInstance, [2]time.Duration{0, h}, ""},
		{"a free price is a price",
			nil, series(1, at(0, 0)), PerInstance, [2]time.Duration{0, h}, "[0s,1h0m0s)=0"},
		{"equal prices on both sides of a point merge",
			nil, series(1, at(0, 3), at(10*m, 3)), PerInstance, [2]time.Duration{0, h}, "[0s,1h0m0s)=3"},
		{"backfill before the first refresh holds; failures then make a gap",
			log, series(1, at(-2*h, 8)), PerInstance, [2]time.Duration{-3 * h, 3 * h},
			"[-2h0m0s,50m0s)=8 [1h10m0s,1h50m0s)=8"},
		{"a point vouches for its price for X after it",
			log, series(1, at(-2*h, 8), at(55*m, 9)), PerInstance, [2]time.Duration{-3 * h, 3 * h},
			"[-2h0m0s,50m0s)=8 [55m0s,1h50m0s)=9"},
		{"a gap splits equal prices and they stay apart",
			log, series(1, at(0, 8), at(80*m, 8.5)), PerInstance, [2]time.Duration{0, 3 * h},
			"[0s,50m0s)=8 [1h10m0s,1h20m0s)=8 [1h20m0s,1h50m0s)=8.5"},
		{"a provider without a log is taken on its points",
			log, &store.Series{Labels: price.Quote{Provider: "vastai", GPUCount: 1}, Points: []store.Point{at(0, 8)}}, PerInstance,
			[2]time.Duration{0, 3 * h}, "[0s,3h0m0s)=8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(StepsOf(tt.s, t0.Add(tt.window[0]), t0.Add(tt.window[1]), tt.k, tt.p))
			if got != tt.want {
				t.Errorf("\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestStepCount(t *testing.T) {
	tests := []struct {
		name       string
		start, end time.Duration
		step       time.Duration
		want       int
	}{
		{"start equals end", 0, 0, h, 1},
		{"aligned end is included", 0, 6 * h, h, 7},
		{"unaligned end is not passed", 0, 6*h + 59*time.Minute, h, 7},
		{"step longer than the range", 0, h, 24 * h, 1},
		{"end before start", h, 0, h, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := StepCount(t0.Add(tt.start), t0.Add(tt.end), tt.step); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestSample(t *testing.T) {
	g := NewGrid(t0, t0.Add(4*h), h) // t0 .. t0+4h
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
			// Built over [start, end] as Run does: the last sample is at end.
			st := appendSteps(nil, series(1, tt.points...), t0.UnixMilli(), t0.Add(4*h).UnixMilli()+1, nil, PerInstance)
			if got := st.Sample(g, nil); !sameFloats(got, tt.want) {
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

func TestFromSamples(t *testing.T) {
	got := render(FromSamples([]Sample{{t0, 1}, {t0.Add(h), 1}, {t0.Add(2 * h), nan}, {t0.Add(3 * h), 2}}, h))
	if want := "[0s,2h0m0s)=1 [3h0m0s,4h0m0s)=2"; got != want {
		t.Errorf("\n got %s\nwant %s", got, want)
	}
}
