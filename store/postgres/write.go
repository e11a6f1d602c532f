package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"golang.org/x/sync/errgroup"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/blocks"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// Every write of many rows sends each column as one array and unnests it
// on the server: one statement, one round trip, whatever the row count.
var (
	// insertSeriesSQL creates series and returns their ids with their
	// keys. A series that exists already (created by another process) is
	// left out, and read by selectSeriesSQL: taking no lock on an
	// existing series keeps two writers from deadlocking on series rows
	// that their points' foreign keys lock.
	insertSeriesSQL = `INSERT INTO series (` + last.ColumnList(last.Columns, "") + `)
		SELECT * FROM unnest(` + arrayParams(last.Columns, 1) + `)
		ON CONFLICT (` + last.ColumnList(price.KeyLabels, "") + `) DO NOTHING
		RETURNING id, ` + last.ColumnList(price.KeyLabels, "")
	selectSeriesSQL = `SELECT id, ` + last.ColumnList(price.KeyLabels, "s.") + ` FROM series s
		JOIN unnest(` + arrayParams(price.KeyLabels, 1) + `) AS k(` + last.ColumnList(price.KeyLabels, "") + `)
		USING (` + last.ColumnList(price.KeyLabels, "") + `)`
	// updateLabelsSQL sets the value labels of series by id.
	updateLabelsSQL = `UPDATE series s SET ` + setList(last.ValueLabels) + `
		FROM unnest($1::bigint[], ` + arrayParams(last.ValueLabels, 2) + `) AS v(id, ` + last.ColumnList(last.ValueLabels, "") + `)
		WHERE s.id = v.id`
)

