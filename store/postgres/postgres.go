// Package postgres is the shared history store: the tables of the SQLite
// store (series, points, polls) in a PostgreSQL database, reached through
// pgx's connection pool, so that several gpuprice processes and analysts'
// SQL can share one history.
//
// The schema is created and upgraded by the embedded, numbered migrations
// (migrations/NNNN_name.sql); schema_migrations records those applied, and
// a database whose schema is newer than this binary knows is refused, not
// guessed at. points is partitioned by month (declarative partitioning);
// the store creates a month's partition before writing there, and retention
// drops whole months.
//
// Writes go through one writer per Store, one at a time: a refresh's
// points, withdrawals and poll row are one transaction; a backfill goes
// through COPY into a temporary staging table and then INSERT … ON
// CONFLICT (series_id, ts) DO NOTHING, so that a repeated or concurrent
// backfill writes nothing twice. Like the SQLite store it keeps every
// series' last point in memory (store/internal/last), loaded at Open.
//
// The connection string is a secret: errors of this package never carry
// its password (see scrub).
package postgres

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// SchemaVersion is the newest migration this binary has: Open upgrades a
// database to it, and refuses one whose schema_migrations holds a newer
// version.
const SchemaVersion = 5

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one file of migrations/: NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, path := range names {
		base := strings.TrimSuffix(strings.TrimPrefix(path, "migrations/"), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: want NNNN_name.sql", path)
		}
		b, err := migrationFiles.ReadFile(path)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: name, sql: string(b)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// Options tunes a Store; the zero value is the default.
type Options struct {
	// BackfillBatch is the number of points per backfill transaction (one
	// COPY). Default 100000.
	BackfillBatch int
	// BackfillWorkers is the number of backfill transactions written side
	// by side, each on a connection of its own. Default 2.
	BackfillWorkers int
	// MaxConns is the size of the connection pool. Default 8.
	MaxConns int32
}

func (o Options) withDefaults() Options {
	if o.BackfillBatch <= 0 {
		o.BackfillBatch = 100000
	}
	if o.MaxConns <= 0 {
		o.MaxConns = 8
	}
	if o.BackfillWorkers <= 0 {
		o.BackfillWorkers = 2
	}
	return o
}

// Store is the PostgreSQL implementation of store.Store.
type Store struct {
	reader
	opts Options

	// writeMu serializes writers. A writer diffs against the in-memory
	// state while holding it, so the state cannot change under the diff.
	writeMu sync.Mutex
	mem     *last.State
	parts   partitions

	packer packer

	afterBatch func() // tests: called after each backfill batch commits

	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// reader is the read side that Store and Reader share.
type reader struct {
	pool    *pgxpool.Pool
	secrets secrets
	// blocks is set when the schema has point_blocks (version 5 on), so
	// that history reads the packed points from there; a Reader of an
	// older schema reads every point from points.
	blocks bool
}

// Open connects to the database of dsn, creates or upgrades the schema and
// loads every series' last point into memory. It fails, without retrying,
// when the database cannot be reached; the caller retries.
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	r, err := connect(ctx, dsn, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	r.blocks = true
	s := &Store{reader: r, opts: opts}
	if err := s.migrate(ctx); err != nil {
		s.pool.Close()
		return nil, s.clean(fmt.Errorf("open store %s: %w", Describe(dsn), err))
	}
	if err := s.load(ctx); err != nil {
		s.pool.Close()
		return nil, s.clean(fmt.Errorf("open store %s: %w", Describe(dsn), err))
	}
	return s, nil
}

// connect makes the pool and checks that the server answers.
func connect(ctx context.Context, dsn string, maxConns int32) (reader, error) {
	r := reader{secrets: secretsOf(dsn)}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return r, r.clean(fmt.Errorf("storage.dsn: %w", err))
	}
	cfg.MaxConns = maxConns
	if r.pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
		return r, r.clean(fmt.Errorf("connect to %s: %w", Describe(dsn), err))
	}
	if err := r.pool.Ping(ctx); err != nil {
		r.pool.Close()
		return r, r.clean(fmt.Errorf("connect to %s: %w", Describe(dsn), err))
	}
	return r, nil
}

