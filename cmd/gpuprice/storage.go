package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/gpuprice/gpuprice/config"
	"github.com/gpuprice/gpuprice/exporter/remotewrite"
	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/postgres"
	"github.com/gpuprice/gpuprice/store/sqlite"
)

// The daemon's store is opened by driver: SQLite at once (a local file
// opens or it never will: the daemon stops), PostgreSQL in the background
// with retries (a database may come up after gpuprice, or be restarting),
// while the daemon already serves /-/healthy and says on /-/ready why it
// is not ready.

// storeGate is the daemon's store until and after it opens: the Runner,
// the collectors and the API hold it from the start, and each method
// answers errStoreNotOpen (with the reason) until open succeeds. It is safe
// for concurrent use.
type storeGate struct {
	mu     sync.RWMutex
	st     openStore // nil until open
	why    string    // why st is nil: the last failure to open
	closed bool
}

// openStore is what the daemon needs of its store, which both stores are:
// history, counts (bounded exports), /-/ready's check, and the
// remote-write targets' watermarks.
type openStore interface {
	store.Store
	store.Counter
	store.Scanner
	Ping(context.Context) error
	remotewrite.Watermarks
}

var (
	_ openStore = (*sqlite.Store)(nil)
	_ openStore = (*postgres.Store)(nil)
)

var _ store.Store = (*storeGate)(nil)

// errStoreNotOpen is what the store's methods answer before it opens.
var errStoreNotOpen = errors.New("the history store is not open yet")

// get returns the open store, or an error saying why there is none.
func (g *storeGate) get() (openStore, error) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.st == nil {
		if g.why != "" {
			return nil, fmt.Errorf("%w: %s", errStoreNotOpen, g.why)
		}
		return nil, errStoreNotOpen
	}
	return g.st, nil
}

// set makes st the store; after Close it closes st instead.
func (g *storeGate) set(st openStore) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		st.Close()
		return
	}
	g.st, g.why = st, ""
}

func (g *storeGate) failed(why string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.why = why
}

// open returns the open store, nil if none.
func (g *storeGate) open() store.Store {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.st
}

// opened reports whether the store is open, and if not, why.
func (g *storeGate) opened() (bool, string) {
	g.mu.RLock()
	defer g.mu.RUnlock()
	if g.st != nil {
		return true, ""
	}
	if g.why == "" {
		return false, "opening the history store"
	}
	return false, "history store: " + g.why
}

func (g *storeGate) Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	st, err := g.get()
	if err != nil {
		return store.Result{}, err
	}
	return st.Record(ctx, poll, snap)
}

func (g *storeGate) Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	st, err := g.get()
	if err != nil {
		return store.Result{}, err
	}
	return st.Backfill(ctx, quotes)
}

func (g *storeGate) LastKnown(ctx context.Context) ([]*price.Snapshot, error) {
	st, err := g.get()
	if err != nil {
		return nil, err
	}
	return st.LastKnown(ctx)
}

func (g *storeGate) LastPoints(ctx context.Context, provider string) (map[price.SeriesKey]time.Time, error) {
	st, err := g.get()
	if err != nil {
		return nil, err
	}
	return st.LastPoints(ctx, provider)
}

func (g *storeGate) History(ctx context.Context, q store.Query) ([]store.Series, error) {
	st, err := g.get()
	if err != nil {
		return nil, err
	}
	return st.History(ctx, q)
}

func (g *storeGate) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	st, err := g.get()
	if err != nil {
		return err
	}
	return st.HistoryEach(ctx, q, fn)
}

// HistoryScan implements store.Scanner, so that queries through the gate
// borrow the store's buffers as they would from the store.
func (g *storeGate) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	st, err := g.get()
	if err != nil {
		return err
	}
	return st.HistoryScan(ctx, q, fn)
}

// PollTimes implements store.PollTimer, as HistoryScan does: through
// the store's own where it has one.
func (g *storeGate) PollTimes(ctx context.Context, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	st, err := g.get()
	if err != nil {
		return err
	}
	return store.PollTimes(ctx, st, start, end, fn)
}

