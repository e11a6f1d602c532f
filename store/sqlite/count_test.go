package sqlite

import (
	"fmt"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// TestCount: Count tells, for every query, what History returns: the same
// series, their number of points and the first and last times.
func TestCount(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	q := func(zone string, usd float64) price.Quote {
		return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: zone,
			PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, USDPerHour: usd}
	}
	for minute, quotes := range [][]price.Quote{
		{q("us-east-1a", 30), q("us-east-1b", 31)},
		{q("us-east-1a", 32), q("us-east-1b", 31)},
		{q("us-east-1a", 33)}, // 1b withdrawn
		{q("us-east-1a", 34), q("us-east-1b", 35), q("us-east-1c", 36)},
	} {
		end := t0.Add(time.Duration(minute) * time.Minute)
		if _, err := s.Record(ctx, store.Poll{Provider: "aws", Start: end, OK: true, Quotes: len(quotes)},
			&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []store.Query{
		{},
		{Start: t0.Add(90 * time.Second)},
		{Start: t0.Add(time.Minute), End: t0.Add(2 * time.Minute)},
		{Zone: "us-east-1b"},
		{End: t0.Add(-time.Hour)},
		{Provider: "azure"},
	} {
		t.Run(fmt.Sprintf("%+v", tc), func(t *testing.T) {
			series, err := s.History(ctx, tc)
			if err != nil {
				t.Fatal(err)
			}
			counts, err := s.Count(ctx, tc)
			if err != nil {
				t.Fatal(err)
			}
			if len(counts) != len(series) {
				t.Fatalf("%d counts, %d series", len(counts), len(series))
			}
			for i, sr := range series {
				c := counts[i]
				if c.Labels.Key() != sr.Labels.Key() || c.Points != len(sr.Points) ||
					!c.First.Equal(sr.Points[0].Time) || !c.Last.Equal(sr.Points[len(sr.Points)-1].Time) {
					t.Errorf("series %d: count %+v, history %d points %s..%s", i, c, len(sr.Points), sr.Points[0].Time, sr.Points[len(sr.Points)-1].Time)
				}
			}
		})
	}
}
