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
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/benchmem"
	"github.com/gpuprice/gpuprice/store/postgres"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
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

// benchHistory is the benchmark history: backfilled points in batches,
// then withdrawals and the poll log, which have no bulk API and are
// written with SQL by each store's builder.
type benchHistory struct {
	withdrawals []benchWithdrawal
	polls       []benchPoll
	series      int
	points      int
}

type benchWithdrawal struct {
	key price.SeriesKey
	at  time.Time
}

type benchPoll struct {
	provider string
	at       time.Time
	ok       bool
}

func (h *benchHistory) String() string {
	return fmt.Sprintf("store: %d series, %d points (%d withdrawals), %d refreshes over %d days",
		h.series, h.points, len(h.withdrawals), len(h.polls), *benchDays)
}

// genBenchHistory generates series × days of history with the change
// frequencies and the poll logs of benchProviders (1% of refreshes fail;
// vastai is down for 3 hours once), handing the price points to backfill
// in batches.
func genBenchHistory(series, days int, backfill func([]price.Quote) error) (*benchHistory, error) {
	begin := benchEnd.Add(-time.Duration(days) * 24 * time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	h := &benchHistory{}
	var quotes []price.Quote
	flush := func() error {
		err := backfill(quotes)
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
					h.withdrawals = append(h.withdrawals, benchWithdrawal{q.Key(), t})
				} else {
					q.USDPerHour = math.Round(base*q.GPUCount*(0.7+0.6*rng.Float64())*1000) / 1000
					q.EffectiveAt = t
					quotes = append(quotes, q)
				}
				h.points++
				t = t.Add(time.Duration(rng.ExpFloat64()*float64(p.changeEvery)) + time.Second)
			}
			if len(quotes) > 200_000 {
				if err := flush(); err != nil {
					return nil, err
				}
			}
			j++
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	h.series = j
	outage := begin.Add(time.Duration(days) * 12 * time.Hour)
	for _, p := range benchProviders {
		for t := begin; t.Before(benchEnd); t = t.Add(p.interval) {
			ok := rng.Float64() >= 0.01 && !(p.name == "vastai" && !t.Before(outage) && t.Before(outage.Add(3*time.Hour)))
			h.polls = append(h.polls, benchPoll{p.name, t, ok})
		}
	}
	return h, nil
}

var (
	benchOnce sync.Once
	benchDir  string
	benchInfo string
	benchErr  error
)

func TestMain(m *testing.M) {
	code := pgtest.Run(m)
	if benchDir != "" {
		os.RemoveAll(benchDir)
	}
	os.Exit(code)
}

// benchStore builds, once per test binary, a SQLite store of the
// benchmark history (genBenchHistory) of -bench.series series over
// -bench.days days, and returns its directory.
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
	s, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		return "", err
	}
	h, err := genBenchHistory(series, days, func(q []price.Quote) error { _, err := s.Backfill(ctx, q); return err })
	if err != nil {
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}

	// Withdrawal points and the poll log, written with SQL into the
	// closed store, which the next Open loads as usual.
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName))
	if err != nil {
		return "", err
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		return "", err
	}
	for _, w := range h.withdrawals {
		if _, err := tx.Exec(`INSERT OR IGNORE INTO points (series_id, ts, usd_per_hour)
			SELECT id, ?, NULL FROM series WHERE provider = ? AND instance_type = ? AND region = ? AND zone = ? AND pricing_model = ?`,
			w.at.UnixMilli(), w.key.Provider, w.key.InstanceType, w.key.Region, w.key.Zone, string(w.key.PricingModel)); err != nil {
			return "", err
		}
	}
	for _, p := range h.polls {
		if _, err := tx.Exec(`INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error) VALUES (?, ?, 2000, ?, 0, ?)`,
			p.provider, p.at.UnixMilli(), p.ok, map[bool]any{true: nil, false: "503 Service Unavailable"}[p.ok]); err != nil {
			return "", err
		}
	}
	if err := tx.Commit(); err != nil {
		return "", err
	}
	if err := db.Close(); err != nil {
		return "", err
	}
	// The withdrawals, written behind the store's back, unpacked the
	// weeks they fell in (the triggers); the store packs them again,
	// as it would after its next refresh.
	if s, err = sqlite.Open(dir, sqlite.Options{}); err != nil {
		return "", err
	}
	packed, err := packAndClose(ctx, s)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, packed again in %s", h, packed.Round(10*time.Millisecond)), nil
}

