package export

import (
	"fmt"
	"testing"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// TestEstimate: the estimate is the exact row count of CSV and Parquet,
// and never below what OpenMetrics writes.
func TestEstimate(t *testing.T) {
	s := fixtureStore(t)
	onlyAWS := func(q *price.Quote) bool { return q.Provider == "aws" }
	for _, req := range []Request{
		{Format: CSV},
		{Format: Parquet, Query: store.Query{Start: t0.Add(m)}},
		{Format: CSV, Match: onlyAWS},
		{Format: OpenMetrics, Resolution: 2 * m, Query: store.Query{End: t0.Add(10 * m)}},
		{Format: OpenMetrics, Resolution: m, Query: store.Query{Start: t0, End: t0.Add(30 * m)}, Match: onlyAWS},
	} {
		t.Run(fmt.Sprintf("%s %+v", req.Format, req.Query), func(t *testing.T) {
			counts, err := s.Count(t.Context(), req.Query)
			if err != nil {
				t.Fatal(err)
			}
			got := Estimate(counts, req)
			_, res := export(t, s, req)
			if req.Format != OpenMetrics && got != int64(res.Samples) || got < int64(res.Samples) {
				t.Errorf("estimate %d, %s export wrote %d", got, req.Format, res.Samples)
			}
		})
	}
}
