package postgres

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/store/internal/blocks"
)

// The packed copy of history (point_blocks, see store/internal/blocks and
// migrations/0005_point_blocks.sql) is kept by the triggers on points,
// which shrink a series' packed range when a write lands inside it, and by
// Pack, which extends the ranges up to a minute ago.

// packLock is the key of the transaction-level advisory lock between
// packing and writing points ("gppb"): Pack takes it exclusive, the
// triggers on points and retention shared. The migration's trigger spells
// it out too.
const packLock = 0x67707062

// packChunk is the number of series one pack transaction covers: writers
// of points wait while it runs.
const packChunk = 256

// packer says when the store last packed, so that Record packs every
// blocks.Every.
type packer struct {
	mu   sync.Mutex   // held while packing: one pack at a time per Store
	last atomic.Int64 // unix ns of the last pack's end; 0: none, so the first Record after Open packs

	// The background pack (autoPack): state guards running, wanted and
	// closed; wg is what Close waits for.
	state   sync.Mutex
	running bool
	wanted  bool // another pass after the running one: a write came
	closed  bool
	wg      sync.WaitGroup
}

// dueSQL lists the series with points not packed yet before $1: after
// their packed range (points before it, left by retention, stay unpacked).
// Each series is one probe of the primary key: the LIMIT keeps the planner
// from making it a join of all points, as it would (EXISTS) on tables
// without statistics yet.
const dueSQL = `SELECT s.id FROM series s
	CROSS JOIN LATERAL (SELECT 1 FROM points p WHERE p.series_id = s.id AND p.ts >= s.packed_until AND p.ts < $1 LIMIT 1) p
	WHERE s.packed_until < $1
	ORDER BY s.id`

// packSQL rebuilds the blocks of the series $1 from the block of their
// packed_until (or packed_from, when later) up to $2, and ends their
// packed range at $2. Each series' points are read through the primary
// key (LATERAL; OFFSET 0 keeps the planner from making it a join over all
// points, as it did on a fresh backfill without statistics), from the start of the block packed_until falls in: that
// block holds the points before packed_until already, and is written
// whole again. Only a block with amounts (few series are priced in
// another currency) reads its points a second time, for them: a second
// ordered aggregate over every block cost a third of the time.
const packSQL = `WITH k AS (
		SELECT id, greatest(packed_from, (packed_until / 604800000) * 604800000) AS lo FROM series
		WHERE id = ANY($1) AND packed_until < $2
	), b AS (
		SELECT k.id, k.lo, p.ts / 604800000 AS block, count(p.currency_per_hour) AS amounts,
			string_agg(int8send(p.ts) || float8send(coalesce(p.usd_per_hour, 'NaN')), ''::bytea ORDER BY p.ts) AS points
		FROM k CROSS JOIN LATERAL (SELECT ts, usd_per_hour, currency_per_hour FROM points
			WHERE series_id = k.id AND ts >= k.lo AND ts < $2 OFFSET 0) p
		GROUP BY k.id, k.lo, p.ts / 604800000
	), written AS (
		INSERT INTO point_blocks (series_id, block, points, amounts)
		SELECT id, block, points, CASE WHEN amounts > 0 THEN (
			SELECT string_agg(float8send(coalesce(currency_per_hour, 'NaN')), ''::bytea ORDER BY ts) FROM points
			WHERE series_id = b.id AND ts >= greatest(b.lo, b.block * 604800000) AND ts < least($2, (b.block + 1) * 604800000)) END
		FROM b
		ON CONFLICT (series_id, block) DO UPDATE SET points = excluded.points, amounts = excluded.amounts
	)
	UPDATE series s SET packed_until = $2 FROM k WHERE s.id = k.id`

// Pack implements storetest.Packer: it packs every series' points up to
// blocks.Lag ago that are after its packed range, a chunk of series per
// transaction. Each transaction takes packLock exclusive first and reads
// the ranges and points after, so that it sees every write whose trigger
// ran before; a write whose trigger runs after sees the range it set. In
// an HA group every replica may pack: the lock serializes them, and a
// series packed already is skipped. The store packs by itself after a
// backfill, after retention, and after a refresh once blocks.Every has
// passed since it last did; Pack is for tests and tools that cannot wait.
func (s *Store) Pack(ctx context.Context) error {
	s.packer.mu.Lock()
	defer s.packer.mu.Unlock()
	return s.pack(ctx)
}

// pack is Pack with packer.mu held.
func (s *Store) pack(ctx context.Context) error {
	limit := blocks.Limit(time.Now())
	rows, err := s.pool.Query(ctx, dueSQL, limit)
	if err != nil {
		return s.clean(fmt.Errorf("pack: %w", err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return s.clean(fmt.Errorf("pack: %w", err))
	}
	for len(ids) > 0 {
		chunk := ids[:min(packChunk, len(ids))]
		ids = ids[len(chunk):]
		err := s.inTx(ctx, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", packLock); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, packSQL, chunk, limit)
			return err
		})
		if err != nil {
			return s.clean(fmt.Errorf("pack: %w", err))
		}
	}
	s.packer.last.Store(time.Now().UnixNano())
	return nil
}

// autoPack packs in the background after a write, when force or
// blocks.Every has passed since the last pack; a write during a pack
// asks for one more pass. The write is committed already: a failed pack
// does not fail it, and is tried again after the next write (the store
// has no logger to report it to; history stays right, only slower to
// read). The pack's context is not the write's: it outlives the call.
func (s *Store) autoPack(force bool) {
	p := &s.packer
	p.state.Lock()
	defer p.state.Unlock()
	if p.closed {
		return
	}
	if !force && time.Since(time.Unix(0, p.last.Load())) < blocks.Every {
		return
	}
	if p.running {
		p.wanted = true
		return
	}
	p.running = true
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			_ = s.Pack(context.Background()) //nolint:errcheck // see above
			p.state.Lock()
			if !p.wanted || p.closed {
				p.running = false
				p.state.Unlock()
				return
			}
			p.wanted = false
			p.state.Unlock()
		}
	}()
}

// stopPacking waits for a background pack to end and starts no more.
func (s *Store) stopPacking() {
	s.packer.state.Lock()
	s.packer.closed = true
	s.packer.state.Unlock()
	s.packer.wg.Wait()
}
