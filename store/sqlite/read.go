package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// History implements store.Store by collecting what HistoryEach streams.
func (s *Store) History(ctx context.Context, q store.Query) ([]store.Series, error) {
	return collect(ctx, s.r, currentQueries, q)
}

// HistoryEach implements store.Store. A zero q.Start or q.End leaves that
// end of the range open. Series come in key order (provider,
// instance_type, region, zone, pricing_model, gpu_count); a series with no
// point in the range (nor one in effect at its start) is left out. fn runs
// inside one read transaction, which sees one commit throughout.
func (s *Store) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return historyEach(ctx, s.r, currentQueries, q, fn)
}

func collect(ctx context.Context, db *sql.DB, rq *readQueries, q store.Query) ([]store.Series, error) {
	var out []store.Series
	err := historyEach(ctx, db, rq, q, func(sr store.Series) error {
		out = append(out, sr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The history is read with two cursors in one read transaction, both in
// series key order: one over the series (their labels, once per series)
// and one over their points (series id, time, price and the price in the
// provider's currency: few columns a row, which is what makes a large read
// fast). Both walk the series through
// the key index (INDEXED BY the UNIQUE constraint's index, which SQLite
// names sqlite_autoindex_series_1), so that rows come out in the ORDER
// BY's order without a temporary B-tree of the whole result, whatever
// index a label filter would otherwise pick; each series' points are a
// primary-key range from the point in effect at the start.
var historySeriesOrder = ` ORDER BY ` + last.ColumnList(price.KeyLabels, "s.")

// readQueries are the statements that read history and counts from a file
// of one schema version. A Reader of an older file than the binary's
// selects constants for the columns that file lacks (version 1: ” for
// series.currency, NULL for points.currency_per_hour), so that read-only
// commands read it as it is.
type readQueries struct{ series, points, count string }

// currentQueries read a file of SchemaVersion.
var currentQueries = queriesFor(SchemaVersion)

func queriesFor(version int) *readQueries {
	cols := price.LabelNames(last.Columns)
	for i, c := range cols {
		if c == "currency" && version < 2 {
			cols[i] = "'' AS currency"
		} else {
			cols[i] = "s." + c
		}
	}
	series, amount := strings.Join(cols, ", "), "p.currency_per_hour"
	if version < 2 {
		amount = "NULL"
	}
	return &readQueries{
		series: `
	SELECT s.id, ` + series + `
	FROM series s INDEXED BY sqlite_autoindex_series_1`,
		points: `
	SELECT s.id, p.ts, p.usd_per_hour, ` + amount + `
	FROM series s INDEXED BY sqlite_autoindex_series_1
	JOIN points p ON p.series_id = s.id
	     AND p.ts >= coalesce((SELECT max(ts) FROM points WHERE series_id = s.id AND ts <= ?1), ?1)
	     AND p.ts <= ?2`,
		count: `
	SELECT ` + series + `,
	       (SELECT count(*) ` + countRange + `) AS n,
	       (SELECT min(p.ts) ` + countRange + `),
	       (SELECT max(p.ts) ` + countRange + `)
	FROM series s INDEXED BY sqlite_autoindex_series_1`,
	}
}

// msRange is q's [Start, End] in the store's milliseconds, a zero bound
// open; ok is false when the range is empty.
func msRange(q store.Query) (start, end int64, ok bool) { return last.MSRange(q.Start, q.End) }

func historyEach(ctx context.Context, db *sql.DB, rq *readQueries, q store.Query, fn func(store.Series) error) error {
	start, end, ok := msRange(q)
	if !ok {
		return nil
	}
	swhere, sargs := filter(q, "s.", 1)
	pwhere, pargs := filter(q, "s.", 3)
	// One read transaction, so that both cursors see the same commit.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose
	srows, err := tx.QueryContext(ctx, rq.series+swhere+historySeriesOrder, sargs...)
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	defer srows.Close()
	prows, err := tx.QueryContext(ctx, rq.points+pwhere+historySeriesOrder+", p.ts", append([]any{start, end}, pargs...)...)
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	defer prows.Close()

	var (
		pid, ts     int64
		usd, amount sql.NullFloat64
	)
	nextPoint := func() (bool, error) {
		if !prows.Next() {
			return false, prows.Err()
		}
		return true, prows.Scan(&pid, &ts, &usd, &amount)
	}
	var (
		id int64
		l  price.Quote // every label is scanned anew for each series
	)
	dest := append([]any{&id}, last.LabelFields(&l)...)
	more, err := nextPoint()
	for err == nil && more && srows.Next() {
		if err = srows.Scan(dest...); err != nil {
			break
		}
		if pid != id {
			continue // no point in the range
		}
		sr := store.Series{Labels: l}
		for err == nil && more && pid == id {
			sr.Points = append(sr.Points, store.Point{Time: last.FromMS(ts), USDPerHour: usd.Float64, CurrencyPerHour: amount.Float64, Withdrawn: !usd.Valid})
			more, err = nextPoint()
		}
		if err != nil {
			break
		}
		if err := fn(sr); err != nil {
			return err
		}
	}
	if err == nil {
		err = srows.Err()
	}
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	return nil
}

// filter turns q's labels into a WHERE clause over series whose columns
// are named with prefix; its parameters are numbered from first on.
func filter(q store.Query, prefix string, first int) (string, []any) {
	return last.Filter(q, prefix, func(n int) string { return fmt.Sprintf("?%d", first+n-1) })
}

// Polls implements store.Store. A zero start or end leaves that end of the
// range open.
func (s *Store) Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	return polls(ctx, s.r, provider, start, end)
}

func polls(ctx context.Context, db *sql.DB, provider string, start, end time.Time) ([]store.Poll, error) {
	lo, hi, _ := last.MSRange(start, end)
	rows, err := db.QueryContext(ctx, `
		SELECT provider, started_at, duration_ms, ok, quotes, error FROM polls
		WHERE started_at >= ? AND started_at <= ? AND (? = '' OR provider = ?)
		ORDER BY started_at, id`, lo, hi, provider, provider)
	if err != nil {
		return nil, fmt.Errorf("query polls: %w", err)
	}
	defer rows.Close()
	var out []store.Poll
	for rows.Next() {
		var (
			p        store.Poll
			at, dur  int64
			errorMsg sql.NullString
		)
		if err := rows.Scan(&p.Provider, &at, &dur, &p.OK, &p.Quotes, &errorMsg); err != nil {
			return nil, fmt.Errorf("query polls: %w", err)
		}
		p.Start, p.Duration, p.Error = last.FromMS(at), time.Duration(dur)*time.Millisecond, errorMsg.String
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query polls: %w", err)
	}
	return out, nil
}

// LastKnown implements store.Store from the in-memory state, which is what
// the file held at Open plus every write committed since (see
// last.State.LastKnown).
func (s *Store) LastKnown(ctx context.Context) ([]*price.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.mem.LastKnown(), nil
}

// LastPoints implements store.Store from the in-memory state.
func (s *Store) LastPoints(ctx context.Context, provider string) (map[price.SeriesKey]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.mem.LastPoints(provider), nil
}
