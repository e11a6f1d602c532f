package export

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/internal/benchmem"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

var (
	benchPoints = flag.Int("export.points", 1_000_000, "change points in the export benchmarks' store (the README's figure is for 10,000,000)")
	benchKeep   = flag.String("export.store", "", "directory of the export benchmarks' store: built there if empty, reused if not, and kept")
)

// pointsPerSeries is the length of each benchmark series: a price change
// every 15 minutes for about 10 days.
const (
	pointsPerSeries = 1000
	changeEvery     = 15 * time.Minute
)

var benchStart = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

var (
	benchOnce sync.Once
	benchDir  string
	benchInfo string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" && *benchKeep == "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchStore builds, once per test binary, a store of -export.points
// points: series of pointsPerSeries changes each, written by Backfill in
// batches so that the setup itself stays small.
func benchStore(b *testing.B) string {
	benchOnce.Do(func() {
		benchDir = *benchKeep
		if benchDir != "" {
			if _, err := os.Stat(filepath.Join(benchDir, sqlite.FileName)); err == nil {
				benchInfo = "store reused from " + benchDir
				return
			}
		} else if benchDir, benchErr = os.MkdirTemp("", "gpuprice-export-bench-*"); benchErr != nil {
			return
		}
		start := time.Now()
		s, err := sqlite.Open(benchDir, sqlite.Options{})
		if err != nil {
			benchErr = err
			return
		}
		defer s.Close()
		series := max(1, *benchPoints/pointsPerSeries)
		batch := make([]price.Quote, 0, 200*pointsPerSeries)
		for j := range series {
			q := price.Quote{Provider: []string{"aws", "azure", "gcp", "vastai", "runpod"}[j%5], InstanceType: fmt.Sprintf("type-%d", j%40),
				Region: fmt.Sprintf("region-%d", j%25), Zone: fmt.Sprintf("zone-%d", j), Geo: "na", PricingModel: price.Spot,
				GPUModel: "H100", GPUForm: "sxm", GPUMemoryGB: 80, GPUCount: 8}
			for k := range pointsPerSeries {
				q.USDPerHour = 20 + float64((j*7+k*13)%1000)/100
				q.EffectiveAt = benchStart.Add(time.Duration(k) * changeEvery)
				batch = append(batch, q)
			}
			if len(batch) == cap(batch) || j == series-1 {
				if _, err := s.Backfill(context.Background(), batch); err != nil {
					benchErr = err
					return
				}
				batch = batch[:0]
			}
		}
		benchInfo = fmt.Sprintf("store: %d series × %d points, built in %s", series, pointsPerSeries, time.Since(start).Round(time.Second))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	b.Log(benchInfo)
	return benchDir
}

// BenchmarkExport exports the whole benchmark store in each format to
// io.Discard, reporting the points read per second, the rows or samples
// written per second, the bytes per point, and the peak of the heap above
// its level before the export: it does not grow with the export, which
// -export.points=10000000 shows against the default million.
func BenchmarkExport(b *testing.B) {
	for _, f := range Formats {
		b.Run(string(f), func(b *testing.B) {
			st, err := sqlite.OpenReader(benchStore(b), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			req := Request{Format: f, Now: benchStart.Add(pointsPerSeries * changeEvery)}
			var (
				res   Result
				peak  uint64
				bytes int64
			)
			b.ResetTimer()
			for range b.N {
				cw := &countWriter{}
				stop := benchmem.Peak()
				res, err = Write(b.Context(), st, cw, req)
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				bytes = cw.n
			}
			sec := b.Elapsed().Seconds() / float64(b.N)
			b.ReportMetric(float64(res.Points)/sec, "points/s")
			b.ReportMetric(float64(res.Samples)/sec, "samples/s")
			b.ReportMetric(float64(bytes)/float64(res.Points), "bytes/point")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}
