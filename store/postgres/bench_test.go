package postgres

import (
	"fmt"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

// The benchmarks are those of store/sqlite, on the same data, against the
// package's server, which runs with PostgreSQL's durable defaults (fsync,
// synchronous commit) when benchmarking (see pgtest).

var benchBase = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// benchQuote is series j of a large provider: 8-GPU spot instances over
// many zones.
func benchQuote(j int) price.Quote {
	return price.Quote{
		Provider: "aws", InstanceType: fmt.Sprintf("p%d.48xlarge", j%7), Region: fmt.Sprintf("region-%d", j%31),
		Zone: fmt.Sprintf("zone-%06d", j), Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm",
		GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 20 + float64(j%1000)/100,
	}
}

// openBench opens a store in a fresh schema.
func openBench(b *testing.B, name string) *Store {
	b.Helper()
	s, err := Open(b.Context(), pgtest.Get(b).Schema(b, name), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBackfill writes one million points (10k series × 100 hourly
// points, as an AWS spot history arrives) into an empty store.
func BenchmarkBackfill(b *testing.B) {
	const series, perSeries = 10000, 100
	quotes := make([]price.Quote, 0, series*perSeries)
	for j := range series {
		q := benchQuote(j)
		for k := range perSeries {
			q.USDPerHour = 20 + float64((j+k)%97)/10
			q.EffectiveAt = benchBase.Add(time.Duration(k) * time.Hour)
			quotes = append(quotes, q)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := openBench(b, pgtest.Unique(b))
		b.StartTimer()
		res, err := s.Backfill(b.Context(), quotes)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Points != len(quotes) || res.NewSeries != series {
			b.Fatalf("Backfill: %+v", res)
		}
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(quotes))/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkRecord records refreshes of a 100k-quote provider in which 1% of
// the prices changed since the last one: the steady state of a large
// collector. ms/refresh is the time to commit one.
func BenchmarkRecord(b *testing.B) {
	const n = 100000
	s, quotes := benchStore(b, n)
	defer s.Close()
	points := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		for j := i % 100; j < n; j += 100 {
			quotes[j].USDPerHour += 0.01
		}
		b.StartTimer()
		res := benchRecord(b, s, i+1, quotes)
		points += res.Points
	}
	b.StopTimer()
	if points != b.N*n/100 {
		b.Fatalf("%d points written, want %d", points, b.N*n/100)
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/refresh")
}

// BenchmarkRecordFirst records the first refresh of a 100k-quote provider
// into an empty store: 100k new series and points in one transaction.
func BenchmarkRecordFirst(b *testing.B) {
	const n = 100000
	quotes := make([]price.Quote, n)
	for j := range quotes {
		quotes[j] = benchQuote(j)
	}
	for range b.N {
		b.StopTimer()
		s := openBench(b, pgtest.Unique(b))
		b.StartTimer()
		benchRecord(b, s, 0, quotes)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
}

// BenchmarkOpen opens a store of 100k series, loading their last points:
// the restart cost.
func BenchmarkOpen(b *testing.B) {
	const n = 100000
	name := pgtest.Unique(b)
	s, _ := benchStoreNamed(b, name, n)
	s.Close()
	b.ResetTimer()
	for range b.N {
		s := openBench(b, name)
		if s.mem.Len() != n {
			b.Fatalf("%d series loaded, want %d", s.mem.Len(), n)
		}
		s.Close()
	}
}

// benchStore opens a store holding one refresh of n quotes.
func benchStore(b *testing.B, n int) (*Store, []price.Quote) {
	return benchStoreNamed(b, pgtest.Unique(b), n)
}

func benchStoreNamed(b *testing.B, name string, n int) (*Store, []price.Quote) {
	b.Helper()
	s := openBench(b, name)
	quotes := make([]price.Quote, n)
	for j := range quotes {
		quotes[j] = benchQuote(j)
	}
	benchRecord(b, s, 0, quotes)
	return s, quotes
}

func benchRecord(b *testing.B, s *Store, minute int, quotes []price.Quote) store.Result {
	b.Helper()
	end := benchBase.Add(time.Duration(minute) * time.Minute)
	res, err := s.Record(b.Context(), store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
		&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes})
	if err != nil {
		b.Fatal(err)
	}
	return res
}
