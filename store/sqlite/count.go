package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

var (
	_ store.Counter = (*Store)(nil)
	_ store.Counter = (*Reader)(nil)
)

// Count implements store.Counter: one pass over the primary key, which
// reads no price.
func (s *Store) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	return countSeries(ctx, s.r, q)
}

// Count implements store.Counter.
func (r *Reader) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	return countSeries(ctx, r.db, q)
}

var countQuery = `
	SELECT ` + columnList(columns, "s.") + `, count(*), min(p.ts), max(p.ts)
	FROM series s INDEXED BY sqlite_autoindex_series_1
	JOIN points p ON p.series_id = s.id
	     AND p.ts >= coalesce((SELECT max(ts) FROM points WHERE series_id = s.id AND ts <= ?1), ?1)
	     AND p.ts <= ?2`

func countSeries(ctx context.Context, db *sql.DB, q store.Query) ([]store.SeriesCount, error) {
	start, end := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		start = ms(q.Start)
	}
	if !q.End.IsZero() {
		end = ms(q.End)
	}
	if end < start {
		return nil, nil
	}
	where, args := filter(q, "s.", 3)
	rows, err := db.QueryContext(ctx, countQuery+where+" GROUP BY s.id"+historySeriesOrder, append([]any{start, end}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("count history: %w", err)
	}
	defer rows.Close()
	var out []store.SeriesCount
	for rows.Next() {
		var (
			c           store.SeriesCount
			first, last int64
		)
		var l price.Quote
		if err := rows.Scan(append(labelFields(&l), &c.Points, &first, &last)...); err != nil {
			return nil, fmt.Errorf("count history: %w", err)
		}
		c.Labels, c.First, c.Last = l, fromMS(first), fromMS(last)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count history: %w", err)
	}
	return out, nil
}
