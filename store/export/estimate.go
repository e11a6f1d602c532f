package export

import (
	"time"

	"github.com/gpuprice/gpuprice/store"
)

// Estimate returns how many rows (CSV, Parquet) or, at most, samples
// (OpenMetrics) the export req would write, from the store's counts of the
// series it selects (store.Counter with req.Query): what a server checks
// against its limit before writing any of it. The OpenMetrics bound
// assumes every price was known from its series' first point to the end,
// in both families; withdrawals and unknown stretches write fewer.
func Estimate(counts []store.SeriesCount, req Request) int64 {
	end := req.Query.End
	if end.IsZero() {
		end = req.Now
		if end.IsZero() {
			end = time.Now()
		}
	}
	res := req.Resolution
	if res <= 0 {
		res = DefaultResolution
	}
	var n int64
	for i := range counts {
		c := &counts[i]
		if req.Match != nil && !req.Match(&c.Labels) {
			continue
		}
		if req.Format != OpenMetrics {
			n += int64(c.Points)
			continue
		}
		from := c.First
		if from.Before(req.Query.Start) {
			from = req.Query.Start
		}
		repeats := int64(0)
		if end.After(from) {
			repeats = int64(end.Sub(from)/res) + 1
		}
		n += int64(len(families)) * (int64(c.Points) + repeats)
	}
	return n
}