// Describe names the database of dsn for logs and errors: host, port,
// database and user, never the password. An unparsable dsn is
// "PostgreSQL".
func Describe(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return "PostgreSQL"
	}
	return fmt.Sprintf("postgres://%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
}

// migrationLock is the key of the transaction-level advisory lock that
// serializes migrations and partition creation between processes sharing
// the database ("gppr").
const migrationLock = 0x67707072

// migrate applies the migrations the database lacks, in one transaction
// under the advisory lock, so that processes starting together migrate
// once.
func (s *Store) migrate(ctx context.Context) error {
	ms, err := migrations()
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version    integer PRIMARY KEY,
			name       text NOT NULL,
			applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var v int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&v); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if v > SchemaVersion {
			return newerSchema(v)
		}
		for _, m := range ms {
			if m.version <= v {
				continue
			}
			// Without arguments pgx sends the file with the simple
			// protocol, which runs several statements.
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migration %04d_%s: %w", m.version, m.name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name); err != nil {
				return err
			}
		}
		return nil
	})
}

func newerSchema(v int) error {
	return fmt.Errorf("schema version %d is newer than this gpuprice knows (%d): run the gpuprice that upgraded the database, or a newer one", v, SchemaVersion)
}

// loadSeriesSQL reads series with their last point; a WHERE clause on
// series s may follow.
var loadSeriesSQL = `SELECT s.id, ` + last.ColumnList(last.Columns, "s.") + `, p.ts, p.usd_per_hour, p.currency_per_hour
	FROM series s
	LEFT JOIN LATERAL (SELECT ts, usd_per_hour, currency_per_hour FROM points WHERE series_id = s.id ORDER BY ts DESC LIMIT 1) p ON true`

// scanSeries calls fn with each series of rows of loadSeriesSQL.
func scanSeries(rows pgx.Rows, fn func(*last.Series)) error {
	var (
		id          int64
		l           price.Quote
		ts          *int64
		usd, amount *float64
	)
	dest := append(append([]any{&id}, last.LabelFields(&l)...), &ts, &usd, &amount)
	_, err := pgx.ForEachRow(rows, dest, func() error {
		sr := &last.Series{ID: id, Key: l.Key(), Labels: last.LabelsOf(&l)}
		if ts != nil {
			sr.HasPoint, sr.TS = true, *ts
			sr.Withdrawn = usd == nil
			if usd != nil {
				sr.USD = *usd
			}
			if amount != nil {
				sr.Amount = *amount
			}
		}
		fn(sr)
		return nil
	})
	return err
}

// load reads every series with its last point, every provider's last
// successful refresh, and the partitions of points.
func (s *Store) load(ctx context.Context) error {
	s.mem = last.NewState()
	rows, err := s.pool.Query(ctx, loadSeriesSQL+` ORDER BY s.id`)
	if err != nil {
		return fmt.Errorf("load series: %w", err)
	}
	if err := scanSeries(rows, s.mem.Load); err != nil {
		return fmt.Errorf("load series: %w", err)
	}

	prows, err := s.pool.Query(ctx, `
		SELECT DISTINCT ON (provider) provider, started_at, duration_ms FROM polls
		WHERE ok = 1 ORDER BY provider, started_at DESC, id DESC`)
	if err != nil {
		return fmt.Errorf("load polls: %w", err)
	}
	var (
		p          string
		start, dur int64
	)
	_, err = pgx.ForEachRow(prows, []any{&p, &start, &dur}, func() error {
		s.mem.LoadOK(p, last.OKPoll{Start: start, End: start + dur})
		return nil
	})
	if err != nil {
		return fmt.Errorf("load polls: %w", err)
	}
	return s.parts.load(ctx, s.pool)
}

// inTx runs fn in a transaction and commits it. The commit is not
// cancelled with ctx: a COMMIT interrupted on the way may still be applied
// by the server, and the caller would then not count what it wrote.
func (r *reader) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx)) // the error that made us roll back is the one to report
		return err
	}
	return tx.Commit(context.WithoutCancel(ctx))
}

