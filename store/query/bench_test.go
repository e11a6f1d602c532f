package query_test

import (
	"context"
	"database/sql"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/benchmem"
	"github.com/gpuprice/gpuprice/store/query"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

var (
	benchSeries = flag.Int("bench.series", 5000, "series in the history benchmarks' store")
	benchDays   = flag.Int("bench.days", 90, "days of history in the history benchmarks' store")
	benchKeep   = flag.String("bench.store", "", "directory of the history benchmarks' store: built there if empty, reused if not, and kept")
)

// benchEnd is the end of the benchmark history.
var benchEnd = time.Date(2025, 9, 1, 0, 0, 0, 0, time.UTC)

// benchProvider is one provider of the benchmark store: its share of the
// series, its refresh interval, and how often its prices change.
type benchProvider struct {
	name         string
	share        float64
	interval     time.Duration
	changeEvery  time.Duration // mean time between changes
	model        price.PricingModel
	withdrawRate float64 // per change: the chance that it is a withdrawal instead
}

// benchProviders mimic the real ones: AWS spot prices move a few times a
// day per zone, Azure and GCP list prices rarely, a marketplace's cheapest
// offer per shape every half hour, and shapes come and go.
var benchProviders = []benchProvider{
	{"aws", 0.40, 10 * time.Minute, 8 * time.Hour, price.Spot, 0},
	{"azure", 0.24, time.Hour, 24 * time.Hour, price.Spot, 0},
	{"gcp", 0.10, time.Hour, 15 * 24 * time.Hour, price.OnDemand, 0},
	{"vastai", 0.16, 2 * time.Minute, 30 * time.Minute, price.Spot, 0.02},
	{"runpod", 0.10, 5 * time.Minute, 2 * time.Hour, price.Spot, 0.01},
}

var (
	benchOnce sync.Once
	benchDir  string
	benchInfo string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchStore builds, once per test binary, a store of -bench.series
// series over -bench.days days with the change frequencies and the poll
// logs of benchProviders (1% of refreshes fail; vastai is down for 3 hours
// once), and returns its directory.
func benchStore(b *testing.B) string {
	benchOnce.Do(func() {
		dir := *benchKeep
		if dir != "" {
			if _, err := os.Stat(filepath.Join(dir, sqlite.FileName)); err == nil {
				benchInfo = "store reused from " + dir
				return
			}
		} else {
			if dir, benchErr = os.MkdirTemp("", "gpuprice-bench-*"); benchErr != nil {
				return
			}
			benchDir = dir // removed by TestMain
		}
		start := time.Now()
		benchInfo, benchErr = buildBenchStore(dir, *benchSeries, *benchDays)
		benchInfo += fmt.Sprintf(", built in %s", time.Since(start).Round(time.Second))
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	b.Log(benchInfo)
	if *benchKeep != "" {
		return *benchKeep
	}
	return benchDir
}

func buildBenchStore(dir string, series, days int) (string, error) {
	ctx := context.Background()
	begin := benchEnd.Add(-time.Duration(days) * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	s, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		return "", err
	}
	var (
		quotes      []price.Quote
		withdrawals []struct {
			key price.SeriesKey
			at  time.Time
		}
		points int
	)
	flush := func() error {
		_, err := s.Backfill(ctx, quotes)
		quotes = quotes[:0]
		return err
	}
	j := 0
	for _, p := range benchProviders {
		n := int(math.Round(p.share * float64(series)))
		for range n {
			q := price.Quote{Provider: p.name, InstanceType: fmt.Sprintf("type-%d", j%40), Region: fmt.Sprintf("region-%d", j%25),
				Zone: fmt.Sprintf("zone-%d", j), Geo: price.Geos[j%len(price.Geos)], PricingModel: p.model,
				GPUModel: []string{"H100", "A100", "L4", "RTX4090", "H200"}[j%5], GPUMemoryGB: 80, GPUCount: float64(1 + j%8)}
			base := 1 + float64(j%50)
			for t := begin.Add(-time.Duration(rng.Int64N(int64(p.changeEvery)))); t.Before(benchEnd); {
				if rng.Float64() < p.withdrawRate {
					withdrawals = append(withdrawals, struct {
						key price.SeriesKey
						at  time.Time
					}{q.Key(), t})
				} else {
					q.USDPerHour = math.Round(base*q.GPUCount*(0.7+0.6*rng.Float64())*1000) / 1000
					q.EffectiveAt = t
					quotes = append(quotes, q)
				}
				points++
				t = t.Add(time.Duration(rng.ExpFloat64()*float64(p.changeEvery)) + time.Second)
			}
			if len(quotes) > 200_000 {
				if err := flush(); err != nil {
					return "", err
				}
			}
			j++
		}
	}
	if err := flush(); err != nil {
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}

	// Withdrawal points and the poll log have no bulk API: written with
	// SQL into the closed store, which the next Open loads as usual.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		return "", err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return "", err
	}
	for _, w := range withdrawals {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO points (series_id, ts, usd_per_hour)
			SELECT id, ?, NULL FROM series WHERE provider = ? AND instance_type = ? AND region = ? AND zone = ? AND pricing_model = ?`,
			w.at.UnixMilli(), w.key.Provider, w.key.InstanceType, w.key.Region, w.key.Zone, string(w.key.PricingModel)); err != nil {
			return "", err
		}
	}
	polls := 0
	outage := begin.Add(time.Duration(days) * 12 * time.Hour)
	for _, p := range benchProviders {
		for t := begin; t.Before(benchEnd); t = t.Add(p.interval) {
			ok := rng.Float64() >= 0.01 && !(p.name == "vastai" && !t.Before(outage) && t.Before(outage.Add(3*time.Hour)))
			if _, err := tx.Exec(`INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error) VALUES (?, ?, 2000, ?, 0, ?)`,
				p.name, t.UnixMilli(), ok, map[bool]any{true: nil, false: "503 Service Unavailable"}[ok]); err != nil {
				return "", err
			}
			polls++
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	return fmt.Sprintf("store: %d series, %d points (%d withdrawals), %d refreshes over %d days", j, points, len(withdrawals), polls, days), nil
}

// BenchmarkHistoryMinByProvider runs the query over 90 days × 5k
// series: the cheapest price per GPU-hour per provider, hourly, straight
// from the SQLite store (as /api/v1/history?step=1h&agg=min&by=provider
// does). It reports the latency, and the peak of the live heap above its
// level before the query: the query streams the series, so that peak
// stays far below the size of the history read.
func BenchmarkHistoryMinByProvider(b *testing.B) {
	for _, bc := range []struct {
		name string
		step time.Duration
		agg  query.Agg
	}{
		{"step=1h", time.Hour, query.Min},
		{"step=1d", 24 * time.Hour, query.Min},
		{"p50,step=1d", 24 * time.Hour, query.P50},
	} {
		b.Run(bc.name, func(b *testing.B) {
			dir := benchStore(b)
			st, err := sqlite.OpenReader(dir, sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			defer st.Close()
			req := query.Request{
				Start: benchEnd.Add(-time.Duration(*benchDays) * 24 * time.Hour), End: benchEnd,
				Step: bc.step, Agg: bc.agg, By: []string{"provider"},
			}
			var peak uint64
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				stop := benchmem.Peak()
				series, err := query.Run(b.Context(), st, req)
				peak = max(peak, stop())
				if err != nil {
					b.Fatal(err)
				}
				if len(series) != len(benchProviders) {
					b.Fatalf("%d series, want one per provider", len(series))
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N), "ms/query")
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
		})
	}
}

// BenchmarkHistoryEach reads the whole benchmark store through
// HistoryEach, doing nothing with it: the store's share of a query.
func BenchmarkHistoryEach(b *testing.B) {
	dir := benchStore(b)
	st, err := sqlite.OpenReader(dir, sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	points := 0
	b.ResetTimer()
	for range b.N {
		err := st.HistoryEach(b.Context(), store.Query{}, func(s store.Series) error {
			points += len(s.Points)
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(points)/b.Elapsed().Seconds(), "points/s")
}