const (
	// A refresh overrides a point at the very same millisecond: it is the
	// newer observation.
	upsertPointsSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour)
		SELECT id, ts, CASE WHEN w THEN NULL ELSE u END, CASE WHEN w OR a = 0 THEN NULL ELSE a END
		FROM unnest($1::bigint[], $2::bigint[], $3::float8[], $4::bool[], $5::float8[]) AS v(id, ts, u, w, a)
		ON CONFLICT (series_id, ts) DO UPDATE SET usd_per_hour = excluded.usd_per_hour,
			currency_per_hour = excluded.currency_per_hour`
	insertPollSQL = `INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error)
		VALUES ($1, $2, $3, $4, $5, $6)`
	// The staging table of one backfill transaction: temporary, so not
	// written to the WAL. It holds no two rows of one (series_id, ts):
	// of equal points the first was kept when it was filled. fresh marks
	// the rows newer than their series' last point when the backfill
	// was planned.
	createStagingSQL = `CREATE TEMPORARY TABLE backfill_points
		(series_id bigint, ts bigint, usd_per_hour double precision, currency_per_hour double precision, fresh boolean) ON COMMIT DROP`
	// A backfill never overrides: re-running one (or running it from two
	// processes at once) writes nothing twice.
	insertStagedSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour)
		SELECT series_id, ts, usd_per_hour, currency_per_hour FROM backfill_points
		ON CONFLICT (series_id, ts) DO NOTHING`
	// The fresh rows cannot be in the database already, unless another
	// process wrote them meanwhile (then the INSERT fails, and the batch
	// is written again with insertStagedSQL): they are inserted without
	// ON CONFLICT's check per row, which costs a third of a backfill.
	insertFreshSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour)
		SELECT series_id, ts, usd_per_hour, currency_per_hour FROM backfill_points WHERE fresh`
	insertStaleSQL = `INSERT INTO points (series_id, ts, usd_per_hour, currency_per_hour)
		SELECT series_id, ts, usd_per_hour, currency_per_hour FROM backfill_points WHERE NOT fresh
		ON CONFLICT (series_id, ts) DO NOTHING`
	// Deletes old polls, sparing each provider's last successful one,
	// which LastKnown reports.
	deletePollsSQL = `DELETE FROM polls WHERE started_at < $1 AND id NOT IN (
		SELECT DISTINCT ON (provider) id FROM polls WHERE ok = 1 ORDER BY provider, started_at DESC, id DESC)`
)

// arrayParams is "$first::text[], $first+1::float8[], ..." for ls.
func arrayParams(ls []price.Label, first int) string {
	ps := make([]string, len(ls))
	for i := range ls {
		typ := "text[]"
		if ls[i].Numeric() {
			typ = "float8[]"
		}
		ps[i] = fmt.Sprintf("$%d::%s", first+i, typ)
	}
	return strings.Join(ps, ", ")
}

func setList(ls []price.Label) string {
	ps := make([]string, len(ls))
	for i := range ls {
		ps[i] = ls[i].Name + " = v." + ls[i].Name
	}
	return strings.Join(ps, ", ")
}

// columnArrays are the values of the columns ls of the series, one array
// per column ([]string, or []float64 for a number).
func columnArrays(ls []price.Label, series []*last.Series, labels func(*last.Series) last.Labels) []any {
	out := make([]any, len(ls))
	for i := range ls {
		if ls[i].Numeric() {
			out[i] = make([]float64, len(series))
		} else {
			out[i] = make([]string, len(series))
		}
	}
	var q price.Quote
	for j, sr := range series {
		last.SetLabels(&q, sr.Key, labels(sr))
		for i := range ls {
			if ls[i].Numeric() {
				out[i].([]float64)[j] = ls[i].Number(&q)
			} else {
				out[i].([]string)[j] = ls[i].Value(&q)
			}
		}
	}
	return out
}

// Record implements store.Store. The poll must be OK exactly when snap is
// not nil, and every quote must be of poll.Provider with a finite price;
// otherwise Record writes nothing and returns an error. Should a snapshot
// list one series twice, its first quote counts.
//
// Once blocks.Every has passed since the store last packed (and at the
// first Record after Open), Record starts a pack in the background after
// its commit (see Pack); a failed pack leaves the refresh written and is
// tried again next time.
func (s *Store) Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	res, err := s.record(ctx, poll, snap)
	if err == nil {
		s.autoPack(false)
	}
	return res, err
}

func (s *Store) record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	if err := last.CheckRecord(poll, snap); err != nil {
		return store.Result{}, fmt.Errorf("record %s refresh: %w", poll.Provider, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	c, res := s.mem.PlanRecord(poll, snap)
	start, dur := last.MS(poll.Start), poll.Duration.Milliseconds()
	var months []int64
	if len(c.Points) > 0 {
		months = []int64{last.MS(snap.Time)}
	}
	err := s.withPartitions(ctx, months, func() error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := checkFence(ctx, tx, poll.Provider); err != nil {
				return err
			}
			if err := writeChange(ctx, tx, &c); err != nil {
				return err
			}
			var perr *string // NULL for a successful poll
			if poll.Error != "" {
				perr = &poll.Error
			}
			ok := 0
			if poll.OK {
				ok = 1
			}
			if _, err := tx.Exec(ctx, insertPollSQL, poll.Provider, start, dur, ok, poll.Quotes, perr); err != nil {
				return err
			}
			// Replicas that do not refresh the provider reload it (Listen).
			_, err := tx.Exec(ctx, "SELECT pg_notify($1, $2)", refreshChannel, poll.Provider)
			return err
		})
	})
	if err != nil {
		return store.Result{}, s.clean(fmt.Errorf("record %s refresh: %w", poll.Provider, err))
	}
	s.mem.Apply(&c)
	return res, nil
}

// writeChange writes a Record's change.
func writeChange(ctx context.Context, tx pgx.Tx, c *last.Change) error {
	if err := insertSeries(ctx, tx, c.Fresh); err != nil {
		return err
	}
	if len(c.Relabels) > 0 {
		// Locking series rows, then waiting for the trigger's packLock,
		// would deadlock with a Pack holding packLock and updating the
		// same rows: the lock comes first.
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", packLock); err != nil {
			return err
		}
		series := make([]*last.Series, len(c.Relabels))
		ids := make([]int64, len(c.Relabels))
		labels := map[*last.Series]last.Labels{}
		for i, rl := range c.Relabels {
			series[i], ids[i], labels[rl.S] = rl.S, rl.S.ID, rl.L
		}
		args := append([]any{ids}, columnArrays(last.ValueLabels, series, func(sr *last.Series) last.Labels { return labels[sr] })...)
		if _, err := tx.Exec(ctx, updateLabelsSQL, args...); err != nil {
			return fmt.Errorf("update labels: %w", err)
		}
	}
	if len(c.Points) == 0 {
		return nil
	}
	var (
		ids  = make([]int64, len(c.Points))
		tss  = make([]int64, len(c.Points))
		usds = make([]float64, len(c.Points))
		wds  = make([]bool, len(c.Points))
		amts = make([]float64, len(c.Points))
	)
	for i, p := range c.Points {
		ids[i], tss[i], usds[i], wds[i], amts[i] = p.S.ID, p.TS, p.USD, p.Withdrawn, p.Amount
	}
	if _, err := tx.Exec(ctx, upsertPointsSQL, ids, tss, usds, wds, amts); err != nil {
		return fmt.Errorf("write points: %w", err)
	}
	return nil
}

// insertSeries inserts new series and sets their ids.
func insertSeries(ctx context.Context, tx pgx.Tx, fresh []*last.Series) error {
	if len(fresh) == 0 {
		return nil
	}
	byKey := make(map[price.SeriesKey]*last.Series, len(fresh))
	for _, sr := range fresh {
		byKey[sr.Key] = sr
		sr.ID = 0
	}
	var (
		id int64
		q  price.Quote
	)
	dest := []any{&id}
	for i := range price.KeyLabels {
		dest = append(dest, price.KeyLabels[i].Field(&q))
	}
	read := func(rows pgx.Rows, err error) error {
		if err == nil {
			_, err = pgx.ForEachRow(rows, dest, func() error {
				if sr := byKey[q.Key()]; sr != nil {
					sr.ID = id
				}
				return nil
			})
		}
		if err != nil {
			return fmt.Errorf("create series: %w", err)
		}
		return nil
	}
	if err := read(tx.Query(ctx, insertSeriesSQL, columnArrays(last.Columns, fresh, func(sr *last.Series) last.Labels { return sr.Labels })...)); err != nil {
		return err
	}
	var existing []*last.Series
	for _, sr := range fresh {
		if sr.ID == 0 {
			existing = append(existing, sr)
		}
	}
	if len(existing) == 0 {
		return nil
	}
	if err := read(tx.Query(ctx, selectSeriesSQL, columnArrays(price.KeyLabels, existing, func(sr *last.Series) last.Labels { return sr.Labels })...)); err != nil {
		return err
	}
	for _, sr := range existing {
		if sr.ID == 0 {
			return fmt.Errorf("create series %s: no id", sr.Key)
		}
	}
	return nil
}

// Backfill implements store.Store. Points are sorted by (series, time);
// the new series are created first, in one transaction, then the points
// are written in transactions of Options.BackfillBatch points,
// Options.BackfillWorkers of them side by side, each a COPY into a staging
// table and one INSERT … ON CONFLICT DO NOTHING from it. Labels of existing
// series are left as they are: history may carry an older GPU mapping. On
// error, what was committed stays (re-running the backfill completes it)
// and the Result counts it. Once the batches are done, Backfill starts
// a pack of what they wrote in the background (see Pack); a failed pack fails not the backfill, and is
// tried again after the next write.
func (s *Store) Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	res, err := s.backfill(ctx, quotes)
	if res.Points > 0 {
		s.autoPack(true)
	}
	return res, err
}

func (s *Store) backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	if err := last.CheckBackfill(quotes); err != nil {
		return store.Result{}, fmt.Errorf("backfill: %w", err)
	}
	fenced, err := fenceBackfill(ctx, quotes)
	if err != nil {
		return store.Result{}, fmt.Errorf("backfill: %w", err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	rows := s.mem.PlanBackfill(quotes)

	// Rows come grouped by series: a new series' rows are one run.
	var fresh []*last.Series
	for i, r := range rows {
		if r.S.ID == 0 && (i == 0 || rows[i-1].S != r.S) {
			fresh = append(fresh, r.S)
		}
	}
	var total store.Result
	err = s.withPartitions(ctx, monthsOf(rows), func() error {
		if len(fresh) == 0 {
			return nil
		}
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := checkFence(ctx, tx, fenced); err != nil {
				return err
			}
			return insertSeries(ctx, tx, fresh)
		})
	})
	if err != nil {
		for _, sr := range fresh {
			sr.ID = 0
		}
		return total, s.clean(fmt.Errorf("backfill: %w", err))
	}
	s.mem.Apply(&last.Change{Fresh: fresh})
	total.NewSeries = len(fresh)

	// What each batch changes in memory is planned from the state before
	// any is written, so that batches in flight read nothing that
	// another's Apply writes.
	type batch struct {
		rows   []last.BackfillRow
		change last.Change
		after  map[*last.Series]int64 // rows newer than this are fresh
	}
	var batches []batch
	for start := 0; start < len(rows); start += s.opts.BackfillBatch {
		b := rows[start:min(start+s.opts.BackfillBatch, len(rows))]
		after := map[*last.Series]int64{}
		for i, r := range b {
			if i == 0 || b[i-1].S != r.S {
				after[r.S] = math.MinInt64
				if r.S.HasPoint {
					after[r.S] = r.S.TS
				}
			}
		}
		batches = append(batches, batch{rows: b, change: last.Change{Points: newestPoints(quotes, b)}, after: after})
	}
	var (
		mu sync.Mutex
		g  errgroup.Group
	)
	g.SetLimit(s.opts.BackfillWorkers)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := 0
	for i := range batches {
		if wctx.Err() != nil {
			break
		}
		started++
		g.Go(func() error {
			b := &batches[i]
			var res store.Result
			write := func(after map[*last.Series]int64) error {
				// Rows run by series, then time: the batch's months are
				// not those of its first and last rows alone.
				return s.withPartitions(wctx, monthsOf(b.rows), func() error {
					return s.inTx(wctx, func(tx pgx.Tx) error {
						if err := checkFence(wctx, tx, fenced); err != nil {
							return err
						}
						var err error
						res, err = backfillBatch(wctx, tx, quotes, b.rows, after)
						return err
					})
				})
			}
			err := write(b.after)
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23505" {
				err = write(nil) // another process wrote some of them: every row with ON CONFLICT
			}
			if err != nil {
				cancel() // the batches after it are not started
				return err
			}
			s.mem.Apply(&b.change)
			mu.Lock()
			total.Points += res.Points
			total.Skipped += res.Skipped
			mu.Unlock()
			if s.afterBatch != nil {
				s.afterBatch()
			}
			return nil
		})
	}
	err = g.Wait()
	if err == nil && started < len(batches) {
		// Cancelled between batches, none of those in flight failing:
		// the batches not started are not written.
		err = ctx.Err()
	}
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			err = cerr
		}
		return total, s.clean(fmt.Errorf("backfill: %w", err))
	}
	return total, nil
}

// newestPoints returns, for each series of batch, the newest point when it
// is newer than the series' last point: such a point is new, as the last
// point is the newest in the database, and it may become the last point.
// Of equal points the first wins.
func newestPoints(quotes []price.Quote, batch []last.BackfillRow) []last.Point {
	var out []last.Point
	for i := 0; i < len(batch); {
		j := i + 1
		for j < len(batch) && batch[j].S == batch[i].S {
			j++
		}
		k := j - 1
		for k > i && batch[k-1].TS == batch[j-1].TS {
			k--
		}
		if r := batch[k]; !r.S.HasPoint || r.TS > r.S.TS {
			out = append(out, last.Point{S: r.S, TS: r.TS, USD: quotes[r.I].USDPerHour, Amount: quotes[r.I].CurrencyPerHour})
		}
		i = j
	}
	return out
}

// backfillBatch writes the points of one transaction of a backfill; their
// series exist. A row newer than after[its series] is taken to be new (see
// insertFreshSQL); with after nil, every row is checked.
func backfillBatch(ctx context.Context, tx pgx.Tx, quotes []price.Quote, batch []last.BackfillRow, after map[*last.Series]int64) (store.Result, error) {
	if _, err := tx.Exec(ctx, createStagingSQL); err != nil {
		return store.Result{}, fmt.Errorf("create staging table: %w", err)
	}
	src := &stagingRows{quotes: quotes, batch: batch, after: after, i: -1, row: make([]any, 5)}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"backfill_points"}, []string{"series_id", "ts", "usd_per_hour", "currency_per_hour", "fresh"}, src); err != nil {
		return store.Result{}, fmt.Errorf("copy points: %w", err)
	}
	statements := []string{insertStagedSQL}
	if after != nil {
		statements = []string{insertFreshSQL, insertStaleSQL}
		if err := lockPacked(ctx, tx, batch); err != nil {
			return store.Result{}, err
		}
	}
	n := 0
	for _, sql := range statements {
		tag, err := tx.Exec(ctx, sql)
		if err != nil {
			return store.Result{}, fmt.Errorf("write points: %w", err)
		}
		n += int(tag.RowsAffected())
	}
	return store.Result{Points: n, Skipped: len(batch) - n}, nil
}

// lockPackedSQL locks, in id order, the series $1 whose packed range
// meets their points' span [$2, $3] in a batch.
const lockPackedSQL = `SELECT s.id FROM series s JOIN unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS k(id, lo, hi) ON s.id = k.id
	WHERE k.hi >= s.packed_from AND k.lo < s.packed_until ORDER BY s.id FOR UPDATE OF s`

// lockPacked takes, before a batch's two statements write points, the
// locks their triggers may take (see migrations/0005_point_blocks.sql):
// packLock shared, then the rows of the series whose packed range the
// batch writes into, in id order. Each trigger locks in id order, but two
// batches side by side, each locking some series in its first statement
// and others in its second, could deadlock. rows are sorted by series,
// then time.
func lockPacked(ctx context.Context, tx pgx.Tx, rows []last.BackfillRow) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", packLock); err != nil {
		return err
	}
	var ids, lo, hi []int64
	for i, r := range rows {
		if i == 0 || rows[i-1].S != r.S {
			ids, lo, hi = append(ids, r.S.ID), append(lo, r.TS), append(hi, r.TS)
		}
		hi[len(hi)-1] = r.TS
	}
	if _, err := tx.Exec(ctx, lockPackedSQL, ids, lo, hi); err != nil {
		return fmt.Errorf("lock packed series: %w", err)
	}
	return nil
}

// stagingRows is a pgx.CopyFromSource over a backfill batch, sorted by
// series, time and input order, that skips the repeats of a point: of
// equal points the first wins. It reuses one row, which pgx encodes before
// asking for the next.
type stagingRows struct {
	quotes []price.Quote
	batch  []last.BackfillRow
	after  map[*last.Series]int64 // nil: no row is fresh
	i      int
	row    []any

	s     *last.Series // the series of the last row, and its after
	sTS   int64
	fresh bool
}

func (r *stagingRows) Next() bool {
	for r.i++; r.i > 0 && r.i < len(r.batch); r.i++ {
		if prev, b := &r.batch[r.i-1], &r.batch[r.i]; prev.S != b.S || prev.TS != b.TS {
			break
		}
	}
	return r.i < len(r.batch)
}

func (r *stagingRows) Values() ([]any, error) {
	b := &r.batch[r.i]
	if b.S != r.s {
		r.s = b.S
		r.sTS, r.fresh = r.after[b.S]
	}
	q := &r.quotes[b.I]
	r.row[0], r.row[1], r.row[2] = b.S.ID, b.TS, q.USDPerHour
	r.row[3], r.row[4] = last.AmountValue(q.CurrencyPerHour, false), r.fresh && b.TS > r.sTS
	return r.row, nil
}

func (r *stagingRows) Err() error { return nil }

// DeleteBefore implements store.Store. A month entirely before t loses its
// partition: the points of it that stay (for each series, the last point
// before t when it is in that month) are copied into a new partition that
// replaces the old one, which is dropped; the month t falls in has its old
// points deleted. Each partition is one transaction. Each provider's last
// successful poll is kept, as LastKnown reports it.
//
// Retention drops and edits partitions, which fires no trigger: each
// partition's transaction first moves the packed range of every series to
// start after the week of the cut (unpackBefore). DeleteBefore then starts a
// pack in the background (see Pack); a failed pack fails not the retention.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	n, err := s.deleteBefore(ctx, t)
	s.autoPack(true)
	return n, err
}

func (s *Store) deleteBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := last.MS(t)
	fail := func(deleted int64, what string, err error) (int64, error) {
		return deleted, s.clean(fmt.Errorf("delete %s before %s: %w", what, t.Format(time.RFC3339), err))
	}
	parts, err := listPartitions(ctx, s.pool)
	if err != nil {
		return fail(0, "points", err)
	}
	var deleted int64
	for _, p := range parts {
		var n int64
		switch {
		case p.hi <= cut:
			n, err = s.dropPartition(ctx, p, cut)
		case p.lo < cut:
			n, err = s.deleteInPartition(ctx, p, cut)
		}
		deleted += n
		if err != nil {
			return fail(deleted, "points", err)
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	if _, err := s.pool.Exec(ctx, deletePollsSQL, cut); err != nil {
		return fail(deleted, "polls", err)
	}
	return deleted, nil
}

// dropPartition replaces the partition p, entirely before cut, by one
// holding only the points that stay, and returns the number of points
// removed.
func (s *Store) dropPartition(ctx context.Context, p partition, cut int64) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var (
		removed int64
		empty   bool
	)
	name := pgx.Identifier{p.name}.Sanitize()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// Other writers wait (readers do not) until the partition is
		// swapped.
		if err := unpackBefore(ctx, tx, cut); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "LOCK TABLE points IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
		// A series' last point before the cut is in p when p holds its
		// last point and nothing later precedes the cut.
		if _, err := tx.Exec(ctx, `CREATE TEMPORARY TABLE retention_keep ON COMMIT DROP AS
			SELECT DISTINCT ON (series_id) series_id, ts, usd_per_hour, currency_per_hour FROM `+name+` k
			WHERE NOT EXISTS (SELECT 1 FROM points q WHERE q.series_id = k.series_id AND q.ts >= $1 AND q.ts < $2)
			ORDER BY series_id, ts DESC`, p.hi, cut); err != nil {
			return err
		}
		var total, kept int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM `+name+`), (SELECT count(*) FROM retention_keep)`).Scan(&total, &kept); err != nil {
			return err
		}
		if removed = total - kept; removed == 0 {
			return nil
		}
		empty = kept == 0
		stmts := []string{"ALTER TABLE points DETACH PARTITION " + name, "DROP TABLE " + name}
		if !empty {
			stmts = append(stmts,
				"CREATE TABLE "+name+" (series_id bigint NOT NULL, ts bigint NOT NULL, usd_per_hour double precision, currency_per_hour double precision)",
				"INSERT INTO "+name+" SELECT series_id, ts, usd_per_hour, currency_per_hour FROM retention_keep",
				fmt.Sprintf("ALTER TABLE points ATTACH PARTITION %s FOR VALUES FROM (%d) TO (%d)", name, p.lo, p.hi))
		}
		for _, sql := range stmts {
			if _, err := tx.Exec(ctx, sql); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("partition %s: %w", p.name, err)
	}
	if empty {
		s.parts.forget(p.lo)
	}
	return removed, nil
}

