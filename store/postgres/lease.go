package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// The HA group's side of the store: per-provider leases with epochs
// (migrations/0002_leases.sql), the fence that every write of a lease
// holder carries, the members table that tells replicas how many they
// are, and the notification of each committed refresh, so that replicas
// that do not refresh a provider pick up another's refresh at once. Leases
// are rows, not session advisory locks: a pool's connections come and go
// (MaxConnLifetime), a lease must not.

// Fence is the lease under which a write is made: provider's, at epoch,
// held by holder.
type Fence struct {
	Provider string
	Holder   string
	Epoch    int64
}

type fenceKey struct{}

// WithFence returns ctx carrying f. A Record or Backfill of f.Provider made
// with it checks, in its transaction, that f still holds the lease, and
// fails with ErrFenced if not; the check locks the lease row, so that a
// takeover waits until the write is committed.
func WithFence(ctx context.Context, f Fence) context.Context {
	return context.WithValue(ctx, fenceKey{}, f)
}

// FenceOf returns the fence ctx carries, if any.
func FenceOf(ctx context.Context) (Fence, bool) {
	f, ok := ctx.Value(fenceKey{}).(Fence)
	return f, ok
}

// ErrFenced is the error of a write whose fence no longer holds the lease.
var ErrFenced = errors.New("lease lost")

// checkFence fails unless ctx carries no fence, or one of provider that
// still holds the lease.
func checkFence(ctx context.Context, tx pgx.Tx, provider string) error {
	f, ok := FenceOf(ctx)
	if !ok {
		return nil
	}
	if f.Provider != provider {
		return fmt.Errorf("%w: a write of %s under the lease of %s", ErrFenced, provider, f.Provider)
	}
	var epoch int64
	err := tx.QueryRow(ctx, `SELECT epoch FROM leases WHERE provider = $1 AND holder = $2 AND epoch = $3 FOR SHARE`,
		f.Provider, f.Holder, f.Epoch).Scan(&epoch)
	if errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("%w: %s no longer holds the lease of %s at epoch %d", ErrFenced, f.Holder, f.Provider, f.Epoch)
	}
	return err
}

// fenceBackfill checks that a fenced backfill writes only its provider's
// quotes.
func fenceBackfill(ctx context.Context, quotes []price.Quote) (string, error) {
	f, ok := FenceOf(ctx)
	if !ok {
		return "", nil
	}
	for i := range quotes {
		if quotes[i].Provider != f.Provider {
			return "", fmt.Errorf("%w: a backfill of %s under the lease of %s", ErrFenced, quotes[i].Provider, f.Provider)
		}
	}
	return f.Provider, nil
}

// Lease is one provider's lease as the database has it.
type Lease struct {
	Provider  string
	Holder    string
	Epoch     int64
	ExpiresAt time.Time
	// Held is true while the lease has not expired.
	Held bool
}

// acquireSQL takes a lease that is free or expired (with the next epoch),
// or renews one the holder has (same epoch while it has not expired).
const acquireSQL = `INSERT INTO leases AS l (provider, holder, epoch, expires_at)
	VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
	ON CONFLICT (provider) DO UPDATE SET
		holder = excluded.holder,
		epoch = CASE WHEN l.holder = excluded.holder AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
		expires_at = excluded.expires_at
	WHERE l.holder = excluded.holder OR l.expires_at <= now()
	RETURNING epoch, expires_at`

// Acquire takes provider's lease for holder for ttl, or renews it. It
// reports false, with the lease as it is, when another holder has it.
func (s *Store) Acquire(ctx context.Context, provider, holder string, ttl time.Duration) (Lease, bool, error) {
	l := Lease{Provider: provider, Holder: holder, Held: true}
	err := s.pool.QueryRow(ctx, acquireSQL, provider, holder, ttl.Milliseconds()).Scan(&l.Epoch, &l.ExpiresAt)
	if errors.Is(err, pgx.ErrNoRows) {
		err = s.pool.QueryRow(ctx, `SELECT holder, epoch, expires_at, expires_at > now() FROM leases WHERE provider = $1`, provider).
			Scan(&l.Holder, &l.Epoch, &l.ExpiresAt, &l.Held)
		if err != nil {
			return Lease{}, false, s.clean(fmt.Errorf("read lease of %s: %w", provider, err))
		}
		return l, false, nil
	}
	if err != nil {
		return Lease{}, false, s.clean(fmt.Errorf("acquire lease of %s: %w", provider, err))
	}
	return l, true, nil
}

