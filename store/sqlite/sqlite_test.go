package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
	"github.com/gpuprice/gpuprice/store/storetest"
)

func openTest(t *testing.T, dir string, opts Options) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{})
	})
}

// TestContractSmallBatches runs the suite with one point per backfill
// transaction, so that series spanning batches are exercised.
func TestContractSmallBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{BackfillBatch: 1, Readers: 1})
	})
}

func TestOpen(t *testing.T) {
	t.Run("creates the directory and file", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data", "nested dir?#%")
		s := openTest(t, dir, Options{})
		defer s.Close()
		if _, err := os.Stat(filepath.Join(dir, FileName)); err != nil {
			t.Fatal(err)
		}
		var v string
		if err := s.w.QueryRow("SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v); err != nil {
			t.Fatal(err)
		}
		if want := "3"; v != want || SchemaVersion != 3 {
			t.Errorf("schema version %s (SchemaVersion %d), want %s", v, SchemaVersion, want)
		}
	})

	t.Run("pragmas", func(t *testing.T) {
		for _, tt := range []struct {
			name string
			opts Options
			sync int
		}{
			{"default", Options{}, 1},
			{"synchronous full", Options{SynchronousFull: true}, 2},
		} {
			t.Run(tt.name, func(t *testing.T) {
				s := openTest(t, t.TempDir(), tt.opts)
				defer s.Close()
				var (
					mode          string
					syncMode, fks int
					busy          int
				)
				row := s.w.QueryRow("SELECT * FROM pragma_journal_mode, pragma_synchronous, pragma_foreign_keys, pragma_busy_timeout")
				if err := row.Scan(&mode, &syncMode, &fks, &busy); err != nil {
					t.Fatal(err)
				}
				if mode != "wal" || syncMode != tt.sync || fks != 1 || busy != 5000 {
					t.Errorf("journal_mode=%s synchronous=%d foreign_keys=%d busy_timeout=%d, want wal %d 1 5000",
						mode, syncMode, fks, busy, tt.sync)
				}
			})
		}
	})

	t.Run("refuses another schema version", func(t *testing.T) {
		dir := t.TempDir()
		s := openTest(t, dir, Options{})
		if _, err := s.w.Exec("UPDATE meta SET value = '4' WHERE key = 'schema_version'"); err != nil {
			t.Fatal(err)
		}
		s.Close()
		_, err := Open(dir, Options{})
		if err == nil || !strings.Contains(err.Error(), "schema version 4") {
			t.Fatalf("Open: %v, want a schema version error", err)
		}
	})

	t.Run("upgrades a version 1 file", func(t *testing.T) {
		dir := t.TempDir()
		writeV1(t, dir)
		s := openTest(t, dir, Options{})
		defer s.Close()
		var v string
		if err := s.w.QueryRow("SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v); err != nil || v != strconv.Itoa(SchemaVersion) {
			t.Fatalf("schema version %q, %v; want %d", v, err, SchemaVersion)
		}
		snaps, err := s.LastKnown(t.Context())
		if err != nil || len(snaps) != 1 || len(snaps[0].Quotes) != 1 {
			t.Fatalf("LastKnown after the upgrade: %v, %v", snaps, err)
		}
		if q := snaps[0].Quotes[0]; q.USDPerHour != 0.75 || q.Currency != "" || q.CurrencyPerHour != 0 {
			t.Errorf("the version 1 point reads back as %+v", q)
		}
		eur := price.Quote{Provider: "lambda", InstanceType: "gpu_1x_a10", Region: "us-east-1", PricingModel: price.OnDemand,
			GPUModel: "A10", GPUCount: 1, USDPerHour: 0.8, Currency: "EUR", CurrencyPerHour: 0.7}
		snap := &price.Snapshot{Provider: "lambda", Time: time.UnixMilli(3000), Quotes: []price.Quote{eur}}
		if _, err := s.Record(t.Context(), store.Poll{Provider: "lambda", Start: time.UnixMilli(2000), Duration: time.Second, OK: true}, snap); err != nil {
			t.Fatalf("a write after the upgrade: %v", err)
		}
	})

	t.Run("readers cannot write", func(t *testing.T) {
		s := openTest(t, t.TempDir(), Options{})
		defer s.Close()
		if _, err := s.r.Exec("DELETE FROM polls"); err == nil {
			t.Fatal("write through the read pool succeeded")
		}
	})
}