// packAndClose packs s (storetest.Packer) and closes it, returning how
// long the pack took.
func packAndClose(ctx context.Context, s interface {
	store.Store
	Pack(context.Context) error
}) (time.Duration, error) {
	start := time.Now()
	if err := s.Pack(ctx); err != nil {
		s.Close()
		return 0, err
	}
	return time.Since(start), s.Close()
}

var (
	pgBenchOnce sync.Once
	pgBenchDSN  string
	pgBenchInfo string
	pgBenchErr  error
)

// pgBenchStore builds, once per test binary, the benchmark history in a
// PostgreSQL store of the package's server (pgtest), and returns its
// connection string.
func pgBenchStore(b *testing.B) string {
	pgBenchOnce.Do(func() {
		pgBenchDSN = pgtest.Get(b).Schema(b, "query benchmark history")
		start := time.Now()
		pgBenchInfo, pgBenchErr = buildPGBenchStore(pgBenchDSN, *benchSeries, *benchDays)
		pgBenchInfo += fmt.Sprintf(", built in %s", time.Since(start).Round(time.Second))
	})
	if pgBenchErr != nil {
		b.Fatal(pgBenchErr)
	}
	b.Log(pgBenchInfo)
	return pgBenchDSN
}

// buildPGBenchStore writes the benchmark history into the PostgreSQL store
// of dsn: the backfills through the store (each packs what it wrote), the
// withdrawals and the poll log with SQL into the closed store. The
// withdrawals land in packed weeks, whose blocks the triggers on points
// drop: the store is opened again and packed before ANALYZE, so that the
// benchmarks read a packed store, as a daemon's is once it has packed.
func buildPGBenchStore(dsn string, series, days int) (string, error) {
	ctx := context.Background()
	s, err := postgres.Open(ctx, dsn, postgres.Options{})
	if err != nil {
		return "", err
	}
	h, err := genBenchHistory(series, days, func(q []price.Quote) error { _, err := s.Backfill(ctx, q); return err })
	if err != nil {
		return "", err
	}
	if err := s.Close(); err != nil {
		return "", err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", err
	}
	defer conn.Close(ctx)
	// The withdrawals fall in the months of the points: their partitions
	// exist.
	var (
		provider, typ, region, zone, model []string
		at                                 []int64
	)
	for _, w := range h.withdrawals {
		provider, typ, region, zone = append(provider, w.key.Provider), append(typ, w.key.InstanceType), append(region, w.key.Region), append(zone, w.key.Zone)
		model, at = append(model, string(w.key.PricingModel)), append(at, w.at.UnixMilli())
	}
	if _, err := conn.Exec(ctx, `INSERT INTO points (series_id, ts, usd_per_hour)
		SELECT s.id, w.at, NULL FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[])
			AS w(provider, instance_type, region, zone, pricing_model, at)
		JOIN series s USING (provider, instance_type, region, zone, pricing_model)
		ON CONFLICT DO NOTHING`, provider, typ, region, zone, model, at); err != nil {
		return "", err
	}
	rows := make([][]any, len(h.polls))
	for i, p := range h.polls {
		ok, msg := 0, any("503 Service Unavailable")
		if p.ok {
			ok, msg = 1, nil
		}
		rows[i] = []any{p.provider, p.at.UnixMilli(), int64(2000), ok, 0, msg}
	}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"polls"}, []string{"provider", "started_at", "duration_ms", "ok", "quotes", "error"},
		pgx.CopyFromRows(rows)); err != nil {
		return "", err
	}
	if s, err = postgres.Open(ctx, dsn, postgres.Options{}); err != nil {
		return "", err
	}
	packed, err := packAndClose(ctx, s)
	if err != nil {
		return "", err
	}
	if _, err := conn.Exec(ctx, "ANALYZE"); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s, packed again after the withdrawals in %s", h, packed.Round(time.Millisecond)), nil
}

