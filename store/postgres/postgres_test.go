package postgres

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
	"github.com/gpuprice/gpuprice/store/postgres/pgtest"
	"github.com/gpuprice/gpuprice/store/sqlite"
	"github.com/gpuprice/gpuprice/store/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// openTest opens the store in the schema derived from name.
func openTest(t testing.TB, name string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), pgtest.Get(t).Schema(t, name), opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

// TestContract runs the store contract suite, each of its stores in a
// schema of its own (named after the suite's directory).
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{})
	})
}

// TestContractSmallBatches runs the suite with one point per backfill
// transaction, so that series spanning batches are exercised.
func TestContractSmallBatches(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) store.Store {
		return openTest(t, dir, Options{BackfillBatch: 1, MaxConns: 2})
	})
}

func TestMigrations(t *testing.T) {
	name := pgtest.Unique(t)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	if n := ms[len(ms)-1].version; n != SchemaVersion {
		t.Errorf("newest migration %d, SchemaVersion %d", n, SchemaVersion)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("migration %d is numbered %d: versions must be 1, 2, ...", i+1, m.version)
		}
	}

	s := openTest(t, name, Options{})
	var v int
	if err := s.pool.QueryRow(t.Context(), "SELECT max(version) FROM schema_migrations").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v != SchemaVersion {
		t.Errorf("schema version %d after Open, want %d", v, SchemaVersion)
	}
	s.Close()
	// Opening again applies nothing twice.
	s = openTest(t, name, Options{})
	var n int
	if err := s.pool.QueryRow(t.Context(), "SELECT count(*) FROM schema_migrations").Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(ms) {
		t.Errorf("%d rows in schema_migrations, want %d", n, len(ms))
	}

	t.Run("refuses a newer schema", func(t *testing.T) {
		if _, err := s.pool.Exec(t.Context(), "INSERT INTO schema_migrations (version, name) VALUES ($1, 'from the future')", SchemaVersion+1); err != nil {
			t.Fatal(err)
		}
		dsn := pgtest.Get(t).Schema(t, name)
		want := fmt.Sprintf("schema version %d is newer than this gpuprice knows (%d)", SchemaVersion+1, SchemaVersion)
		if _, err := Open(t.Context(), dsn, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Open: %v, want %q", err, want)
		}
		if _, err := OpenReader(t.Context(), dsn, Options{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenReader: %v, want %q", err, want)
		}
	})
	s.Close()

	t.Run("reader of an empty database", func(t *testing.T) {
		_, err := OpenReader(t.Context(), pgtest.DSN(t), Options{})
		if want := "no gpuprice store in this database"; err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("OpenReader: %v, want %q", err, want)
		}
	})
}

// TestSchemaColumns checks that the tables analysts query have the SQLite
// store's columns, in its order, with the same kinds of types, so that
// their SQL runs on both.
func TestSchemaColumns(t *testing.T) {
	name := pgtest.Unique(t)
	s := openTest(t, name, Options{})
	defer s.Close()
	dir := t.TempDir()
	lite, err := sqlite.Open(dir, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, sqlite.FileName)+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kind := map[string]string{"TEXT": "text", "REAL": "double precision", "INTEGER": "integer", "BLOB": "bytea"}
	tables := []string{"series", "points", "polls", "point_blocks"}
	for _, table := range tables {
		var want []string
		rows, err := db.Query(`SELECT name, type FROM pragma_table_info(?) ORDER BY cid`, table)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var name, typ string
			if err := rows.Scan(&name, &typ); err != nil {
				t.Fatal(err)
			}
			want = append(want, name+" "+kind[typ])
		}
		rows.Close()
		prows, err := s.pool.Query(t.Context(), `SELECT column_name || ' ' || data_type FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position`, table)
		if err != nil {
			t.Fatal(err)
		}
		got, err := pgx.CollectRows(prows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		// Integers are bigint where SQLite's are 64-bit: ids, times.
		for i := range got {
			got[i] = strings.Replace(got[i], "bigint", "integer", 1)
		}
		if !slices.Equal(got, want) {
			t.Errorf("table %s:\n got %q\nwant %q (SQLite's)", table, got, want)
		}
	}
	if got, want := price.LabelNames(last.Columns), []string{"provider", "instance_type", "region", "zone", "pricing_model",
		"gpu_count", "geo", "gpu_model", "gpu_form", "gpu_memory_gb", "gpu_raw", "currency"}; !slices.Equal(got, want) {
		t.Errorf("series columns %q, the migrations have %q", got, want)
	}
}