// Close closes the pool, waiting for the connections in use to be
// returned. Calling Close again does nothing.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.stopPacking()
		s.pool.Close()
	})
	return nil
}

// Reader is a read-only view of a store: history and the poll log, for the
// history and export commands. Unlike Open, OpenReader loads nothing into
// memory, never writes and never migrates.
type Reader struct {
	reader
}

var _ store.Reader = (*Reader)(nil)

// oldestReadable is the oldest schema version a Reader reads: 4 has
// every column history returns; it lacks only point_blocks (version 5),
// and a Reader of it reads every point from points.
const oldestReadable = 4

// OpenReader connects to the store of dsn. It fails when the database
// holds no gpuprice store, and refuses a schema version newer than
// SchemaVersion or older than oldestReadable.
func OpenReader(ctx context.Context, dsn string, opts Options) (*Reader, error) {
	opts = opts.withDefaults()
	r, err := connect(ctx, dsn, opts.MaxConns)
	if err != nil {
		return nil, err
	}
	var (
		exists bool
		v      *int
	)
	err = r.pool.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists)
	if err == nil && exists {
		err = r.pool.QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	}
	switch {
	case err == nil && v == nil:
		err = errors.New("no gpuprice store in this database (run gpuprice serve once to create it)")
	case err != nil:
		err = fmt.Errorf("read schema version: %w", err)
	case *v > SchemaVersion:
		err = newerSchema(*v)
	case *v < oldestReadable:
		err = fmt.Errorf("schema version %d is older than this gpuprice's (%d): run gpuprice serve to upgrade it", *v, SchemaVersion)
	default:
		r.blocks = *v >= 5
	}
	if err != nil {
		r.pool.Close()
		return nil, r.clean(fmt.Errorf("open store %s: %w", Describe(dsn), err))
	}
	return &Reader{reader: r}, nil
}

// Close closes the pool.
func (r *Reader) Close() error {
	r.pool.Close()
	return nil
}

// Unavailable reports whether err says that the database could not be
// reached or went away (connecting failed, the connection broke, the
// server is shutting down or starting), so that the same write may succeed
// later; not a write the database refused.
func Unavailable(err error) bool {
	var (
		ce *pgconn.ConnectError
		pe *pgconn.PgError
		ne net.Error
	)
	switch {
	case err == nil:
		return false
	case errors.As(err, &ce), errors.As(err, &ne), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, net.ErrClosed), pgconn.SafeToRetry(err):
		return true
	case errors.As(err, &pe):
		// 08: connection exception; 57P01-03: shutting down, crashed,
		// cannot connect now.
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	return strings.Contains(err.Error(), "conn closed")
}

// secrets are the strings of a connection string that no error may show:
// its password, and the whole string.
type secrets []string

var passwordParam = regexp.MustCompile(`password\s*=\s*('(?:[^'\\]|\\.)*'|\S+)`)

func secretsOf(dsn string) secrets {
	var out secrets
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	add(dsn)
	if cfg, err := pgconn.ParseConfig(dsn); err == nil {
		add(cfg.Password)
	}
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			add(pw)
			add(url.UserPassword("", pw).String()[1:]) // as escaped in the URL
		}
		add(u.Query().Get("password"))
	}
	for _, m := range passwordParam.FindAllStringSubmatch(dsn, -1) {
		add(m[1])
		add(strings.Trim(m[1], "'"))
	}
	// Longest first, so that the DSN goes before the password in it.
	slices.SortFunc(out, func(a, b string) int { return len(b) - len(a) })
	return out
}

// clean returns err with every secret in its text replaced by <secret>
// (err itself, when its text shows none). pgx's own errors redact the
// password of a connection string they quote; this catches the rest.
func (r *reader) clean(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	scrubbed := msg
	for _, v := range r.secrets {
		scrubbed = strings.ReplaceAll(scrubbed, v, "<secret>")
	}
	if scrubbed == msg {
		return err
	}
	return &scrubbedError{msg: scrubbed, err: err}
}

// scrubbedError is an error whose text had a secret removed; it still
// unwraps to the original, for errors.Is and errors.As.
type scrubbedError struct {
	msg string
	err error
}