// BenchmarkHistoryMinByProvider runs the query over 90 days × 5k
// series: the cheapest price per GPU-hour per provider, hourly, straight
// from the SQLite store (as /api/v1/history?step=1h&agg=min&by=provider
// does), and from the PostgreSQL store (store=postgres). It reports the latency, and the peak of the live heap above its
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
		for _, driver := range []string{"sqlite", "postgres"} {
			name := bc.name
			if driver == "postgres" {
				name = "store=postgres," + name
			}
			b.Run(name, func(b *testing.B) {
				st := openBenchReader(b, driver)
				defer st.Close()
				req := query.Request{
					Start: benchEnd.Add(-time.Duration(*benchDays) * 24 * time.Hour), End: benchEnd,
					Step: bc.step, Agg: bc.agg, By: []string{"provider"},
				}
				var peak uint64
				b.ReportAllocs()
				b.ResetTimer()
				cpu0 := processCPU()
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
				// On a machine shared with other work, the CPU time this
				// process spent tells more than the latency (PostgreSQL's
				// server is another process: not counted).
				b.ReportMetric(float64((processCPU()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/query")
				b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MB")
			})
		}
	}
}

// openBenchReader opens the benchmark store of driver read-only.
func openBenchReader(b *testing.B, driver string) interface {
	store.Reader
	Close() error
} {
	if driver == "postgres" {
		dsn := pgBenchStore(b)
		st, err := postgres.OpenReader(b.Context(), dsn, postgres.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	st, err := sqlite.OpenReader(benchStore(b), sqlite.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// BenchmarkHistoryEach reads the whole benchmark store through
// HistoryEach, doing nothing with it: the store's share of a query.
func BenchmarkHistoryEach(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run("store="+driver, func(b *testing.B) {
			st := openBenchReader(b, driver)
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
		})
	}
}

// TestStoresAgree builds a small benchmark history in both stores and
// checks that they return the same history, and so the same answers.
func TestStoresAgree(t *testing.T) {
	const series, days = 60, 6
	dir := t.TempDir()
	if _, err := buildBenchStore(dir, series, days); err != nil {
		t.Fatal(err)
	}
	dsn := pgtest.DSN(t)
	if _, err := buildPGBenchStore(dsn, series, days); err != nil {
		t.Fatal(err)
	}
	lite, err := sqlite.OpenReader(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	pg, err := postgres.OpenReader(t.Context(), dsn, postgres.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	for _, q := range []store.Query{
		{},
		{Provider: "vastai", Start: benchEnd.Add(-3 * 24 * time.Hour), End: benchEnd.Add(-24 * time.Hour)},
		{GPUModel: "H100", Start: benchEnd.Add(-36 * time.Hour)},
	} {
		want, err := lite.History(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pg.History(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(want) == 0 || !reflect.DeepEqual(got, want) {
			t.Errorf("History(%+v): PostgreSQL and SQLite differ (%d and %d series)", q, len(got), len(want))
		}
	}
	req := query.Request{Start: benchEnd.Add(-days * 24 * time.Hour), End: benchEnd, Step: time.Hour, Agg: query.Min, By: []string{"provider"}}
	want, err := query.Run(t.Context(), lite, req)
	if err != nil {
		t.Fatal(err)
	}
	got, err := query.Run(t.Context(), pg, req)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Error("min by provider: PostgreSQL and SQLite differ")
	}
	wantPolls, _ := lite.Polls(t.Context(), "", time.Time{}, time.Time{})
	gotPolls, err := pg.Polls(t.Context(), "", time.Time{}, time.Time{})
	if err != nil || !reflect.DeepEqual(gotPolls, wantPolls) {
		t.Errorf("Polls differ: %d and %d (%v)", len(gotPolls), len(wantPolls), err)
	}
}
