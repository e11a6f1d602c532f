package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

var (
	_ store.Counter = (*Store)(nil)
	_ store.Counter = (*Reader)(nil)
)

// Count implements store.Counter: one pass over the primary key, which
// reads no price.
func (s *Store) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	return countSeries(ctx, s.r, currentQueries, q)
}

// Count implements store.Counter.
func (r *Reader) Count(ctx context.Context, q store.Query) ([]store.SeriesCount, error) {
	return countSeries(ctx, r.db, r.rq, q)
}

// countRange is the range readQueries.count counts each series' points in,
// with three correlated lookups of its primary-key range, from the point in
// effect at the start (?1) to the end (?2): count, first, last. Walking the
// series in key order through their index, it needs no temporary B-tree,
// and reads no price: ~15M points/s, against ~1.5M/s for reading them.
const countRange = `FROM points p WHERE p.series_id = s.id
	     AND p.ts >= coalesce((SELECT max(ts) FROM points WHERE series_id = s.id AND ts <= ?1), ?1) AND p.ts <= ?2`

func countSeries(ctx context.Context, db *sql.DB, rq *readQueries, q store.Query) ([]store.SeriesCount, error) {
	start, end, ok := msRange(q)
	if !ok {
		return nil, nil
	}
	where, args := filter(q, "s.", 3)
	rows, err := db.QueryContext(ctx, rq.count+where+historySeriesOrder, append([]any{start, end}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("count history: %w", err)
	}
	defer rows.Close()
	var out []store.SeriesCount
	for rows.Next() {
		var c store.SeriesCount
		var (
			l             price.Quote
			first, lastTS sql.NullInt64
		)
		if err := rows.Scan(append(last.LabelFields(&l), &c.Points, &first, &lastTS)...); err != nil {
			return nil, fmt.Errorf("count history: %w", err)
		}
		if c.Points == 0 {
			continue // no point in the range: History leaves the series out
		}
		c.Labels, c.First, c.Last = l, last.FromMS(first.Int64), last.FromMS(lastTS.Int64)
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count history: %w", err)
	}
	return out, nil
}
