package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/gpuprice/gpuprice/store/internal/blocks"
)

// packChunk is how many series one pack transaction covers, so that a
// first pack of a large store lets refreshes in between.
const packChunk = 256

const (
	// The series with points to pack: some after the packed range and
	// before the limit (?1), in id order from ?2 on.
	packDueSQL = `SELECT id, packed_from, packed_until FROM series s
		WHERE id > ?2 AND packed_until < ?1
		  AND EXISTS (SELECT 1 FROM points WHERE series_id = s.id AND ts >= s.packed_until AND ts < ?1)
		ORDER BY id LIMIT ?3`
	packReadSQL = `SELECT ts, usd_per_hour, currency_per_hour FROM points
		WHERE series_id = ? AND ts >= ? AND ts < ? ORDER BY ts`
	packWriteSQL = `INSERT OR REPLACE INTO point_blocks (series_id, block, points, amounts) VALUES (?, ?, ?, ?)`
	packedSQL    = `UPDATE series SET packed_until = ? WHERE id = ?`
)

// Pack implements storetest.Packer: it packs the points each series got
// since its last pack, up to a minute ago, into point_blocks (see
// store/internal/blocks). The store packs on its own, in the background,
// after a backfill and every blocks.Every of refreshes; a failed pack
// leaves the points to be read from points, and the next one catches up.
func (s *Store) Pack(ctx context.Context) error {
	limit := blocks.Limit(time.Now())
	var after int64
	for {
		n, last, err := s.packSome(ctx, limit, after)
		if err != nil {
			return fmt.Errorf("pack history: %w", err)
		}
		if n < packChunk {
			s.packedAt.Store(time.Now().UnixNano())
			return nil
		}
		if s.closed.Load() {
			return nil // Close waits for a background pack
		}
		after = last
	}
}

// packDue starts a pack in the background when blocks.Every has passed
// since the last one and none is running. Pack works a chunk of series at
// a time and stops when the store closes; Close waits for it. Its context
// is never cancelled: database/sql would roll a cancelled transaction
// back in a goroutine of its own, which could outlive Close and hold the
// file's lock.
func (s *Store) packDue() {
	if time.Since(time.Unix(0, s.packedAt.Load())) < blocks.Every || !s.packing.CompareAndSwap(false, true) {
		return
	}
	s.packWG.Add(1)
	go func() {
		defer s.packWG.Done()
		defer s.packing.Store(false)
		_ = s.Pack(context.Background()) // see Pack: reads stay right without it
	}()
}

type packRange struct{ id, from, until int64 }

// packSome packs, in one transaction, the series due after id after: n
// of them, the last of id last.
func (s *Store) packSome(ctx context.Context, limit, after int64) (n int, last int64, err error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		due, err := dueSeries(ctx, tx, limit, after)
		if err != nil {
			return err
		}
		n = len(due)
		var b blocks.Builder
		for _, r := range due {
			last = r.id
			// The week holding the end of the range is packed anew, from
			// its start.
			from := max(r.from, blocks.Of(r.until)*blocks.Span)
			if err := packSeries(ctx, tx, &b, r.id, from, limit); err != nil {
				return err
			}
		}
		return nil
	})
	return n, last, err
}

// dueSeries lists the series with points to pack (packDueSQL).
func dueSeries(ctx context.Context, tx *sql.Tx, limit, after int64) ([]packRange, error) {
	rows, err := tx.QueryContext(ctx, packDueSQL, limit, after, packChunk)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var due []packRange
	for rows.Next() {
		var r packRange
		if err := rows.Scan(&r.id, &r.from, &r.until); err != nil {
			return nil, err
		}
		due = append(due, r)
	}
	return due, rows.Err()
}

// packSeries writes the blocks of series id's points in [from, limit) and
// ends its packed range at limit.
func packSeries(ctx context.Context, tx *sql.Tx, b *blocks.Builder, id, from, limit int64) error {
	type point struct {
		ts          int64
		usd, amount sql.NullFloat64
	}
	rows, err := tx.QueryContext(ctx, packReadSQL, id, from, limit)
	if err != nil {
		return err
	}
	var pts []point
	for rows.Next() {
		var p point
		if err := rows.Scan(&p.ts, &p.usd, &p.amount); err != nil {
			rows.Close()
			return err
		}
		pts = append(pts, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rctx := rowContext(ctx)
	for i := 0; i < len(pts); {
		block := blocks.Of(pts[i].ts)
		b.Reset()
		for ; i < len(pts) && blocks.Of(pts[i].ts) == block; i++ {
			p := pts[i]
			b.Add(p.ts, p.usd.Float64, !p.usd.Valid, p.amount.Float64, p.amount.Valid)
		}
		packed, amounts := b.Values()
		var a any
		if amounts != nil {
			a = amounts
		}
		if _, err := tx.ExecContext(rctx, packWriteSQL, id, block, packed, a); err != nil {
			return fmt.Errorf("write block %d of series %d: %w", block, id, err)
		}
	}
	_, err = tx.ExecContext(rctx, packedSQL, limit, id)
	return err
}