func (e *scrubbedError) Error() string { return e.msg }
func (e *scrubbedError) Unwrap() error { return e.err }

// partitions is the set of monthly partitions of points that exist, by the
// unix ms of the month's start.
type partitions struct {
	mu     sync.Mutex
	months map[int64]bool
}

// monthOf returns the start of the month of ts (unix ms), in UTC.
func monthOf(ts int64) time.Time {
	t := time.UnixMilli(ts).UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// partitionName is the table of the month starting at m.
func partitionName(m time.Time) string {
	return fmt.Sprintf("points_%04d%02d", m.Year(), int(m.Month()))
}

var partitionPattern = regexp.MustCompile(`^points_(\d{4})(\d{2})$`)

// partition is one monthly partition: [lo, hi) in unix ms.
type partition struct {
	name   string
	lo, hi int64
}

func partitionOf(m time.Time) partition {
	return partition{name: partitionName(m), lo: m.UnixMilli(), hi: m.AddDate(0, 1, 0).UnixMilli()}
}

// list reads the partitions of points from the catalog, oldest first.
func listPartitions(ctx context.Context, q interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}) ([]partition, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'points'::regclass`)
	if err != nil {
		return nil, err
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	var out []partition
	for _, n := range names {
		m := partitionPattern.FindStringSubmatch(n)
		if m == nil {
			continue // not ours: an analyst's, left alone
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		out = append(out, partitionOf(time.Date(y, time.Month(mo), 1, 0, 0, 0, 0, time.UTC)))
	}
	slices.SortFunc(out, func(a, b partition) int { return cmp.Compare(a.lo, b.lo) })
	return out, nil
}

func (p *partitions) load(ctx context.Context, pool *pgxpool.Pool) error {
	list, err := listPartitions(ctx, pool)
	if err != nil {
		return fmt.Errorf("list partitions: %w", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.months = map[int64]bool{}
	for _, part := range list {
		p.months[part.lo] = true
	}
	return nil
}

// ensure creates the partitions of the months of tss that are not known
// to exist, in one transaction under the advisory lock (another process
// may be creating the same one).
func (p *partitions) ensure(ctx context.Context, pool *pgxpool.Pool, tss []int64) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var missing []partition
	for _, ts := range tss {
		m := monthOf(ts)
		if !p.months[m.UnixMilli()] && !slices.ContainsFunc(missing, func(x partition) bool { return x.lo == m.UnixMilli() }) {
			missing = append(missing, partitionOf(m))
		}
	}
	if len(missing) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return err
		}
		for _, part := range missing {
			sql := fmt.Sprintf("CREATE TABLE IF NOT EXISTS %s PARTITION OF points FOR VALUES FROM (%d) TO (%d)",
				pgx.Identifier{part.name}.Sanitize(), part.lo, part.hi)
			if _, err := tx.Exec(ctx, sql); err != nil {
				return fmt.Errorf("create partition %s: %w", part.name, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, part := range missing {
		p.months[part.lo] = true
	}
	return nil
}

// forget drops the month starting at lo from the known partitions, after
// retention dropped its partition.
func (p *partitions) forget(lo int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.months, lo)
}

// forgetAll empties the known partitions, after a write found one missing
// (another process's retention dropped it).
func (p *partitions) forgetAll() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.months = map[int64]bool{}
}

// withPartitions runs write after making sure the partitions of tss
// exist; when write finds one missing nonetheless (dropped by another
// process), it forgets what it knew and tries once more.
func (s *Store) withPartitions(ctx context.Context, tss []int64, write func() error) error {
	for try := 0; ; try++ {
		if err := s.parts.ensure(ctx, s.pool, tss); err != nil {
			return err
		}
		err := write()
		var pe *pgconn.PgError
		if try == 0 && errors.As(err, &pe) && pe.Code == "23514" && strings.Contains(pe.Message, "no partition") {
			s.parts.forgetAll()
			continue
		}
		return err
	}
}

// Ping checks that the database answers, for /-/ready (as the SQLite
// store's Ping does).
func (r *reader) Ping(ctx context.Context) error { return r.clean(r.pool.Ping(ctx)) }
