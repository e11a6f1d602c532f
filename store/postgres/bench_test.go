package postgres

import (
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/storebench"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
)

// The benchmarks are those of store/sqlite (storebench), on the same data,
// against the package's server, which runs with PostgreSQL's durable
// defaults (fsync, synchronous commit) when benchmarking (see pgtest).

// openBench opens a store in the schema of name.
func openBench(b *testing.B, name string) *Store {
	b.Helper()
	s, err := Open(b.Context(), pgtest.Get(b).Schema(b, name), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

func openFresh(b *testing.B) store.Store { return openBench(b, pgtest.Unique(b)) }

// BenchmarkBackfill: see storebench.Backfill.
func BenchmarkBackfill(b *testing.B) { storebench.Backfill(b, openFresh) }

// BenchmarkRecord: see storebench.Record.
func BenchmarkRecord(b *testing.B) { storebench.Record(b, openFresh) }

// BenchmarkRecordAfterPacked is BenchmarkRecord with the store not
// packing: each refresh lands after the packed ranges, as a daemon's do,
// and the triggers on points find nothing to unpack. In BenchmarkRecord
// the first refresh packs (its times are long past), and every later one
// unpacks the week of the thousand series it changes.
func BenchmarkRecordAfterPacked(b *testing.B) {
	storebench.Record(b, func(b *testing.B) store.Store {
		s := openBench(b, pgtest.Unique(b))
		s.packer.last.Store(time.Now().UnixNano()) // not due for blocks.Every
		return s
	})
}

// BenchmarkRecordFirst: see storebench.RecordFirst.
func BenchmarkRecordFirst(b *testing.B) { storebench.RecordFirst(b, openFresh) }

// BenchmarkOpen opens a store of 100k series, loading their last points:
// the restart cost.
func BenchmarkOpen(b *testing.B) {
	const n = 100000
	name := pgtest.Unique(b)
	s, _ := storebench.Loaded(b, func(b *testing.B) store.Store { return openBench(b, name) }, n)
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

// BenchmarkPack packs the points of storebench.Backfill (10k series × 100
// hourly points, written without packing): what Backfill adds to its
// writes when it packs them at its end.
func BenchmarkPack(b *testing.B) {
	const series, perSeries = 10000, 100
	quotes := make([]price.Quote, 0, series*perSeries)
	for j := range series {
		q := storebench.Quote(j)
		for k := range perSeries {
			q.USDPerHour = 20 + float64((j+k)%97)/10
			q.EffectiveAt = storebench.Base.Add(time.Duration(k) * time.Hour)
			quotes = append(quotes, q)
		}
	}
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		s := openBench(b, pgtest.Unique(b))
		if _, err := s.backfill(b.Context(), quotes); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if err := s.Pack(b.Context()); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*len(quotes))/b.Elapsed().Seconds(), "points/s")
}
