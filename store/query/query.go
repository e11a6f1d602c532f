// Package query turns the store's change-only history into answers: each
// series as a step function over a window, resampled on a regular grid,
// aggregated across series (min, max, avg, p10, p50, p90, grouped by
// labels), and summarized (min, max, time-weighted mean and quantiles,
// volatility, share of time below a threshold, number of changes).
//
// Everything here is a pure function of store.Series and store.Poll values,
// except Run, Stats and LoadKnown, which read them from a Source (a
// store.Store, or sqlite.OpenReader): the series one at a time, the poll log
// a week at a time, so that memory grows with the answer, not with the
// history read. The HTTP API, the history command and
// the break-even planner share this package.
//
// # When a price is known
//
// A series' points make a step function: a price holds from its point
// until the series' next point. A withdrawal point (the series left a
// successful refresh) starts a gap. A price is also unknown once nothing
// has vouched for it for longer than the provider's staleness X: what
// vouches for a price is its own point (a refresh that saw it change, or a
// backfilled point) and every successful refresh of its provider in the
// poll log, each for X after it ended. So the price at t is known when
//
//	the latest point at or before t is a price (not a withdrawal), and
//	that point, or a successful refresh of the provider, is at most X before t.
//
// X is Request.StaleAfter when set, else 3 × the median spacing between
// the provider's logged refreshes (the default stale_after is 3 × interval),
// or DefaultStaleAfter when fewer than two are logged. Before a provider's
// first logged refresh there is no log to go by (a backfilled history, such
// as AWS spot prices, predates the daemon): its points hold until the next
// one. A provider with no refresh logged at all is taken on its points
// alone. The log is read from Lookback before the window on; a refresh
// older than that does not count.
//
// # Units and resolution
//
// Prices are USD per hour, either per GPU (usd_per_hour / gpu_count, a
// series with no GPU count has none) or per instance: see Price. Times are
// kept in unix milliseconds, the store's resolution.
package query

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Source is what queries read: the history, one series at a time, and the
// poll log. store.Store and store.Reader implement it.
type Source interface {
	HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error
	Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error)
}

// scan calls fn with the series of q, lent when src is a store.Scanner:
// fn must not keep a series' Points.
func scan(ctx context.Context, src Source, q store.Query, fn func(store.Series) error) error {
	if sc, ok := src.(store.Scanner); ok {
		return sc.HistoryScan(ctx, q, fn)
	}
	return src.HistoryEach(ctx, q, fn)
}

// Price selects which price of a series a query works on.
type Price int

const (
	// PerGPU is the price per GPU-hour: usd_per_hour / gpu_count, the
	// value of gpuprice_gpu_usd_per_hour. A series whose GPU count is
	// unknown (0) has no per-GPU price.
	PerGPU Price = iota
	// PerInstance is the price of the whole instance per hour, the value
	// of gpuprice_instance_usd_per_hour.
	PerInstance
)

// ParsePrice reads "gpu" or "instance" ("" is gpu).
func ParsePrice(s string) (Price, error) {
	switch s {
	case "", "gpu":
		return PerGPU, nil
	case "instance":
		return PerInstance, nil
	}
	return 0, fmt.Errorf("price %q is not gpu or instance", s)
}

// String is the name ParsePrice reads.
func (p Price) String() string {
	if p == PerInstance {
		return "instance"
	}
	return "gpu"
}

// Metric is the name of the metric whose value the price is.
func (p Price) Metric() string {
	if p == PerInstance {
		return "gpuprice_instance_usd_per_hour"
	}
	return "gpuprice_gpu_usd_per_hour"
}

// Field is the price's field name in answers (DESIGN §3).
func (p Price) Field() string {
	if p == PerInstance {
		return "usd_per_hour"
	}
	return "gpu_usd_per_hour"
}

// Of is the price of an instance costing usd per hour with gpuCount GPUs;
// NaN for PerGPU when gpuCount is not positive.
func (p Price) Of(usd, gpuCount float64) float64 {
	if p == PerInstance {
		return usd
	}
	if !(gpuCount > 0) {
		return nan
	}
	return usd / gpuCount
}

// Limits bound what one request may cost. A request that would exceed them
// is refused with a *LimitError before its answer is written.
type Limits struct {
	// MaxPoints bounds the points of an answer: samples of resampled or
	// aggregated series. Default 1,000,000.
	MaxPoints int
	// MaxSamples bounds the samples taken to compute an answer: matched
	// series × steps. Sampling costs a few nanoseconds a sample (reading
	// the points from the store costs more), so this bounds the work of
	// an aggregation over many series. Default 100,000,000.
	MaxSamples int
	// MaxHeld bounds the samples held in memory at once: p10, p50 and
	// p90 keep every sample of every series (8 bytes each) until the
	// end. Default 10,000,000 (80 MB).
	MaxHeld int
}

// DefaultLimits are the limits of the zero Limits.
var DefaultLimits = Limits{MaxPoints: 1_000_000, MaxSamples: 100_000_000, MaxHeld: 10_000_000}

func (l Limits) withDefaults() Limits {
	if l.MaxPoints <= 0 {
		l.MaxPoints = DefaultLimits.MaxPoints
	}
	if l.MaxSamples <= 0 {
		l.MaxSamples = DefaultLimits.MaxSamples
	}
	if l.MaxHeld <= 0 {
		l.MaxHeld = DefaultLimits.MaxHeld
	}
	return l
}

// LimitError is a request refused by Limits (or by StepCount); its message
// says how to narrow the request.
type LimitError struct{ msg string }

func (e *LimitError) Error() string { return e.msg }

func limitf(format string, args ...any) error {
	return &LimitError{fmt.Sprintf(format, args...)}
}

// Grid is the sample times Start, Start+Step, ... of a resampled query: N
// times, the last at or before the window's end.
type Grid struct {
	Start time.Time
	Step  time.Duration
	N     int
}

// StepCount is the number of grid times from start to end (both
// included when aligned) at step; 0 when end is before start.
func StepCount(start, end time.Time, step time.Duration) int {
	if end.Before(start) || step <= 0 {
		return 0
	}
	return int(end.Sub(start)/step) + 1
}

// NewGrid returns the grid from start to end at step.
func NewGrid(start, end time.Time, step time.Duration) Grid {
	return Grid{Start: start, Step: step, N: StepCount(start, end, step)}
}

// Time is the grid's i-th time.
func (g Grid) Time(i int) time.Time { return g.Start.Add(time.Duration(i) * g.Step) }

// times is every time of the grid in unix milliseconds.
func (g Grid) times() []int64 {
	ts := make([]int64, g.N)
	for i := range ts {
		ts[i] = g.Time(i).UnixMilli()
	}
	return ts
}

// Sample is one value of a resampled series.
type Sample struct {
	Time  time.Time
	Value float64
}

// LabelNames are the labels series can be grouped by (Request.By), in
// DESIGN §3 order: the labels of gpuprice_gpu_usd_per_hour.
var LabelNames = price.LabelNames(price.SeriesLabels)

// ParseBy checks label names for Request.By; "" and duplicates are
// dropped.
func ParseBy(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		if n == "" || slices.Contains(out, n) {
			continue
		}
		if !slices.Contains(LabelNames, n) {
			return nil, fmt.Errorf("%q is not a label; group by any of %s", n, strings.Join(LabelNames, ", "))
		}
		out = append(out, n)
	}
	return out, nil
}