// writeV1 writes a store of schema version 1 in dir: one Lambda series
// with one point at 0.75 $/h (t = 1s), and its poll.
func writeV1(t *testing.T, dir string) {
	t.Helper()
	v1, err := os.ReadFile(filepath.Join("testdata", "schema_v1.sql"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(filepath.Join(dir, FileName), nil))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range []string{string(v1),
		`INSERT INTO series (id, provider, instance_type, region, pricing_model, gpu_count, gpu_model) VALUES (1, 'lambda', 'gpu_1x_a10', 'us-east-1', 'on_demand', 1, 'A10')`,
		`INSERT INTO points (series_id, ts, usd_per_hour) VALUES (1, 1000, 0.75)`,
		`INSERT INTO polls (provider, started_at, duration_ms, ok, quotes) VALUES ('lambda', 500, 500, 1, 1)`,
	} {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRecordFailureMidTransaction makes the last statement of a Record fail
// after its points were written, and checks that neither the file nor the
// in-memory last points kept any of it.
func TestRecordFailureMidTransaction(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	q := func(zone string, usd float64) price.Quote {
		return price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1", Zone: zone,
			PricingModel: price.Spot, GPUModel: "H100", GPUCount: 8, USDPerHour: usd}
	}
	record := func(minute int, quotes ...price.Quote) (store.Result, error) {
		end := t0.Add(time.Duration(minute) * time.Minute)
		return s.Record(ctx, store.Poll{Provider: "aws", Start: end.Add(-time.Second), Duration: time.Second, OK: true, Quotes: len(quotes)},
			&price.Snapshot{Provider: "aws", Time: end, Quotes: quotes})
	}
	if _, err := record(0, q("us-east-1a", 30), q("us-east-1b", 31)); err != nil {
		t.Fatal(err)
	}
	before := count(t, s.w)

	if _, err := s.w.Exec(`CREATE TRIGGER fail BEFORE INSERT ON polls BEGIN SELECT RAISE(ABORT, 'injected'); END`); err != nil {
		t.Fatal(err)
	}
	// A changed price, a withdrawal (1b) and a new series, then the poll
	// row fails.
	if _, err := record(10, q("us-east-1a", 32), q("us-east-1c", 33)); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Fatalf("Record: %v, want the injected error", err)
	}
	if got := count(t, s.w); got != before {
		t.Errorf("rows after the failed Record: %v, want %v", got, before)
	}
	if _, err := s.w.Exec(`DROP TRIGGER fail`); err != nil {
		t.Fatal(err)
	}
	res, err := record(10, q("us-east-1a", 32), q("us-east-1c", 33))
	if err != nil {
		t.Fatal(err)
	}
	if want := (store.Result{NewSeries: 1, Points: 2, Withdrawals: 1}); res != want {
		t.Errorf("Record after the failure: %+v, want %+v", res, want)
	}
}

// count returns the number of rows of each table.
func count(t *testing.T, db *sql.DB) [3]int {
	t.Helper()
	var n [3]int
	err := db.QueryRow(`SELECT (SELECT count(*) FROM series), (SELECT count(*) FROM points), (SELECT count(*) FROM polls)`).
		Scan(&n[0], &n[1], &n[2])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBackfillCancelled cancels a backfill once its first batch is
// committed: the batch in flight is rolled back, and the in-memory state
// still matches the file, so that a re-run writes exactly what is missing.
func TestBackfillCancelled(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{BackfillBatch: 1000})
	defer s.Close()
	var quotes []price.Quote
	for j := range 20 {
		for k := range 1000 {
			quotes = append(quotes, price.Quote{Provider: "aws", InstanceType: "p5.48xlarge", Region: "us-east-1",
				Zone: fmt.Sprintf("z%03d", j), PricingModel: price.Spot, GPUCount: 8, USDPerHour: float64(k % 5),
				EffectiveAt: time.Unix(int64(k)*60, 0)})
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	s.afterBatch = cancel // once the first batch is committed
	first, err := s.Backfill(ctx, quotes)
	s.afterBatch = nil
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Backfill: %v, want a cancellation error", err)
	}
	if n := count(t, s.w); n[1] != first.Points || n[0] != first.NewSeries || first.Points == 0 {
		t.Fatalf("cancelled Backfill reported %+v, the file holds %d series and %d points", first, n[0], n[1])
	}
	rest, err := s.Backfill(t.Context(), quotes)
	if err != nil {
		t.Fatal(err)
	}
	want := store.Result{NewSeries: 20 - first.NewSeries, Points: len(quotes) - first.Points, Skipped: first.Points}
	if rest != want {
		t.Errorf("re-run after cancellation: %+v, want %+v", rest, want)
	}
}

func TestOpenTwiceIsRefused(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, Options{}); err == nil || !strings.Contains(err.Error(), "another gpuprice process") {
		t.Fatalf("second Open: %v, want a lock error", err)
	}
	s.Close()
	s2, err := Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

// TestSchemaColumns checks that schema.sql's series table has the columns
// the store derives from price.Labels: the key labels (its UNIQUE key),
// then the others, numbers as REAL (besides its id and packed range).
func TestSchemaColumns(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	names := func(query string) ([]string, []string) {
		rows, err := s.r.Query(query)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var names, types []string
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			names, types = append(names, name), append(types, typ)
		}
		return names, types
	}
	got, types := names(`SELECT name, type FROM pragma_table_info('series')
		WHERE name NOT IN ('id', 'packed_from', 'packed_until') ORDER BY cid`)
	if want := price.LabelNames(last.Columns); !slices.Equal(got, want) {
		t.Errorf("series columns %q, want %q", got, want)
	}
	for i := range min(len(types), len(last.Columns)) {
		want := "TEXT"
		if last.Columns[i].Numeric() {
			want = "REAL"
		}
		if types[i] != want {
			t.Errorf("column %s is %s, want %s", last.Columns[i].Name, types[i], want)
		}
	}
	key, _ := names(`SELECT name, '' FROM pragma_index_info('sqlite_autoindex_series_1') ORDER BY seqno`)
	if want := price.LabelNames(price.KeyLabels); !slices.Equal(key, want) {
		t.Errorf("series key %q, want %q", key, want)
	}
}

func TestWatermark(t *testing.T) {
	dir := t.TempDir()
	s := openTest(t, dir, Options{})
	ctx := context.Background()
	if w, err := s.Watermark(ctx, "vm"); err != nil || !w.IsZero() {
		t.Fatalf("fresh store: %v, %v", w, err)
	}
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	for _, w := range []time.Time{at.Add(-time.Hour), at} {
		if err := s.SetWatermark(ctx, "vm", w); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTest(t, dir, Options{})
	defer s.Close()
	if w, err := s.Watermark(ctx, "vm"); err != nil || !w.Equal(at) {
		t.Errorf("after reopening: %v, %v; want %v", w, err, at)
	}
	if w, _ := s.Watermark(ctx, "mimir"); !w.IsZero() {
		t.Errorf("another target's watermark: %v", w)
	}
}
