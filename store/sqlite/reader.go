package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/gpuprice/gpuprice/store"
)

// Reader is a read-only view of a store: history and the poll log, for
// the history and export commands. Unlike Open, OpenReader takes no lock,
// loads nothing into memory and never writes, so it can read a store that
// a running daemon holds: SQLite's WAL lets one writer and any number of
// readers, in any processes, share the file, and every read transaction
// sees one commit. (The lock only keeps out a second writer, whose
// in-memory last points would go wrong.)
type Reader struct {
	db *sql.DB
	rq *readQueries // for the file's schema version
}

var (
	_ store.Reader  = (*Reader)(nil)
	_ store.Scanner = (*Reader)(nil)
	_ store.Scanner = (*Store)(nil)
)

// OpenReader opens the store in dir read-only. It fails when dir holds no
// store rather than create one, and refuses a schema version it does not
// know. A file of an older version is read as it is (it is upgraded by the
// next Open).
func OpenReader(dir string, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	path, err := filepath.Abs(filepath.Join(dir, FileName))
	if err != nil {
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("no store in %s: %s does not exist", dir, FileName)
		}
		return nil, fmt.Errorf("open store in %s: %w", dir, err)
	}
	// mode=rw: never create the file. query_only refuses writes at the
	// SQL level; the connection still needs the -wal and -shm files that
	// every WAL reader shares with the writer.
	db, err := sql.Open("sqlite", dsn(path, url.Values{
		"mode":          {"rw"},
		"_busy_timeout": {strconv.FormatInt(opts.BusyTimeout.Milliseconds(), 10)},
		"_query_only":   {"on"},
		"_pragma":       {readMmap},
	}))
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	db.SetMaxOpenConns(opts.Readers)
	db.SetMaxIdleConns(opts.Readers)
	var v string
	if err := db.QueryRow("SELECT value FROM meta WHERE key = 'schema_version'").Scan(&v); err != nil {
		db.Close()
		return nil, fmt.Errorf("open store %s: read schema version: %w", path, err)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > SchemaVersion {
		db.Close()
		return nil, fmt.Errorf("open store %s: schema version %s, this gpuprice knows versions 1 to %d", path, v, SchemaVersion)
	}
	return &Reader{db: db, rq: queriesFor(n)}, nil
}

// History implements store.Reader as Store.History does.
func (r *Reader) History(ctx context.Context, q store.Query) ([]store.Series, error) {
	return collect(ctx, r.db, r.rq, q)
}

// HistoryEach implements store.Reader as Store.HistoryEach does.
func (r *Reader) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return historyEach(ctx, r.db, r.rq, q, false, fn)
}

// HistoryScan implements store.Scanner as Store.HistoryScan does.
func (r *Reader) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return historyEach(ctx, r.db, r.rq, q, true, fn)
}

// Polls implements store.Reader as Store.Polls does.
func (r *Reader) Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	return polls(ctx, r.db, provider, start, end)
}

// Close closes the database.
func (r *Reader) Close() error { return r.db.Close() }