// deleteInPartition deletes the points of p, the partition cut falls in,
// that precede their series' last point before cut.
func (s *Store) deleteInPartition(ctx context.Context, p partition, cut int64) (int64, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	name := pgx.Identifier{p.name}.Sanitize()
	var n int64
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := unpackBefore(ctx, tx, cut); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM `+name+` d
			USING (SELECT series_id, max(ts) AS m FROM `+name+` WHERE ts < $1 GROUP BY series_id) k
			WHERE d.series_id = k.series_id AND d.ts < k.m`, cut)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("partition %s: %w", p.name, err)
	}
	return n, nil
}

// unpackBeforeSQL starts the packed range of every series at $1 (a block
// boundary) when it started before, and drops the blocks before; a range
// that ended before $1 becomes the empty one at $1. The series rows are
// locked in id order, as the trigger on points locks them.
const unpackBeforeSQL = `WITH moved AS (
		SELECT id FROM series WHERE packed_from < $1 ORDER BY id FOR UPDATE
	), dropped AS (
		DELETE FROM point_blocks b USING moved m WHERE b.series_id = m.id AND b.block < $1 / 604800000
	)
	UPDATE series s SET packed_from = $1, packed_until = greatest(s.packed_until, $1) FROM moved m WHERE s.id = m.id`

// unpackBefore takes out of the packed ranges the weeks in which
// retention at cut removes points (those up to the week of the cut), in
// the transaction that removes them, under packLock shared as a write of
// points takes it. The points left before the new ranges are read from
// points.
func unpackBefore(ctx context.Context, tx pgx.Tx, cut int64) error {
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock_shared($1)", packLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, unpackBeforeSQL, (blocks.Of(cut)+1)*blocks.Span); err != nil {
		return fmt.Errorf("unpack before the cut: %w", err)
	}
	return nil
}

// monthsOf returns a time in each month rows span, for withPartitions.
func monthsOf(rows []last.BackfillRow) []int64 {
	var out []int64
	seen := map[time.Time]bool{}
	for _, r := range rows {
		if m := monthOf(r.TS); !seen[m] {
			seen[m] = true
			out = append(out, r.TS)
		}
	}
	return out
}
