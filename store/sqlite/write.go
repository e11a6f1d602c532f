package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

var (
	insertSeriesSQL = `INSERT INTO series (` + columnList(columns, "") + `) VALUES (?` + strings.Repeat(", ?", len(columns)-1) + `)`
	updateLabelsSQL = `UPDATE series SET ` + strings.Join(price.LabelNames(valueLabels), " = ?, ") + ` = ? WHERE id = ?`
)

const (
	// A refresh overrides a point at the very same millisecond: it is the
	// newer observation.
	upsertPointSQL = `INSERT INTO points (series_id, ts, usd_per_hour) VALUES (?, ?, ?)
		ON CONFLICT (series_id, ts) DO UPDATE SET usd_per_hour = excluded.usd_per_hour`
	// A backfill never overrides: re-running one must write nothing.
	insertPointSQL = `INSERT INTO points (series_id, ts, usd_per_hour) VALUES (?, ?, ?)
		ON CONFLICT (series_id, ts) DO NOTHING`
	insertPollSQL = `INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error)
		VALUES (?, ?, ?, ?, ?, ?)`
	// Deletes a series' points before the one in effect at the cut.
	deletePointsSQL = `DELETE FROM points WHERE series_id = ?1
		AND ts < (SELECT max(ts) FROM points WHERE series_id = ?1 AND ts < ?2)`
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

// change is what one write transaction changes in the in-memory state:
// planned from that state before the transaction, applied to it only once
// the transaction has committed.
type change struct {
	fresh    []*series // new series; their ids are set as they are inserted
	relabels []relabel
	// points holds every point a Record writes, and only the newest one
	// per series that a backfill batch writes.
	points []point
	// okProvider, when set, had the successful refresh ok.
	okProvider string
	ok         okPoll
}

// point is a point to write.
type point struct {
	s         *series
	ts        int64
	usd       float64
	withdrawn bool
}

func (p point) value() any {
	if p.withdrawn {
		return nil
	}
	return p.usd
}

type relabel struct {
	s *series
	l labels
}

// apply brings the in-memory state up to a committed change. A point
// older than its series' last one (a refresh older than backfilled
// history) leaves the last point as it is.
func (s *Store) apply(c *change) {
	s.memMu.Lock()
	defer s.memMu.Unlock()
	for _, sr := range c.fresh {
		s.add(sr)
	}
	for _, rl := range c.relabels {
		rl.s.labels = rl.l
	}
	for _, p := range c.points {
		if sr := p.s; !sr.hasPoint || p.ts >= sr.ts {
			sr.hasPoint, sr.ts, sr.usd, sr.withdrawn = true, p.ts, p.usd, p.withdrawn
		}
	}
	if c.okProvider != "" {
		if prev, found := s.lastOK[c.okProvider]; !found || c.ok.start >= prev.start {
			s.lastOK[c.okProvider] = c.ok
		}
	}
}

// Record implements store.Store. The poll must be OK exactly when snap is
// not nil, and every quote must be of poll.Provider with a finite price;
// otherwise Record writes nothing and returns an error. Should a snapshot
// list one series twice, its first quote counts.
func (s *Store) Record(ctx context.Context, poll store.Poll, snap *price.Snapshot) (store.Result, error) {
	if err := checkRecord(poll, snap); err != nil {
		return store.Result{}, fmt.Errorf("record %s refresh: %w", poll.Provider, err)
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	var (
		c   change
		res store.Result
	)
	if snap != nil {
		c, res = s.diff(snap)
	}
	start, dur := ms(poll.Start), poll.Duration.Milliseconds()
	if poll.OK {
		c.okProvider, c.ok = poll.Provider, okPoll{start: start, end: start + dur}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := c.write(ctx, tx); err != nil {
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
	s.apply(&c)
	return res, nil
}

// diff compares a successful refresh with the in-memory state: new series,
// changed labels, changed prices, and withdrawals of the provider's live
// series that snap does not list. The caller holds writeMu.
func (s *Store) diff(snap *price.Snapshot) (change, store.Result) {
	var (
		c       change
		res     store.Result
		ts      = ms(snap.Time)
		pending map[price.SeriesKey]bool // series new in this snapshot
	)
	s.gen++
	for i := range snap.Quotes {
		q := &snap.Quotes[i]
		key := q.Key()
		sr := s.byKey[key]
		if sr == nil {
			if pending[key] {
				continue
			}
			if pending == nil {
				pending = map[price.SeriesKey]bool{}
			}
			pending[key] = true
			sr = &series{key: key, labels: labelsOf(q)}
			c.fresh = append(c.fresh, sr)
			c.points = append(c.points, point{s: sr, ts: ts, usd: q.USDPerHour})
			continue
		}
		if sr.seen == s.gen {
			continue
		}
		sr.seen = s.gen
		if !sr.labels.same(q) {
			c.relabels = append(c.relabels, relabel{sr, labelsOf(q)})
		}
		if !sr.hasPoint || sr.withdrawn || sr.usd != q.USDPerHour {
			c.points = append(c.points, point{s: sr, ts: ts, usd: q.USDPerHour})
		}
	}
	res.NewSeries, res.Points = len(c.fresh), len(c.points)
	for _, sr := range s.byProvider[snap.Provider] {
		if sr.seen != s.gen && sr.hasPoint && !sr.withdrawn {
			c.points = append(c.points, point{s: sr, ts: ts, withdrawn: true})
			res.Withdrawals++
		}
	}
	return c, res
}

// write writes a Record's change.
func (c *change) write(ctx context.Context, tx *sql.Tx) error {
	if err := insertSeries(ctx, tx, c.fresh); err != nil {
		return err
	}
	var q price.Quote
	for _, rl := range c.relabels {
		setLabels(&q, rl.s.key, rl.l)
		if _, err := tx.ExecContext(ctx, updateLabelsSQL, append(columnArgs(valueLabels, &q), rl.s.id)...); err != nil {
			return fmt.Errorf("update labels of %s: %w", rl.s.key, err)
		}
	}
	if len(c.points) == 0 {
		return nil
	}
	stmt, err := tx.PrepareContext(ctx, upsertPointSQL)
	if err != nil {
		return err
	}
	defer stmt.Close()
	rctx := rowContext(ctx)
	for _, p := range c.points {
		if _, err := stmt.ExecContext(rctx, p.s.id, p.ts, p.value()); err != nil {
			return fmt.Errorf("write point of %s: %w", p.s.key, err)
		}
	}
	return nil
}

func checkRecord(poll store.Poll, snap *price.Snapshot) error {
	switch {
	case poll.Provider == "":
		return errors.New("poll has no provider")
	case poll.OK && snap == nil:
		return errors.New("successful poll without a snapshot")
	case !poll.OK && snap != nil:
		return errors.New("failed poll with a snapshot")
	case snap == nil:
		return nil
	case snap.Provider != poll.Provider:
		return fmt.Errorf("snapshot of provider %q", snap.Provider)
	case snap.Time.IsZero():
		return errors.New("snapshot has no time")
	}
	for i := range snap.Quotes {
		if err := checkQuote(&snap.Quotes[i]); err != nil {
			return err
		}
		if p := snap.Quotes[i].Provider; p != poll.Provider {
			return fmt.Errorf("quote %s: provider %q in the snapshot of %q", snap.Quotes[i].Key(), p, poll.Provider)
		}
	}
	return nil
}

// checkQuote rejects what the schema cannot tell apart: SQLite stores NaN
// as NULL, which would read back as a withdrawal.
func checkQuote(q *price.Quote) error {
	if q.Provider == "" {
		return fmt.Errorf("quote %s: no provider", q.Key())
	}
	if math.IsNaN(q.USDPerHour) || math.IsInf(q.USDPerHour, 0) {
		return fmt.Errorf("quote %s: price %v", q.Key(), q.USDPerHour)
	}
	return nil
}

// insertSeries inserts new series and sets their ids.
func insertSeries(ctx context.Context, tx *sql.Tx, fresh []*series) error {
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
		setLabels(&q, sr.key, sr.labels)
		r, err := stmt.ExecContext(rctx, columnArgs(columns, &q)...)
		if err != nil {
			return fmt.Errorf("create series %s: %w", sr.key, err)
		}
		if sr.id, err = r.LastInsertId(); err != nil {
			return fmt.Errorf("create series %s: %w", sr.key, err)
		}
	}
	return nil
}

// backfillRow is one backfilled quote placed in write order.
type backfillRow struct {
	ord int64 // series order: its id, or after every id for a new series
	ts  int64
	i   int // index in the input, so that the first of two equal points wins
	s   *series
}

// Backfill implements store.Store. Points are sorted by (series, time) and
// written in transactions of Options.BackfillBatch points, so that each
// series' points land in neighbouring B-tree pages. Labels of existing
// series are left as they are: history may carry an older GPU mapping.
// On error, the batches already committed stay (re-running the backfill
// completes it) and the Result counts them.
func (s *Store) Backfill(ctx context.Context, quotes []price.Quote) (store.Result, error) {
	for i := range quotes {
		if err := checkQuote(&quotes[i]); err != nil {
			return store.Result{}, fmt.Errorf("backfill: %w", err)
		}
		if quotes[i].EffectiveAt.IsZero() && quotes[i].ObservedAt.IsZero() {
			return store.Result{}, fmt.Errorf("backfill: quote %s: no time", quotes[i].Key())
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	// New series sort after every existing one, in order of first
	// appearance, as that is the order their ids will have.
	rows := make([]backfillRow, len(quotes))
	type newSeries struct {
		s   *series
		ord int64
	}
	var (
		fresh   map[price.SeriesKey]newSeries
		last    *series // quotes of one series often come in runs
		lastOrd int64
	)
	for i := range quotes {
		q := &quotes[i]
		if key := q.Key(); last == nil || last.key != key {
			if sr := s.byKey[key]; sr != nil {
				last, lastOrd = sr, sr.id
			} else if ns, ok := fresh[key]; ok {
				last, lastOrd = ns.s, ns.ord
			} else {
				if fresh == nil {
					fresh = map[price.SeriesKey]newSeries{}
				}
				ns := newSeries{s: &series{key: key, labels: labelsOf(q)}, ord: math.MaxInt64/2 + int64(len(fresh))}
				fresh[key] = ns
				last, lastOrd = ns.s, ns.ord
			}
		}
		t := q.EffectiveAt
		if t.IsZero() {
			t = q.ObservedAt
		}
		rows[i] = backfillRow{ord: lastOrd, ts: ms(t), i: i, s: last}
	}
	slices.SortFunc(rows, func(a, b backfillRow) int {
		if a.ord != b.ord {
			return cmp.Compare(a.ord, b.ord)
		}
		if a.ts != b.ts {
			return cmp.Compare(a.ts, b.ts)
		}
		return cmp.Compare(a.i, b.i)
	})

	var total store.Result
	for start := 0; start < len(rows); start += s.opts.BackfillBatch {
		batch := rows[start:min(start+s.opts.BackfillBatch, len(rows))]
		var (
			c   change
			res store.Result
		)
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			c, res, err = backfillBatch(ctx, tx, quotes, batch)
			return err
		})
		if err != nil {
			for _, sr := range c.fresh {
				sr.id = 0 // rolled back: a re-run inserts it again
			}
			return total, fmt.Errorf("backfill: %w", err)
		}
		s.apply(&c)
		total.NewSeries += res.NewSeries
		total.Points += res.Points
		total.Skipped += res.Skipped
	}
	return total, nil
}

// backfillBatch writes one transaction of a backfill.
func backfillBatch(ctx context.Context, tx *sql.Tx, quotes []price.Quote, batch []backfillRow) (change, store.Result, error) {
	var (
		c   change
		res store.Result
	)
	stmt, err := tx.PrepareContext(ctx, insertPointSQL)
	if err != nil {
		return c, res, err
	}
	defer stmt.Close()
	rctx := rowContext(ctx)
	for _, r := range batch {
		if r.s.id == 0 {
			if err := insertSeries(ctx, tx, []*series{r.s}); err != nil {
				return c, res, err
			}
			c.fresh = append(c.fresh, r.s)
		}
		usd := quotes[r.i].USDPerHour
		sr, err := stmt.ExecContext(rctx, r.s.id, r.ts, usd)
		if err != nil {
			return c, res, fmt.Errorf("write point of %s: %w", r.s.key, err)
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
		p := point{s: r.s, ts: r.ts, usd: usd}
		if n := len(c.points); n > 0 && c.points[n-1].s == r.s {
			c.points[n-1] = p
		} else {
			c.points = append(c.points, p)
		}
	}
	res.NewSeries = len(c.fresh)
	return c, res, nil
}

// DeleteBefore implements store.Store. It works in transactions of a
// thousand series, so that refreshes are not held up for long; each
// provider's last successful poll is kept, as LastKnown reports it.
func (s *Store) DeleteBefore(ctx context.Context, t time.Time) (int64, error) {
	cut := ms(t)
	s.memMu.RLock()
	ids := make([]int64, 0, len(s.byKey))
	for _, sr := range s.byKey {
		ids = append(ids, sr.id)
	}
	s.memMu.RUnlock()
	slices.Sort(ids)

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
		rctx := rowContext(ctx)
		for _, id := range ids {
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