// Release gives provider's lease up at once, if holder has it, so that
// another replica need not wait for it to expire.
func (s *Store) Release(ctx context.Context, provider, holder string) error {
	_, err := s.pool.Exec(ctx, `UPDATE leases SET expires_at = now() WHERE provider = $1 AND holder = $2 AND expires_at > now()`, provider, holder)
	return s.clean(err)
}

// Leases returns every provider's lease.
func (s *Store) Leases(ctx context.Context) ([]Lease, error) {
	rows, err := s.pool.Query(ctx, `SELECT provider, holder, epoch, expires_at, expires_at > now() FROM leases ORDER BY provider`)
	if err != nil {
		return nil, s.clean(fmt.Errorf("read leases: %w", err))
	}
	var (
		out []Lease
		l   Lease
	)
	_, err = pgx.ForEachRow(rows, []any{&l.Provider, &l.Holder, &l.Epoch, &l.ExpiresAt, &l.Held}, func() error {
		out = append(out, l)
		return nil
	})
	if err != nil {
		return nil, s.clean(fmt.Errorf("read leases: %w", err))
	}
	return out, nil
}

// Heartbeat says that instance is alive and returns how many members were
// seen within ttl, itself included. Members unseen for a day are
// forgotten.
func (s *Store) Heartbeat(ctx context.Context, instance string, ttl time.Duration) (int, error) {
	var n int
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO members (instance, seen_at) VALUES ($1, now())
			ON CONFLICT (instance) DO UPDATE SET seen_at = now()`, instance); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE seen_at < now() - interval '1 day'`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT count(*) FROM members WHERE seen_at > now() - $1 * interval '1 millisecond'`, ttl.Milliseconds()).Scan(&n)
	})
	if err != nil {
		return 0, s.clean(fmt.Errorf("heartbeat: %w", err))
	}
	return n, nil
}

// Leave removes instance from the members and gives up its leases, when
// it stops.
func (s *Store) Leave(ctx context.Context, instance string) error {
	return s.clean(s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE instance = $1`, instance); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE leases SET expires_at = now() WHERE holder = $1 AND expires_at > now()`, instance)
		return err
	}))
}

// refreshChannel is the channel a committed refresh is notified on, its
// payload the provider.
const refreshChannel = "gpuprice_refresh"

// Listen calls fn with the provider of every refresh committed by any
// process from now on, until ctx ends or the connection fails (it returns
// the error; the caller listens again, and reloads what it may have
// missed). It uses a connection of its own, outside the pool.
func (s *Store) Listen(ctx context.Context, fn func(provider string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return s.clean(fmt.Errorf("listen: %w", err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+refreshChannel); err != nil {
		return s.clean(fmt.Errorf("listen: %w", err))
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return s.clean(fmt.Errorf("listen: %w", err))
		}
		fn(n.Payload)
	}
}

// Reload reads provider's series, their last points and its last
// successful refresh from the database again, replacing what the store
// knew: another process may have written them (a replica that held the
// lease before this one). It returns the provider's snapshot of LastKnown
// as reloaded (nil when it has none).
func (s *Store) Reload(ctx context.Context, provider string) (*price.Snapshot, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	rows, err := s.pool.Query(ctx, loadSeriesSQL+` WHERE s.provider = $1`, provider)
	if err != nil {
		return nil, s.clean(fmt.Errorf("reload %s: %w", provider, err))
	}
	var series []*last.Series
	if err := scanSeries(rows, func(sr *last.Series) { series = append(series, sr) }); err != nil {
		return nil, s.clean(fmt.Errorf("reload %s: %w", provider, err))
	}
	var (
		ok         *last.OKPoll
		start, dur int64
	)
	err = s.pool.QueryRow(ctx, `SELECT started_at, duration_ms FROM polls WHERE provider = $1 AND ok = 1
		ORDER BY started_at DESC, id DESC LIMIT 1`, provider).Scan(&start, &dur)
	switch {
	case err == nil:
		ok = &last.OKPoll{Start: start, End: start + dur}
	case !errors.Is(err, pgx.ErrNoRows):
		return nil, s.clean(fmt.Errorf("reload %s: %w", provider, err))
	}
	s.mem.ReplaceProvider(provider, series, ok)
	return s.mem.LastKnownOf(provider), nil
}
