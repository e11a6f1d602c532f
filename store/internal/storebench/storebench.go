// Package storebench is the write benchmarks every store runs on the same
// data (store/sqlite, store/postgres), so that their figures compare: a
// sorted 1M-point backfill, a 100k-quote refresh with 1% changes, and the
// first refresh of 100k quotes.
package storebench

import (
	"fmt"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

// Opener opens a new, empty store.
type Opener func(b *testing.B) store.Store

// Base is the time of the benchmarks' first point.
var Base = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// Quote is series j of a large provider: 8-GPU spot instances over many
// zones.
func Quote(j int) price.Quote {
	return price.Quote{
		Provider: "aws", InstanceType: fmt.Sprintf("p%d.48xlarge", j%7), Region: fmt.Sprintf("region-%d", j%31),
		Zone: fmt.Sprintf("zone-%06d", j), Geo: "na", PricingModel: price.Spot, GPUModel: "H100", GPUForm: "sxm",
		GPUMemoryGB: 80, GPUCount: 8, USDPerHour: 20 + float64(j%1000)/100,
	}
}

// Backfill writes one million points (10k series × 100 hourly points, as
// an AWS spot history arrives) into an empty store.
func Backfill(b *testing.B, open Opener) {
	const series, perSeries = 10000, 100
	quotes := make([]price.Quote, 0, series*perSeries)
	for j := range series {
		q := Quote(j)
		for k := range perSeries {
			q.USDPerHour = 20 + float64((j+k)%97)/10
			q.EffectiveAt = Base.Add(time.Duration(k) * time.Hour)
			quotes = append(quotes, q)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := open(b)
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

// Record records refreshes of a 100k-quote provider in which 1% of the
// prices changed since the last one: the steady state of a large
// collector. ms/refresh is the time to commit one.
func Record(b *testing.B, open Opener) {
	const n = 100000
	s, quotes := Loaded(b, open, n)
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
		res := Refresh(b, s, i+1, quotes)
		points += res.Points
	}
	b.StopTimer()
	if points != b.N*n/100 {
		b.Fatalf("%d points written, want %d", points, b.N*n/100)
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/refresh")
}

// RecordFirst records the first refresh of a 100k-quote provider into an
// empty store: 100k new series and points in one transaction.
func RecordFirst(b *testing.B, open Opener) {
	const n = 100000
	quotes := make([]price.Quote, n)
	for j := range quotes {
		quotes[j] = Quote(j)
	}
	for range b.N {
		b.StopTimer()
		s := open(b)
		b.StartTimer()
		Refresh(b, s, 0, quotes)
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "points/s")
}

// Loaded opens a store holding one refresh of n quotes, and returns them.
func Loaded(b *testing.B, open Opener, n int) (store.Store, []price.Quote) {
	b.Helper()
	s := open(b)
	quotes := make([]price.Quote, n)
	for j := range quotes {
		quotes[j] = Quote(j)
	}
	Refresh(b, s, 0, quotes)
	return s, quotes
}

// Refresh records a successful refresh of quotes ending minute minutes
// after Base.
func Refresh(b *testing.B, s store.Store, minute int, quotes []price.Quote) store.Result {
	b.Helper()
	end := Base.Add(time.Duration(minute) * time.Minute)
	res, err := s.Record(b.Context(), store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
		&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes})
	if err != nil {
		b.Fatal(err)
	}
	return res
}
