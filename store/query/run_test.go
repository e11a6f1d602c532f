package query

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// memSource is a Source over fixed series and polls, following the store
// contract: label equality, the point in effect at the start, then the
// points up to the end.
type memSource struct {
	series []store.Series
	polls  []store.Poll
}

func (m *memSource) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	for _, s := range m.series {
		if err := ctx.Err(); err != nil {
			return err
		}
		l := s.Labels
		if !eq(q.Provider, l.Provider) || !eq(q.GPUModel, l.GPUModel) || !eq(q.PricingModel, l.PricingModel) ||
			!eq(q.Region, l.Region) || !eq(q.Geo, l.Geo) {
			continue
		}
		var pts []store.Point
		for _, p := range s.Points {
			switch {
			case !q.End.IsZero() && p.Time.After(q.End):
			case !q.Start.IsZero() && !p.Time.After(q.Start):
				pts = append(pts[:0], p)
			default:
				pts = append(pts, p)
			}
		}
		if len(pts) > 0 {
			if err := fn(store.Series{Labels: l, Points: pts}); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memSource) Polls(_ context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	var out []store.Poll
	for _, p := range m.polls {
		if (provider == "" || p.Provider == provider) && (start.IsZero() || !p.Start.Before(start)) && (end.IsZero() || !p.Start.After(end)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func eq[T comparable](query, label T) bool {
	var zero T
	return query == zero || query == label
}

func h100(provider, region, geo string) price.Quote {
	return price.Quote{Provider: provider, InstanceType: "8x_H100", Region: region, Geo: geo, PricingModel: price.Spot,
		GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8}
}

// fixture: four H100 spot series over t0 .. t0+4h, per-GPU prices:
//
//	aws us-east-1   5 until +2h, then 6
//	aws us-west-2   4, withdrawn at +1h, back at +3h at 7
//	azure eastus    6 throughout; azure's refreshes fail from +1h30m on
//	vastai se       2 from +2h
//
// aws and vastai have no poll log; azure is refreshed every 10 minutes
// from -1h, so its price is unknown from +2h10m (30m after +1h40m,
// the last success).
func fixture() *memSource {
	m := &memSource{series: []store.Series{
		{Labels: h100("aws", "us-east-1", "na"), Points: []store.Point{at(-h, 40), at(2*h, 48)}},
		{Labels: h100("aws", "us-west-2", "na"), Points: []store.Point{at(-h, 32), withdrawn(h), at(3*h, 56)}},
		{Labels: h100("azure", "eastus", "na"), Points: []store.Point{at(-h, 48)}},
		{Labels: h100("vastai", "se", "eu"), Points: []store.Point{at(2*h, 16)}},
	}}
	for d := -h; d <= 4*h; d += 10 * time.Minute {
		m.polls = append(m.polls, poll("azure", d, d <= 100*time.Minute))
	}
	return m
}

// show renders series as "labels: +h=v ..." lines, hours after t0.
func show(series []Series) []string {
	out := []string{}
	for _, s := range series {
		var b strings.Builder
		b.WriteString(showLabels(&s.Labels))
		fmt.Fprintf(&b, " (%d):", s.Members)
		for _, sm := range s.Samples {
			fmt.Fprintf(&b, " %s=%g", sm.Time.Sub(t0), sm.Value)
		}
		out = append(out, b.String())
	}
	return out
}

func showLabels(l *price.Quote) string {
	var parts []string
	for _, n := range LabelNames {
		if v := LabelValue(l, n); v != "" {
			parts = append(parts, n+"="+v)
		}
	}
	return "{" + strings.Join(parts, ",") + "}"
}

const allH100 = "gpu_form=sxm,gpu_memory_gb=80,gpu_count=8"

func TestRun(t *testing.T) {
	base := Request{Start: t0, End: t0.Add(4 * h), Step: h}
	tests := []struct {
		name string
		edit func(*Request)
		want []string
	}{
		{"resampled: gaps from withdrawals and from the poll log", func(*Request) {}, []string{
			"{provider=aws,instance_type=8x_H100,region=us-east-1,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 0s=5 1h0m0s=5 2h0m0s=6 3h0m0s=6 4h0m0s=6",
			"{provider=aws,instance_type=8x_H100,region=us-west-2,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 0s=4 3h0m0s=7 4h0m0s=7",
			"{provider=azure,instance_type=8x_H100,region=eastus,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 0s=6 1h0m0s=6 2h0m0s=6",
			"{provider=vastai,instance_type=8x_H100,region=se,geo=eu,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 2h0m0s=2 3h0m0s=2 4h0m0s=2",
		}},
		{"per instance", func(r *Request) { r.Price, r.Query.Provider = PerInstance, "vastai" }, []string{
			"{provider=vastai,instance_type=8x_H100,region=se,geo=eu,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 2h0m0s=16 3h0m0s=16 4h0m0s=16",
		}},
		{"Match filters what the store returns", func(r *Request) {
			r.Match = func(q *price.Quote) bool { return q.Region == "us-west-2" || q.Provider == "vastai" }
			r.Agg = Min
		}, []string{
			"{instance_type=8x_H100,pricing_model=spot,gpu_model=H100," + allH100 + "} (2): 0s=4 2h0m0s=2 3h0m0s=2 4h0m0s=2",
		}},
		{"min over everything keeps the shared labels", func(r *Request) { r.Agg = Min }, []string{
			"{instance_type=8x_H100,pricing_model=spot,gpu_model=H100," + allH100 + "} (4): 0s=4 1h0m0s=5 2h0m0s=2 3h0m0s=2 4h0m0s=2",
		}},
		{"min by provider", func(r *Request) { r.Agg, r.By = Min, []string{"provider"} }, []string{
			"{provider=aws,instance_type=8x_H100,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (2): 0s=4 1h0m0s=5 2h0m0s=6 3h0m0s=6 4h0m0s=6",
			"{provider=azure,instance_type=8x_H100,region=eastus,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 0s=6 1h0m0s=6 2h0m0s=6",
			"{provider=vastai,instance_type=8x_H100,region=se,geo=eu,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 2h0m0s=2 3h0m0s=2 4h0m0s=2",
		}},
		{"max by geo", func(r *Request) { r.Agg, r.By = Max, []string{"geo"} }, []string{
			"{provider=vastai,instance_type=8x_H100,region=se,geo=eu,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 2h0m0s=2 3h0m0s=2 4h0m0s=2",
			"{instance_type=8x_H100,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (3): 0s=6 1h0m0s=6 2h0m0s=6 3h0m0s=7 4h0m0s=7",
		}},
		{"avg", func(r *Request) { r.Agg = Avg }, []string{
			"{instance_type=8x_H100,pricing_model=spot,gpu_model=H100," + allH100 + "} (4): 0s=5 1h0m0s=5.5 2h0m0s=4.666666666666667 3h0m0s=5 4h0m0s=5",
		}},
		{"p50", func(r *Request) { r.Agg = P50 }, []string{
			"{instance_type=8x_H100,pricing_model=spot,gpu_model=H100," + allH100 + "} (4): 0s=5 1h0m0s=5.5 2h0m0s=6 3h0m0s=6 4h0m0s=6",
		}},
		{"a stale_after override", func(r *Request) { r.Query.Provider, r.StaleAfter = "azure", 2*h }, []string{
			"{provider=azure,instance_type=8x_H100,region=eastus,geo=na,pricing_model=spot,gpu_model=H100," + allH100 + "} (1): 0s=6 1h0m0s=6 2h0m0s=6 3h0m0s=6",
		}},
		{"nothing matched", func(r *Request) { r.Query.GPUModel, r.Agg = "B200", Min }, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.edit(&req)
			got, err := Run(t.Context(), fixture(), req)
			if err != nil {
				t.Fatal(err)
			}
			if g := show(got); !slices.Equal(g, tt.want) {
				t.Errorf("\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(tt.want, "\n     "))
			}
		})
	}
}

func TestRunRefuses(t *testing.T) {
	base := Request{Start: t0, End: t0.Add(4 * h), Step: h}
	tests := []struct {
		name  string
		edit  func(*Request)
		limit bool
		want  string
	}{
		{"no start", func(r *Request) { r.Start = time.Time{} }, false, "query: start and end are required"},
		{"end before start", func(r *Request) { r.End = t0.Add(-h) }, false,
			"query: end 2025-06-01T11:00:00Z is before start 2025-06-01T12:00:00Z"},
		{"no step", func(r *Request) { r.Step = 0 }, false, "query: a step is required"},
		{"a step below the resolution", func(r *Request) { r.Step = time.Microsecond }, false,
			"query: step 1µs is finer than the store's resolution (1ms)"},
		{"by without agg", func(r *Request) { r.By = []string{"provider"} }, false,
			"query: by=provider groups an aggregation: agg is required"},
		{"too many steps", func(r *Request) { r.Limits.MaxPoints = 4 }, true,
			"step 1h0m0s gives 5 samples from start to end, more than the 4 allowed: increase step or shorten start..end"},
		{"too many points", func(r *Request) { r.Limits.MaxPoints = 13 }, true,
			"history would return more than the 13 points allowed: narrow the filters, shorten start..end, increase step or aggregate (agg)"},
		{"too many samples", func(r *Request) { r.Agg, r.Limits.MaxSamples = Min, 19 }, true,
			"history would take more than the 19 samples allowed (4 series so far × 5 steps): narrow the filters, shorten start..end or increase step"},
		{"a quantile holding too many samples", func(r *Request) { r.Agg, r.Limits.MaxHeld = P50, 19 }, true,
			"agg=p50 would hold more than the 19 samples allowed in memory (4 series so far × 5 steps): narrow the filters, shorten start..end, increase step, or use min, max or avg"},
		{"too many groups", func(r *Request) { r.Agg, r.By, r.Limits.MaxPoints = Min, []string{"provider"}, 14 }, true,
			"history would return more than the 14 points allowed (3 groups so far × 5 steps): group by fewer labels, narrow the filters, shorten start..end or increase step"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := base
			tt.edit(&req)
			_, err := Run(t.Context(), fixture(), req)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Run: %v\nwant %s", err, tt.want)
			}
			var le *LimitError
			if errors.As(err, &le) != tt.limit {
				t.Errorf("LimitError: %t, want %t", !tt.limit, tt.limit)
			}
		})
	}
	// Within the bounds, the same requests pass.
	req := base
	req.Limits = Limits{MaxPoints: 14, MaxSamples: 20}
	if _, err := Run(t.Context(), fixture(), req); err != nil {
		t.Errorf("14 points, 20 samples: %v", err)
	}
	req.Agg, req.Limits.MaxHeld = P90, 20
	if _, err := Run(t.Context(), fixture(), req); err != nil {
		t.Errorf("p90 holding 20 samples: %v", err)
	}
}

func TestStats(t *testing.T) {
	src := fixture()
	t.Run("exact step functions", func(t *testing.T) {
		got, err := Stats(t.Context(), src, Request{Start: t0, End: t0.Add(4 * h), Query: store.Query{Provider: "aws"}}, 5.5)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 {
			t.Fatalf("%d summaries, want 2", len(got))
		}
		// us-east-1: 5 for 2h, 6 for 2h.
		checkSummary(t, got[0].Summary, Summary{Start: t0, End: t0.Add(4 * h), Known: 4 * h, Coverage: 1,
			Min: 5, Max: 6, Mean: 5.5, Median: 5, P10: 5, P90: 6, Volatility: 0.5 / 5.5, Below: 5.5, ShareBelow: 0.5, Changes: 1})
		// us-west-2: 4 for 1h, withdrawn 2h, 7 for 1h.
		checkSummary(t, got[1].Summary, Summary{Start: t0, End: t0.Add(4 * h), Known: 2 * h, Coverage: 0.5,
			Min: 4, Max: 7, Mean: 5.5, Median: 4, P10: 4, P90: 7, Volatility: 1.5 / 5.5, Below: 5.5, ShareBelow: 0.5, Changes: 1})
	})
	t.Run("the poll log cuts a price short", func(t *testing.T) {
		got, err := Stats(t.Context(), src, Request{Start: t0, End: t0.Add(4 * h), Query: store.Query{Provider: "azure"}}, nan)
		if err != nil {
			t.Fatal(err)
		}
		// Known until 30m after the last successful refresh at +1h40m.
		if len(got) != 1 || got[0].Known != 130*time.Minute || got[0].Mean != 6 {
			t.Fatalf("got %+v, want 2h10m known at 6", got)
		}
	})
	t.Run("the cheapest per step, summarized", func(t *testing.T) {
		got, err := Stats(t.Context(), src, Request{Start: t0, End: t0.Add(4 * h), Step: h, Agg: Min}, nan)
		if err != nil {
			t.Fatal(err)
		}
		// Samples 4 5 2 2 2, each for an hour of the 5h grid.
		if len(got) != 1 || got[0].Members != 4 {
			t.Fatalf("got %+v", got)
		}
		checkSummary(t, got[0].Summary, Summary{Start: t0, End: t0.Add(5 * h), Known: 5 * h, Coverage: 1,
			Min: 2, Max: 5, Mean: 3, Median: 2, P10: 2, P90: 5, Volatility: 1.2649110640673518 / 3, Below: nan, ShareBelow: nan, Changes: 2})
	})
}

// TestLoadKnownChunks reads a poll log that spans several of LoadKnown's
// chunks, with refreshes on the chunk boundaries, and compares with the
// whole log reduced at once.
func TestLoadKnownChunks(t *testing.T) {
	src := &memSource{}
	start, end := t0, t0.Add(3*Lookback+time.Hour)
	for d := -Lookback - time.Hour; d <= 3*Lookback+2*time.Hour; d += 30 * time.Minute {
		// Fail for a day from a chunk boundary (t0+Lookback) on.
		ok := d < Lookback || d >= Lookback+24*time.Hour
		src.polls = append(src.polls, store.Poll{Provider: "aws", Start: t0.Add(d), Duration: time.Second, OK: ok})
	}
	got, err := LoadKnown(t.Context(), src, start, end, 0)
	if err != nil {
		t.Fatal(err)
	}
	inRange, _ := src.Polls(t.Context(), "", start.Add(-Lookback), end)
	want := NewKnown(inRange, 0)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("chunked\n%+v\nwhole\n%+v", got.providers["aws"], want.providers["aws"])
	}
	if x, _ := got.StaleAfter("aws"); x != 90*time.Minute {
		t.Errorf("X = %v, want 90m", x)
	}
	if n := len(got.providers["aws"].spans); n != 2 {
		t.Errorf("%d spans, want 2 (one gap of a day)", n)
	}
}
