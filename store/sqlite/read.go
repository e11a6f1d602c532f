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
	return historyEach(ctx, s.r, currentQueries, q, false, fn)
}

// HistoryScan implements store.Scanner: HistoryEach with the points of
// every series in one buffer, lent to fn.
func (s *Store) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return historyEach(ctx, s.r, currentQueries, q, true, fn)
}

func collect(ctx context.Context, db *sql.DB, rq *readQueries, q store.Query) ([]store.Series, error) {
	var out []store.Series
	err := historyEach(ctx, db, rq, q, false, func(sr store.Series) error {
		out = append(out, sr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// The history is read in one read transaction with four cursors, all in
// series key order: one over the series (their labels, once per series,
// and the time of the point in effect at the start), one over the blocks
// of packed points (store/internal/blocks) and two over the points outside
// each series' packed range: those before it (what retention left) and
// those after it (not packed yet). Few columns a row is what makes a large
// read fast, and a block row holds a week of points. Every cursor walks
// the series through the key index (INDEXED BY the UNIQUE constraint's
// index, which SQLite names sqlite_autoindex_series_1), so that rows come
// out in the ORDER BY's order without a temporary B-tree of the whole
// result, whatever index a label filter would otherwise pick; each series'
// points and blocks are a primary-key range from the point in effect at
// the start.
var historySeriesOrder = ` ORDER BY ` + last.ColumnList(price.KeyLabels, "s.")

// readQueries are the statements that read history and counts from a file
// of one schema version. A Reader of an older file than the binary's
// selects constants for the columns that file lacks (version 1: ” for
// series.currency, NULL for points.currency_per_hour) and, before version
// 3, reads every point from points (blocks and newer are empty).
type readQueries struct{ series, older, blocks, newer, count string }

// currentQueries read a file of SchemaVersion.
var currentQueries = queriesFor(SchemaVersion)

// inEffect is the time of a series' point in effect at the start (?1), or
// the start when none is.
const inEffect = `coalesce((SELECT max(ts) FROM points WHERE series_id = s.id AND ts <= ?1), ?1)`

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
	const from = `
	FROM series s INDEXED BY sqlite_autoindex_series_1`
	points := `
	SELECT s.id, p.ts, p.usd_per_hour, ` + amount + from + `
	JOIN points p ON p.series_id = s.id`
	rq := &readQueries{
		series: `
	SELECT s.id, ` + inEffect + `, ` + series + from,
		// Each series' range of points is bound by the cheaper column
		// (packed_from, packed_until) and filtered by the point in
		// effect, so that a series without such points costs no seek
		// for the latter.
		older: points + ` AND p.ts < s.packed_from AND p.ts <= ?2 AND p.ts >= ` + inEffect,
		blocks: `
	SELECT s.id, b.points, b.amounts` + from + `
	JOIN point_blocks b ON b.series_id = s.id
	     AND b.block >= ` + inEffect + ` / ` + blocks.SpanSQL + ` AND b.block <= ?2 / ` + blocks.SpanSQL,
		newer: points + ` AND p.ts >= s.packed_until AND p.ts <= ?2 AND p.ts >= ` + inEffect,
		count: `
	SELECT ` + series + `,
	       (SELECT count(*) ` + countRange + `) AS n,
	       (SELECT min(p.ts) ` + countRange + `),
	       (SELECT max(p.ts) ` + countRange + `)` + from,
	}
	if version < 3 {
		rq.older = points + ` AND p.ts >= ` + inEffect + ` AND p.ts <= ?2`
		rq.blocks, rq.newer = "", ""
	}
	return rq
}

// msRange is q's [Start, End] in the store's milliseconds, a zero bound
// open; ok is false when the range is empty.
func msRange(q store.Query) (start, end int64, ok bool) { return last.MSRange(q.Start, q.End) }

// rowCursor is one of a history read's cursors: its rows in series order,
// the current row's series id in id.
type rowCursor struct {
	rows *sql.Rows
	id   int64
	more bool
	dest []any
}

// open runs query (an empty query is a cursor without rows) and reads
// its first row into c.dest, whose first element must be &c.id.
func (c *rowCursor) open(ctx context.Context, tx *sql.Tx, query string, args []any) error {
	if query == "" {
		return nil
	}
	var err error
	if c.rows, err = tx.QueryContext(ctx, query, args...); err != nil {
		return err
	}
	return c.next()
}

func (c *rowCursor) next() error {
	if c.more = c.rows.Next(); !c.more {
		return c.rows.Err()
	}
	return c.rows.Scan(c.dest...)
}

// pointCursor is a cursor over points; each cursor reads one row ahead,
// so each scans into its own row.
type pointCursor struct {
	rowCursor
	ts          int64
	usd, amount sql.NullFloat64
}

func (c *pointCursor) init() { c.dest = []any{&c.id, &c.ts, &c.usd, &c.amount} }

func (c *pointCursor) point() store.Point {
	return store.Point{Time: last.FromMS(c.ts), USDPerHour: c.usd.Float64, CurrencyPerHour: c.amount.Float64, Withdrawn: !c.usd.Valid}
}

// at reports whether the current row is of series id.
func (c *rowCursor) at(id int64) bool { return c.more && c.id == id }

func (c *rowCursor) close() {
	if c.rows != nil {
		c.rows.Close()
	}
}

// historyEach calls fn with each series read; with lend, every series'
// points are in one buffer, reused once fn returns.
func historyEach(ctx context.Context, db *sql.DB, rq *readQueries, q store.Query, lend bool, fn func(store.Series) error) error {
	start, end, ok := msRange(q)
	if !ok {
		return nil
	}
	swhere, sargs := filter(q, "s.", 2)
	pwhere, pargs := filter(q, "s.", 3)
	// One read transaction, so that every cursor sees the same commit.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose

	var (
		id, effect int64
		l          price.Quote // every label is scanned anew for each series
		packed     sql.RawBytes
		amounts    sql.RawBytes
		series     = rowCursor{dest: append([]any{nil, &effect}, last.LabelFields(&l)...)}
		block      = rowCursor{dest: []any{nil, &packed, &amounts}}
		older      pointCursor
		newer      pointCursor
	)
	series.dest[0], block.dest[0] = &series.id, &block.id
	older.init()
	newer.init()
	pointArgs := append([]any{start, end}, pargs...)
	for _, c := range []struct {
		cur   *rowCursor
		query string
		args  []any
	}{
		{&series, rq.series + swhere + historySeriesOrder, append([]any{start}, sargs...)},
		{&older.rowCursor, ordered(rq.older, pwhere, "p.ts"), pointArgs},
		{&block, ordered(rq.blocks, pwhere, "b.block"), pointArgs},
		{&newer.rowCursor, ordered(rq.newer, pwhere, "p.ts"), pointArgs},
	} {
		defer c.cur.close()
		if err := c.cur.open(ctx, tx, c.query, c.args); err != nil {
			return fmt.Errorf("query history: %w", err)
		}
	}
	// The points of series id in c, appended to pts.
	points := func(c *pointCursor, pts []store.Point) ([]store.Point, error) {
		for c.at(id) {
			pts = append(pts, c.point())
			if err := c.next(); err != nil {
				return pts, err
			}
		}
		return pts, nil
	}
	unpack := func(pts []store.Point) ([]store.Point, error) {
		for block.at(id) {
			var err error
			if pts, err = blocks.AppendRange(pts, packed, amounts, effect, end); err != nil {
				return pts, err
			}
			if err := block.next(); err != nil {
				return pts, err
			}
		}
		return pts, nil
	}
	var buf []store.Point // with lend
	for series.more {
		id = series.id
		// Retention's leftovers, the packed weeks, the points since.
		var sr store.Series
		sr.Points, err = points(&older, buf[:0])
		if err == nil {
			sr.Points, err = unpack(sr.Points)
		}
		if err == nil {
			sr.Points, err = points(&newer, sr.Points)
		}
		if err != nil {
			break
		}
		if len(sr.Points) > 0 {
			sr.Labels = l
			if err := fn(sr); err != nil {
				return err
			}
			if lend {
				buf = sr.Points
			}
		}
		if err = series.next(); err != nil {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("query history: %w", err)
	}
	return nil
}

// ordered completes a cursor's query with a label filter and its order,
// series key then then; an empty query stays empty.
func ordered(query, where, then string) string {
	if query == "" {
		return ""
	}
	return query + where + historySeriesOrder + ", " + then
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
	var (
		out []store.Poll
		// A window's log names a few providers over and over: each
		// name is made a string once.
		names    = map[string]string{}
		name     sql.RawBytes
		errorMsg sql.RawBytes
	)
	for rows.Next() {
		var (
			p       store.Poll
			at, dur int64
		)
		if err := rows.Scan(&name, &at, &dur, &p.OK, &p.Quotes, &errorMsg); err != nil {
			return nil, fmt.Errorf("query polls: %w", err)
		}
		p.Provider = names[string(name)]
		if p.Provider == "" {
			p.Provider = string(name)
			names[p.Provider] = p.Provider
		}
		p.Start, p.Duration = last.FromMS(at), time.Duration(dur)*time.Millisecond
		if len(errorMsg) > 0 {
			p.Error = string(errorMsg)
		}
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
