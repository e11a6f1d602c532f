// Package sqlite is the embedded history store: one SQLite file,
// dir/gpuprice.db, opened through database/sql with the pure-Go driver
// modernc.org/sqlite so that the binary stays static.
//
// The file is in WAL mode with synchronous=NORMAL: a committed refresh
// survives a crash of the process (kill -9), and a power cut can lose only
// the last commits, never corrupt the file (Options.SynchronousFull closes
// that gap at the cost of an fsync per commit). Writes go through one
// connection, one at a time; reads use a pool of their own and run
// concurrently with a write.
//
// The store keeps every series' last point in memory (store/internal/last),
// loaded at Open and updated only after a commit succeeds, so that a
// refresh is diffed without reading the database and writes only the
// changes.
package sqlite

import (
	"context"
	"database/sql"
	_ "embed"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// Schema is the DDL of a new store at version 2, quoted in the README for
// analysts who query the file directly; Open then applies the upgrades
// from version 2 on (blocks.sql).
//
//go:embed schema.sql
var Schema string

// blocksSQL is upgrade 3: point_blocks and the triggers that keep it true.
//
//go:embed blocks.sql
var blocksSQL string

// SchemaVersion is the version of a store this binary writes, kept in
// meta.schema_version. Open upgrades a file of an older version (upgrades)
// and refuses a newer one rather than misread it.
const SchemaVersion = 3

// upgrades[v] turns a file of schema version v+1 into one of version v+2.
var upgrades = []string{
	// 2: the provider's own currency and amount (Scaleway's EUR).
	`ALTER TABLE series ADD COLUMN currency TEXT NOT NULL DEFAULT '';
	 ALTER TABLE points ADD COLUMN currency_per_hour REAL;`,
	// 3: the packed copy of points that long history queries read, and
	// the poll log's time index with every column, which a history
	// query reads (a week before its window too) without a seek into
	// polls per refresh.
	blocksSQL + `
	 CREATE INDEX polls_started_at_all ON polls (started_at, id, provider, duration_ms, ok, quotes, error);
	 DROP INDEX polls_started_at;`,
}

// FileName is the name of the database file inside the store's directory.
const FileName = "gpuprice.db"

// Options tunes a Store; the zero value is the default.
type Options struct {
	// SynchronousFull makes every commit wait for an fsync, so that a
	// power cut loses no committed refresh. The default (NORMAL) already
	// loses nothing when only the process dies.
	SynchronousFull bool
	// BusyTimeout is how long a statement waits for a lock held by another
	// process opening the same file (a backup, an analyst's sqlite3
	// shell). Default 5s.
	BusyTimeout time.Duration
	// BackfillBatch is the number of points per backfill transaction.
	// Large transactions are what make a sorted backfill fast; a crash
	// loses at most the batch being written. Default 50000.
	BackfillBatch int
	// Readers is the maximum number of concurrent read connections.
	// Default 4.
	Readers int
}

func (o Options) withDefaults() Options {
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 5 * time.Second
	}
	if o.BackfillBatch <= 0 {
		o.BackfillBatch = 50000
	}
	if o.Readers <= 0 {
		o.Readers = 4
	}
	return o
}

// Store is the SQLite implementation of store.Store.
type Store struct {
	opts Options
	path string
	w    *sql.DB  // one connection: every write goes through it
	r    *sql.DB  // read-only pool
	lock *os.File // flock held while open; see lockDir

	// writeMu serializes writers. A writer diffs against the in-memory
	// state while holding it, so the state cannot change under the diff.
	writeMu sync.Mutex
	mem     *last.State

	afterBatch func() // tests: called after each backfill batch commits

	packedAt atomic.Int64 // unix ns of the last pack's end; 0: none since Open
	packing  atomic.Bool  // a background pack runs
	packWG   sync.WaitGroup

	closeOnce sync.Once
	closeErr  error
	closed    atomic.Bool // set by Close, for Ping
}

var _ store.Store = (*Store)(nil)

// Open opens the store in dir, creating the directory and an empty store
// if missing, and loads every series' last point into memory.
func Open(dir string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create store directory: %w", err)
	}
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	lock, err := lockDir(path + ".lock")
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	s := &Store{opts: opts, path: path, lock: lock}
	if err := s.open(); err != nil {
		s.Close()
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	return s, nil
}

func (s *Store) open() error {
	syncMode := "NORMAL"
	if s.opts.SynchronousFull {
		syncMode = "FULL"
	}
	busy := strconv.FormatInt(s.opts.BusyTimeout.Milliseconds(), 10)
	var err error
	s.w, err = sql.Open("sqlite", dsn(s.path, url.Values{
		"_busy_timeout": {busy},
		"_foreign_keys": {"on"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {syncMode},
		// BEGIN IMMEDIATE takes the write lock up front, so a write
		// transaction never fails half-way on a lock upgrade.
		"_txlock": {"immediate"},
	}))
	if err != nil {
		return err
	}
	s.w.SetMaxOpenConns(1)
	s.w.SetMaxIdleConns(1)
	s.w.SetConnMaxLifetime(0)
	s.w.SetConnMaxIdleTime(0)

	ctx := context.Background()
	var mode string
	if err := s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if mode != "wal" {
		// Without WAL a crash can still not corrupt the file, but
		// readers would block the writer; refuse rather than degrade
		// silently (WAL needs shared memory: no network file systems).
		return fmt.Errorf("journal_mode is %q, want wal", mode)
	}
	if err := s.migrate(ctx); err != nil {
		return err
	}

	s.r, err = sql.Open("sqlite", dsn(s.path, url.Values{
		"_busy_timeout": {busy},
		"_query_only":   {"on"},
		"_pragma":       {readMmap},
	}))
	if err != nil {
		return err
	}
	s.r.SetMaxOpenConns(s.opts.Readers)
	s.r.SetMaxIdleConns(s.opts.Readers)
	return s.load(ctx)
}

// readMmap maps the file into memory on read connections: a history read
// then takes its pages without a read system call each (address space
// only; the page cache holds the file either way).
const readMmap = "mmap_size(1073741824)"

// dsn builds a URI filename for path (escaped, so that any directory name
// works) with the driver's connection parameters.
func dsn(path string, params url.Values) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(path), RawQuery: params.Encode()}).String()
}