func (g *storeGate) Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	st, err := g.get()
	if err != nil {
		return nil, err
	}
	return st.Polls(ctx, provider, start, end)
}

func (g *storeGate) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	st, err := g.get()
	if err != nil {
		return 0, err
	}
	return st.DeleteBefore(ctx, t)
}

// Close closes the store if it is open; a store opened later is closed at
// once.
func (g *storeGate) Close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closed = true
	if g.st == nil {
		return nil
	}
	return g.st.Close()
}

// openBackoff is the first and the longest wait between attempts to open
// a PostgreSQL store; each failure doubles the wait.
var openBackoff = struct{ first, max time.Duration }{time.Second, 30 * time.Second}

// openAttemptTimeout bounds one attempt (connecting, migrating, loading).
const openAttemptTimeout = time.Minute

// openPostgres opens the PostgreSQL store of dsn into g, retrying with
// backoff until it succeeds or ctx ends; it reports whether it succeeded.
// Every failure is logged (its text has no password: see store/postgres)
// and becomes /-/ready's reason.
func openPostgres(ctx context.Context, logger *slog.Logger, dsn string, g *storeGate) bool {
	wait := openBackoff.first
	for {
		actx, cancel := context.WithTimeout(ctx, openAttemptTimeout)
		st, err := postgres.Open(actx, dsn, postgres.Options{})
		cancel()
		if err == nil {
			g.set(st)
			logger.Info("store opened", "driver", config.Postgres, "database", postgres.Describe(dsn))
			return true
		}
		if ctx.Err() != nil {
			return false
		}
		g.failed(fmt.Sprintf("%v (retrying in %s)", err, wait))
		logger.Warn("cannot open the store; retrying", "driver", config.Postgres, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
		wait = min(2*wait, openBackoff.max)
	}
}

// historyReader is a read-only store the history, export and breakeven
// commands query.
type historyReader interface {
	store.Reader
	Close() error
}

// openReader opens the store of cfg read-only: the SQLite store in dir
// (given by --storage.path, which wins over the configuration, or
// storage.path), or the PostgreSQL store of storage.dsn.
func openReader(ctx context.Context, cfg *config.Config, dir string) (historyReader, error) {
	if dir == "" && cfg.Storage.Driver == config.Postgres {
		r, err := postgres.OpenReader(ctx, cfg.Storage.DSN.Value(), postgres.Options{MaxConns: 2})
		if err != nil {
			return nil, fmt.Errorf("%w (or --server to ask a running gpuprice)", err)
		}
		return r, nil
	}
	if dir == "" {
		dir = cfg.Storage.Path
	}
	r, err := sqlite.OpenReader(dir, sqlite.Options{})
	if err != nil {
		return nil, fmt.Errorf("%w (give --storage.path, or --server to ask a running gpuprice)", err)
	}
	return r, nil
}

// describeStorage names the store of cfg, for logs and check-config: never
// the DSN's password.
func describeStorage(s config.Storage) string {
	if s.Driver == config.Postgres {
		return postgres.Describe(s.DSN.Value())
	}
	return s.Path
}

// Ping implements what /-/ready checks: the store is open and answers.
func (g *storeGate) Ping(ctx context.Context) error {
	st, err := g.get()
	if err != nil {
		return err
	}
	return st.Ping(ctx)
}

// Count implements store.Counter, so that exports stay bounded.
func (g *storeGate) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	st, err := g.get()
	if err != nil {
		return nil, err
	}
	return st.Count(ctx, q)
}

// Watermark and SetWatermark keep the remote-write targets' progress in
// the open store (both stores keep it: remotewrite.Watermarks).
func (g *storeGate) Watermark(ctx context.Context, target string) (time.Time, error) {
	st, err := g.get()
	if err != nil {
		return time.Time{}, err
	}
	return st.Watermark(ctx, target)
}

// SetWatermark: see Watermark.
func (g *storeGate) SetWatermark(ctx context.Context, target string, t time.Time) error {
	st, err := g.get()
	if err != nil {
		return err
	}
	return st.SetWatermark(ctx, target, t)
}
