package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/blocks"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

var (
	insertSeriesSQL = `INSERT INTO series (` + last.ColumnList(last.Columns, "") + `) VALUES (?` + strings.Repeat(", ?", len(last.Columns)-1) + `)`
	updateLabelsSQL = `UPDATE series SET ` + strings.Join(price.LabelNames(last.ValueLabels), " = ?, ") + ` = ? WHERE id = ?`
)

const (
	// A refresh overrides a point at the very same millisecond: it is the
	// newer observation.
	upsertPointSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour) VALUES (?, ?, ?, ?)
		ON CONFLICT (series_id, ts) DO UPDATE SET usd_per_hour = excluded.usd_per_hour,
			currency_per_hour = excluded.currency_per_hour`
	// A backfill never overrides: re-running one must write nothing.
	insertPointSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour) VALUES (?, ?, ?, ?)
		ON CONFLICT (series_id, ts) DO NOTHING`
	insertPollSQL = `INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error)
		VALUES (?, ?, ?, ?, ?, ?)`
	// Deletes a series' points before the one in effect at the cut.
	deletePointsSQL = `DELETE FROM points WHERE series_id = ?1
		AND ts < (SELECT max(ts) FROM points WHERE series_id = ?1 AND ts < ?2)`
	// Starts series ?1's packed range at ?2 (or further: an empty range
	// there) when it starts before.
	unpackBeforeSQL = `UPDATE series SET packed_from = ?2, packed_until = max(packed_until, ?2)
		WHERE id = ?1 AND packed_from < ?2`
	// Drops series ?1's blocks outside its packed range, which starts at
	// ?2: those before it, and every one when the range is empty.
	dropBlocksSQL = `DELETE FROM point_blocks WHERE series_id = ?1
		AND (block < ?2 / ` + blocks.SpanSQL + ` OR (SELECT packed_until <= packed_from FROM series WHERE id = ?1))`
	// Deletes a batch of old polls, sparing each provider's last
	// successful one, which LastKnown reports.
	deletePollsSQL = `DELETE FROM polls WHERE id IN (
		SELECT id FROM polls WHERE started_at < ?1 AND id NOT IN (
			SELECT id FROM (SELECT id, max(started_at) FROM polls WHERE ok = 1 GROUP BY provider))
		LIMIT ?2)`
)

// deleteBatch is how many series (or polls) one retention transaction
// covers, so that a long DeleteBefore lets refreshes in between.
const deleteBatch = 1000

// rowContext is the context for the many small statements of one write
// transaction. It drops ctx's cancellation: for a cancellable context the
// driver starts a goroutine per statement to watch it, which nearly
// doubled the time of a million-point backfill. Cancelling still works:
// database/sql rolls the transaction back when ctx ends, and the next
// statement fails (inTx then reports ctx's error).
func rowContext(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// Record implements store.Store. The poll must be OK exactly when snap is
// not nil, and every quote must be of poll.Provider with a finite price;
// otherwise Record writes nothing and returns an error. Should a snapshot
// list one series twice, its first quote counts.
func (s *Store) Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	if err := last.CheckRecord(poll, snap); err != nil {
		return store.Result{}, fmt.Errorf("record %s refresh: %w", poll.Provider, err)
	}
	res, err := s.record(ctx, poll, snap)
	if err == nil {
		s.packDue()
	}
	return res, err
}

func (s *Store) record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	c, res := s.mem.PlanRecord(poll, snap)
	start, dur := last.MS(poll.Start), poll.Duration.Milliseconds()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := writeChange(ctx, tx, &c); err != nil {
			return err
		}
		var perr any // NULL for a successful poll
		if poll.Error != "" {
			perr = poll.Error
		}
		_, err := tx.ExecContext(ctx, insertPollSQL, poll.Provider, start, dur, poll.OK, poll.Quotes, perr)
		return err
	})
	if err != nil {
		return store.Result{}, fmt.Errorf("record %s refresh: %w", poll.Provider, err)
	}
	s.mem.Apply(&c)
	return res, nil
}

// writeChange writes a Record's change.
func writeChange(ctx context.Context, tx *sql.Tx, c *last.Change) error {
	if err := insertSeries(ctx, tx, c.Fresh); err != nil {
		return err
	}
	var q price.Quote
	for _, rl := range c.Relabels {
		last.SetLabels(&q, rl.S.Key, rl.L)
		if _, err := tx.ExecContext(ctx, updateLabelsSQL, append(last.ColumnArgs(last.ValueLabels, &q), rl.S.ID)...); err != nil {
			return fmt.Errorf("update labels of %s: %w", rl.S.Key, err)
		}
	}
	if len(c.Points) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, upsertPointSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	rctx := rowContext(ctx)
	for _, p := range c.Points {
		if _, err := stmt.ExecContext(rctx, p.S.ID, p.TS, p.Value(), p.AmountValue()); err != nil {
			return fmt.Errorf("write point of %s: %w", p.S.Key, err)
		}
	}
	return nil
}

// insertSeries inserts new series and sets their ids.
func insertSeries(ctx context.Context, tx *sql.Tx, fresh []*last.Series) error {
	if len(fresh) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, insertSeriesSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	rctx := rowContext(ctx)
	var q price.Quote
	for _, sr := range fresh {
		last.SetLabels(&q, sr.Key, sr.Labels)
		r, err := stmt.ExecContext(rctx, last.ColumnArgs(last.Columns, &q)...)
		if err != nil {
			return fmt.Errorf("create series %s: %w", sr.Key, err)
		}
		if sr.ID, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("create series %s: %w", sr.Key, err)
		}
	}
	return nil
}

