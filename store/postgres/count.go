package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

var _ store.Counter = (*reader)(nil)

// countChunk is the number of series one counting query covers.
const countChunk = 1000

// countQuery counts the points of each series $1 from the one in effect at
// the start ($2) to the end ($3), with their first and last times, through
// the primary key of each partition: no price is read.
const countQuery = `SELECT k.id, c.n, c.first, c.last FROM unnest($1::bigint[]) AS k(id)
	CROSS JOIN LATERAL (SELECT count(*) AS n, min(p.ts) AS first, max(p.ts) AS last FROM points p
		WHERE p.series_id = k.id
		  AND p.ts >= coalesce((SELECT max(ts) FROM points WHERE series_id = k.id AND ts <= $2), $2) AND p.ts <= $3) c
	WHERE c.n > 0`

// Count implements store.Counter, so that the API bounds exports from
// PostgreSQL as it does from SQLite. It reads in one REPEATABLE READ
// transaction, as HistoryEach does.
func (r *reader) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	start, end, ok := last.MSRange(q.Start, q.End)
	if !ok {
		return nil, nil
	}
	var out []store.SeriesCount
	err := func() error {
		tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to lose
		list, err := matchingSeries(ctx, tx, q)
		if err != nil {
			return err
		}
		for len(list) > 0 {
			chunk := list[:min(countChunk, len(list))]
			list = list[len(chunk):]
			ids := make([]int64, len(chunk))
			for i := range chunk {
				ids[i] = chunk[i].id
			}
			counts := make(map[int64]store.SeriesCount, len(chunk))
			var (
				id, n, first, lastTS int64
			)
			rows, err := tx.Query(ctx, countQuery, ids, start, end)
			if err != nil {
				return err
			}
			if _, err := pgx.ForEachRow(rows, []any{&id, &n, &first, &lastTS}, func() error {
				counts[id] = store.SeriesCount{Points: int(n), First: last.FromMS(first), Last: last.FromMS(lastTS)}
				return nil
			}); err != nil {
				return err
			}
			for i := range chunk {
				if c, ok := counts[chunk[i].id]; ok {
					c.Labels = chunk[i].labels
					out = append(out, c)
				}
			}
		}
		return nil
	}()
	if err != nil {
		return nil, r.clean(fmt.Errorf("count history: %w", err))
	}
	return out, nil
}
