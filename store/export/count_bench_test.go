package export

import (
	"testing"

	"github.com/gpuprice/gpuprice/store/sqlite"
)

// BenchmarkCount counts the whole benchmark store as a server does before
// an export (store.Counter, Estimate): the price of refusing an export
// over its limit, against BenchmarkExport's price of writing it.
func BenchmarkCount(b *testing.B) {
	st, err := sqlite.OpenReader(benchStore(b), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	req := Request{Format: CSV}
	var n int64
	b.ResetTimer()
	for range b.N {
		counts, err := st.Count(b.Context(), req.Query)
		if err != nil {
			b.Fatal(err)
		}
		n = Estimate(counts, req)
	}
	b.ReportMetric(float64(n)/(b.Elapsed().Seconds()/float64(b.N)), "points/s")
}