// Backfill implements store.Store. Points are sorted by (series, time) and
// written in transactions of Options.BackfillBatch points, so that each
// series' points land in neighbouring B-tree pages. Labels of existing
// series are left as they are: history may carry an older GPU mapping.
// On error, the batches already committed stay (re-running the backfill
// completes it) and the Result counts them.
func (s *Store) Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	if err := last.CheckBackfill(quotes); err != nil {
		return store.Result{}, fmt.Errorf("backfill: %w", err)
	}
	res, err := s.backfill(ctx, quotes)
	if res.Points > 0 {
		s.packedAt.Store(0)
		s.packDue()
	}
	return res, err
}

func (s *Store) backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	rows := s.mem.PlanBackfill(quotes)

	var total store.Result
	for start := 0; start < len(rows); start += s.opts.BackfillBatch {
		batch := rows[start:min(start+s.opts.BackfillBatch, len(rows))]
		var (
			c   last.Change
			res store.Result
		)
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			c, res, err = backfillBatch(ctx, tx, quotes, batch)
			return err
		})
		if err != nil {
			for _, sr := range c.Fresh {
				sr.ID = 0 // rolled back: a re-run inserts it again
			}
			return total, fmt.Errorf("backfill: %w", err)
		}
		s.mem.Apply(&c)
		if s.afterBatch != nil {
			s.afterBatch()
		}
		total.NewSeries += res.NewSeries
		total.Points += res.Points
		total.Skipped += res.Skipped
	}
	return total, nil
}

// backfillBatch writes one transaction of a backfill.
func backfillBatch(ctx context.Context, tx *sql.Tx, quotes []price.Quote, batch []last.BackfillRow) (last.Change, store.Result, error) {
	var (
		c   last.Change
		res store.Result
	)
	stmt, err := tx.PrepareContext(ctx, insertPointSQL)
	if err != nil {
		return c, res, err
	}
	defer stmt.Close()
	rctx := rowContext(ctx)
	for _, r := range batch {
		if r.S.ID == 0 {
			if err := insertSeries(ctx, tx, []*last.Series{r.S}); err != nil {
				return c, res, err
			}
			c.Fresh = append(c.Fresh, r.S)
		}
		usd, amount := quotes[r.I].USDPerHour, quotes[r.I].CurrencyPerHour
		sr, err := stmt.ExecContext(rctx, r.S.ID, r.TS, usd, last.AmountValue(amount, false))
		if err != nil {
			return c, res, fmt.Errorf("write point of %s: %w", r.S.Key, err)
		}
		if n, err := sr.RowsAffected(); err != nil {
			return c, res, err
		} else if n == 0 {
			res.Skipped++
			continue
		}
		res.Points++
		// Rows are sorted, so the last one written of a series' run is
		// its newest: the only one that may become its last point.
		p := last.Point{S: r.S, TS: r.TS, USD: usd, Amount: amount}
		if n := len(c.Points); n > 0 && c.Points[n-1].S == r.S {
			c.Points[n-1] = p
		} else {
			c.Points = append(c.Points, p)
		}
	}
	res.NewSeries = len(c.Fresh)
	return c, res, nil
}

// DeleteBefore implements store.Store. It works in transactions of a
// thousand series, so that refreshes are not held up for long; each
// provider's last successful poll is kept, as LastKnown reports it.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := last.MS(t)
	ids := s.mem.IDs()

	var deleted int64
	for len(ids) > 0 {
		batch := ids[:min(deleteBatch, len(ids))]
		ids = ids[len(batch):]
		n, err := s.deletePoints(ctx, batch, cut)
		deleted += n
		if err != nil {
			return deleted, fmt.Errorf("delete points before %s: %w", t.Format(time.RFC3339), err)
		}
	}
	for {
		n, err := s.deletePolls(ctx, cut)
		if err != nil {
			return deleted, fmt.Errorf("delete polls before %s: %w", t.Format(time.RFC3339), err)
		}
		if n < deleteBatch {
			return deleted, nil
		}
	}
}

func (s *Store) deletePoints(ctx context.Context, ids []int64, cut int64) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var deleted int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, deletePointsSQL)
		if err != nil {
			return err
		}
		defer stmt.Close()
		unpack, err := tx.PrepareContext(ctx, unpackBeforeSQL)
		if err != nil {
			return err
		}
		defer unpack.Close()
		drop, err := tx.PrepareContext(ctx, dropBlocksSQL)
		if err != nil {
			return err
		}
		defer drop.Close()
		// The packed range starts after the week of the cut, whose
		// points are about to go: its blocks go first.
		from := (blocks.Of(cut) + 1) * blocks.Span
		rctx := rowContext(ctx)
		for _, id := range ids {
			if _, err := unpack.ExecContext(rctx, id, from); err != nil {
				return err
			}
			if _, err := drop.ExecContext(rctx, id, from); err != nil {
				return err
			}
			r, err := stmt.ExecContext(rctx, id, cut)
			if err != nil {
				return err
			}
			n, err := r.RowsAffected()
			if err != nil {
				return err
			}
			deleted += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return deleted, nil
}

func (s *Store) deletePolls(ctx context.Context, cut int64) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	r, err := s.w.ExecContext(ctx, deletePollsSQL, cut, deleteBatch)
	if err != nil {
		return 0, err
	}
	return r.RowsAffected()
}