// migrate creates the schema in an empty file, upgrades an older one and
// refuses a newer one.
func (s *Store) migrate(ctx context.Context) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = 'meta'").Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			if _, err := tx.ExecContext(ctx, Schema); err != nil {
				return fmt.Errorf("create schema: %w", err)
			}
		}
		var v string
		err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v)
		if err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		n, err = strconv.Atoi(v)
		if err != nil || n < 1 || n > SchemaVersion {
			return fmt.Errorf("schema version %s, this gpuprice knows versions 1 to %d", v, SchemaVersion)
		}
		for ; n < SchemaVersion; n++ {
			if _, err := tx.ExecContext(ctx, upgrades[n-1]); err != nil {
				return fmt.Errorf("upgrade schema to version %d: %w", n+1, err)
			}
		}
		_, err = tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'schema_version'", strconv.Itoa(SchemaVersion))
		return err
	})
}

// load reads every series with its last point, and every provider's last
// successful refresh.
func (s *Store) load(ctx context.Context) error {
	s.mem = last.NewState()
	rows, err := s.r.QueryContext(ctx, `
		SELECT s.id, `+last.ColumnList(last.Columns, "s.")+`, p.ts, p.usd_per_hour, p.currency_per_hour
		FROM series s
		LEFT JOIN points p ON p.series_id = s.id
		     AND p.ts = (SELECT max(ts) FROM points WHERE series_id = s.id)
		ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("load series: %w", err)
	}
	defer rows.Close()
	var (
		id          int64
		l           price.Quote
		ts          sql.NullInt64
		usd, amount sql.NullFloat64
	)
	dest := append(append([]any{&id}, last.LabelFields(&l)...), &ts, &usd, &amount)
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("load series: %w", err)
		}
		sr := last.Series{ID: id, Key: l.Key(), Labels: last.LabelsOf(&l)}
		if ts.Valid {
			sr.HasPoint, sr.TS = true, ts.Int64
			sr.USD, sr.Amount, sr.Withdrawn = usd.Float64, amount.Float64, !usd.Valid
		}
		s.mem.Load(&sr)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load series: %w", err)
	}

	// With max() alone in an aggregate, SQLite takes the bare columns
	// from the row holding the maximum: the last successful refresh.
	prow, err := s.r.QueryContext(ctx, `
		SELECT provider, max(started_at), duration_ms FROM polls WHERE ok = 1 GROUP BY provider`)
	if err != nil {
		return fmt.Errorf("load polls: %w", err)
	}
	defer prow.Close()
	for prow.Next() {
		var (
			p          string
			start, dur int64
		)
		if err := prow.Scan(&p, &start, &dur); err != nil {
			return fmt.Errorf("load polls: %w", err)
		}
		s.mem.LoadOK(p, last.OKPoll{Start: start, End: start + dur})
	}
	return prow.Err()
}

// inTx runs fn in a write transaction and commits it. The caller holds
// writeMu, except in Open.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one to report
		if cerr := ctx.Err(); cerr != nil {
			// database/sql rolled back when ctx ended (see rowContext);
			// "transaction already rolled back" would hide why.
			return cerr
		}
		return err
	}
	return tx.Commit()
}

// Ping checks that the store is open and its file can be read: what the
// daemon's /-/ready asks. It asks the read pool, not the write connection,
// which a long backfill transaction may hold; a pool whose every
// connection is busy is serving queries, and answers without waiting.
func (s *Store) Ping(ctx context.Context) error {
	if s.closed.Load() {
		return errors.New("the store is closed")
	}
	if st := s.r.Stats(); st.MaxOpenConnections > 0 && st.InUse >= st.MaxOpenConnections {
		return nil
	}
	var v string
	if err := s.r.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v); err != nil {
		return fmt.Errorf("read %s: %w", FileName, err)
	}
	return nil
}

// Close closes the database; SQLite checkpoints the WAL into the main file
// when its last connection closes. Calling Close again returns the first
// call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.packWG.Wait() // a background pack stops after its chunk
		var errs []error
		if s.r != nil {
			errs = append(errs, s.r.Close())
		}
		if s.w != nil {
			errs = append(errs, s.w.Close())
		}
		if s.lock != nil {
			errs = append(errs, s.lock.Close()) // releases the flock
		}
		s.closeErr = errors.Join(errs...)
	})
	return s.closeErr
}
