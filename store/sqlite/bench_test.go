package sqlite

import (
	"testing"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/storebench"
)

func openBench(b *testing.B) store.Store {
	s, err := Open(b.TempDir(), Options{})
	if err != nil {
		b.Fatal(err)
	}
	return s
}

// BenchmarkBackfill: see storebench.Backfill.
func BenchmarkBackfill(b *testing.B) { storebench.Backfill(b, openBench) }

// BenchmarkRecord: see storebench.Record.
func BenchmarkRecord(b *testing.B) { storebench.Record(b, openBench) }

// BenchmarkRecordFirst: see storebench.RecordFirst.
func BenchmarkRecordFirst(b *testing.B) { storebench.RecordFirst(b, openBench) }

// BenchmarkOpen opens a store of 100k series, loading their last points:
// the restart cost.
func BenchmarkOpen(b *testing.B) {
	const n = 100000
	dir := b.TempDir()
	s, _ := storebench.Loaded(b, func(*testing.B) store.Store {
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}, n)
	s.Close()
	b.ResetTimer()
	for range b.N {
		s, err := Open(dir, Options{})
		if err != nil {
			b.Fatal(err)
		}
		if s.mem.Len() != n {
			b.Fatalf("%d series loaded, want %d", s.mem.Len(), n)
		}
		s.Close()
	}
}
