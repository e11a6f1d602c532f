package store

import (
	"context"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// SeriesCount is what History would return of one series, without its
// points: their number and the times of the first and last.
type SeriesCount struct {
	Labels      price.Quote
	Points      int
	First, Last time.Time
}

// Counter is implemented by Readers that can tell how large a History
// answer would be without reading its points, so that a bulk export beyond
// a limit is refused before any of it is written. A Reader without it is
// exported unbounded.
type Counter interface {
	// Count returns, for each series History(ctx, q) would return and in
	// the same order, its number of points (the one in effect at q.Start
	// included) and their first and last times.
	Count(ctx context.Context, q Query) ([]SeriesCount, error)
}
