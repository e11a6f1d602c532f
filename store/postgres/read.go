package postgres

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/blocks"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// historyChunk is the number of series whose points one batch of queries
// reads: HistoryEach holds up to three chunks' points at a time. 64 cost
// the benchmark history a third more time than 128 (the queries of a
// chunk cost some milliseconds whatever its size).
const historyChunk = 128

var historySeriesQuery = `SELECT s.id, ` + last.ColumnList(last.Columns, "s.") + ` FROM series s`

const (
	// The point in effect at the start of the range, per series.
	historyStartQuery = `SELECT DISTINCT ON (series_id) series_id, ts, usd_per_hour, currency_per_hour FROM points
		WHERE series_id = ANY($1) AND ts <= $2 ORDER BY series_id, ts DESC`
	// The points after the start, up to the end, in no order: readPoints
	// sorts each series' points (an ORDER BY made the server sort the
	// whole chunk, on disk, for the sake of order within each series).
	historyRangeQuery = `SELECT series_id, ts, usd_per_hour, currency_per_hour FROM points
		WHERE series_id = ANY($1) AND ts > $2 AND ts <= $3`
	// The points after the start that are not packed: before the
	// series' packed range (left by retention) and after it (not packed
	// yet). Two ranges of the primary key per series, never a filter
	// over the whole history (OFFSET 0: never a join either).
	historyUnpackedQuery = `SELECT s.id, p.ts, p.usd_per_hour, p.currency_per_hour FROM series s
		CROSS JOIN LATERAL (
			SELECT ts, usd_per_hour, currency_per_hour FROM points
				WHERE series_id = s.id AND ts > $2 AND ts <= $3 AND ts < s.packed_from
			UNION ALL
			SELECT ts, usd_per_hour, currency_per_hour FROM points
				WHERE series_id = s.id AND ts > $2 AND ts <= $3 AND ts >= s.packed_until
			OFFSET 0) p
		WHERE s.id = ANY($1)`
	// The blocks of the weeks from the start to the end, which hold the
	// packed points; blocks.AppendRange takes those in the range.
	// With each the bytes of all the series' blocks read, so that its
	// points are allocated at once.
	historyBlocksQuery = `SELECT series_id, points, amounts, sum(length(points)) OVER (PARTITION BY series_id)::bigint
		FROM point_blocks WHERE series_id = ANY($1) AND block >= $2 AND block <= $3 ORDER BY series_id, block`
)

// History implements store.Store by collecting what HistoryEach streams.
func (r *reader) History(ctx context.Context, q store.Query) ([]store.Series, error) {
	var out []store.Series
	err := r.HistoryEach(ctx, q, func(sr store.Series) error {
		out = append(out, sr)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// historySeries is a series matched by a history query.
type historySeries struct {
	id     int64
	key    price.SeriesKey
	labels price.Quote
}

// HistoryEach implements store.Store. A zero q.Start or q.End leaves that
// end of the range open. Series come in key order (provider,
// instance_type, region, zone, pricing_model, gpu_count; text compared as
// bytes, whatever the database's collation); a series with no point in
// the range (nor one in effect at its start) is left out. Everything is
// read in one REPEATABLE READ transaction, which sees one commit
// throughout: first the matching series, then their points a chunk of
// series at a time. The points in a series' packed range come from its
// point_blocks rows, the others from points (see store/internal/blocks).
//
// A goroutine reads the next chunk while fn is called with the series of
// the last one, so that at most three chunks' points are held: the one fn
// is given, one read, and one being read. fn is called from the caller's
// goroutine.
func (r *reader) HistoryEach(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return r.historyEach(ctx, q, false, fn)
}

var _ store.Scanner = (*Store)(nil)

// HistoryScan implements store.Scanner: HistoryEach with the packed points
// of each chunk of series in a buffer that a later chunk reuses.
func (r *reader) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return r.historyEach(ctx, q, true, fn)
}

// historyEach is HistoryEach; with lend, the packed points of a chunk of
// series are decoded into an arena that serves a later chunk once fn is
// done with this one's (store.Scanner).
func (r *reader) historyEach(ctx context.Context, q store.Query, lend bool, fn func(store.Series) error) error {
	start, end, ok := last.MSRange(q.Start, q.End)
	if !ok {
		return nil
	}
	tx, err := r.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return r.clean(fmt.Errorf("query history: %w", err))
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // read-only: nothing to lose

	list, err := matchingSeries(ctx, tx, q)
	if err != nil {
		return r.clean(fmt.Errorf("query history: %w", err))
	}

	type chunk struct {
		series []historySeries
		points map[int64][]store.Point
		arena  *arena // with lend
		err    error
	}
	chunks := make(chan chunk, 1)
	stop := make(chan struct{})
	free := make(chan *arena, 3) // with lend: arenas fn is done with
	go func() {
		made := 0
		defer close(chunks)
		for len(list) > 0 {
			c := chunk{series: list[:min(historyChunk, len(list))], points: map[int64][]store.Point{}}
			if lend {
				// Three arenas at most: the one fn reads, one read, and
				// this one.
				if made < 3 {
					made++
					c.arena = arenaPool.Get().(*arena)
					c.arena.reset()
				} else {
					select {
					case c.arena = <-free:
						c.arena.reset()
					case <-stop:
						return
					}
				}
			}
			list = list[len(c.series):]
			ids := make([]int64, len(c.series))
			for i := range c.series {
				ids[i] = c.series[i].id
			}
			c.err = r.readPoints(ctx, tx, ids, start, end, c.points, c.arena)
			select {
			case chunks <- c:
			case <-stop:
				return
			}
			if c.err != nil {
				return
			}
		}
	}()
	// The reader is done with tx once chunks is closed: before the
	// deferred Rollback. The arenas fn is done with serve the next query.
	defer func() {
		close(stop)
		for range chunks {
		}
		for {
			select {
			case a := <-free:
				arenaPool.Put(a)
			default:
				return
			}
		}
	}()
	for c := range chunks {
		if c.err != nil {
			return r.clean(fmt.Errorf("query history: %w", c.err))
		}
		for i := range c.series {
			pts := c.points[c.series[i].id]
			if len(pts) == 0 {
				continue
			}
			if err := fn(store.Series{Labels: c.series[i].labels, Points: pts}); err != nil {
				return err
			}
		}
		if c.arena != nil {
			free <- c.arena // room for every arena
		}
	}
	return nil
}

// arena hands out the slices of a chunk's series from one buffer, reset
// for a later chunk; a nil arena allocates each.
type arena struct{ buf []store.Point }

// arenaPool keeps the arenas of past queries: a chunk of series that
// change every half hour holds some 500k points over 90 days, which an
// arena grown anew for each query would allocate twice over.
var arenaPool = sync.Pool{New: func() any { return new(arena) }}

// take returns an empty slice of capacity n.
func (a *arena) take(n int) []store.Point {
	if a == nil {
		return make([]store.Point, 0, n)
	}
	if cap(a.buf)-len(a.buf) < n {
		// The slices already handed out keep the old buffer.
		a.buf = make([]store.Point, 0, max(2*cap(a.buf), n, 1<<14))
	}
	i := len(a.buf)
	a.buf = a.buf[:i+n]
	return a.buf[i : i : i+n]
}

func (a *arena) reset() { a.buf = a.buf[:0] }

// querier is a transaction or a pool.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// matchingSeries lists the series matching q's labels in key order (text
// compared as bytes, whatever the database's collation).
func matchingSeries(ctx context.Context, tx querier, q store.Query) ([]historySeries, error) {
	where, args := filter(q)
	rows, err := tx.Query(ctx, historySeriesQuery+where, args...)
	if err != nil {
		return nil, err
	}
	var (
		list []historySeries
		id   int64
		l    price.Quote
	)
	dest := append([]any{&id}, last.LabelFields(&l)...)
	_, err = pgx.ForEachRow(rows, dest, func() error {
		list = append(list, historySeries{id: id, key: l.Key(), labels: l})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(list, func(a, b historySeries) int { return a.key.Compare(b.key) })
	return list, nil
}

// readPoints adds to points the points of the series ids from the one in
// effect at start (when start is not open) to end, oldest first: from
// points, and, when the schema has them, from point_blocks for the points
// in each series' packed range. Its queries go in one round trip (a
// batch).
func (r *reader) readPoints(ctx context.Context, tx pgx.Tx, ids []int64, start, end int64, points map[int64][]store.Point, a *arena) error {
	var b pgx.Batch
	if start != math.MinInt64 {
		b.Queue(historyStartQuery, ids, start)
	}
	if r.blocks {
		b.Queue(historyUnpackedQuery, ids, start, end)
	} else {
		b.Queue(historyRangeQuery, ids, start, end)
	}
	unpacked := b.Len() // the queries of rows of points
	if r.blocks {
		b.Queue(historyBlocksQuery, ids, blocks.Of(start), blocks.Of(end))
	}
	res := tx.SendBatch(ctx, &b)
	defer res.Close()
	var (
		id, ts      int64
		usd, amount *float64
	)
	add := func() error {
		p := store.Point{Time: last.FromMS(ts), Withdrawn: usd == nil}
		if usd != nil {
			p.USDPerHour = *usd
		}
		if amount != nil {
			p.CurrencyPerHour = *amount
		}
		points[id] = append(points[id], p)
		return nil
	}
	for range unpacked {
		rows, err := res.Query()
		if err != nil {
			return err
		}
		if _, err := pgx.ForEachRow(rows, []any{&id, &ts, &usd, &amount}, add); err != nil {
			return err
		}
	}
	byTime := func(a, b store.Point) int { return a.Time.Compare(b.Time) }
	for _, pts := range points {
		// Partitions come in time order, and rows mostly in the order
		// they were written: most series are sorted already.
		if !slices.IsSortedFunc(pts, byTime) {
			slices.SortFunc(pts, byTime)
		}
	}
	if r.blocks {
		rows, err := res.Query()
		if err != nil {
			return err
		}
		if err := readBlocks(rows, start, end, points, a); err != nil {
			return err
		}
	}
	return res.Close()
}

// readBlocks adds to points, which holds each series' unpacked points in
// time order, the packed points of rows (historyBlocksQuery) after start
// up to end. They go after the point in effect at start and the unpacked
// points before the packed range, and before those after it. It decodes
// the wire's bytes as pgx hands them over (binary format), without
// copying them, straight into each series' slice, allocated once: the
// query says how many points a series' blocks hold.
func readBlocks(rows pgx.Rows, start, end int64, points map[int64][]store.Point, a *arena) error {
	defer rows.Close()
	lo := start
	if lo < math.MaxInt64 {
		lo++ // the points after start
	}
	raw := true
	for _, fd := range rows.FieldDescriptions() {
		raw = raw && fd.Format == pgx.BinaryFormatCode
	}
	var (
		id, size, cur   int64         = 0, 0, -1
		pts, after      []store.Point // cur's, and its unpacked points after the packed ones
		packed, amounts []byte
	)
	for rows.Next() {
		if raw {
			v := rows.RawValues()
			if len(v[0]) != 8 || len(v[3]) != 8 {
				return fmt.Errorf("point_blocks: an id or size of %d and %d bytes", len(v[0]), len(v[3]))
			}
			id, packed, amounts, size = int64(binary.BigEndian.Uint64(v[0])), v[1], v[2], int64(binary.BigEndian.Uint64(v[3]))
		} else if err := rows.Scan(&id, &packed, &amounts, &size); err != nil {
			return err
		}
		if id != cur {
			if cur >= 0 {
				points[cur] = append(pts, after...)
			}
			cur = id
			// The unpacked points before the first packed one: the one
			// in effect at start, and those before the packed range
			// (before the first point of this first block).
			var first int64
			if len(packed) >= 8 {
				first = int64(binary.BigEndian.Uint64(packed))
			}
			unpacked := points[id]
			at, _ := slices.BinarySearchFunc(unpacked, last.FromMS(max(start, first-1)), func(p store.Point, t time.Time) int {
				return cmp.Or(p.Time.Compare(t), -1) // after: the first point later than t
			})
			pts = append(a.take(len(unpacked)+int(size)/blocks.PointSize), unpacked[:at]...)
			after = unpacked[at:]
		}
		var err error
		if pts, err = blocks.AppendRange(pts, packed, amounts, lo, end); err != nil {
			return fmt.Errorf("series %d: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if cur >= 0 {
		points[cur] = append(pts, after...)
	}
	return nil
}

// filter turns q's labels into a WHERE clause over series s.
func filter(q store.Query) (string, []any) {
	return last.Filter(q, "s.", func(n int) string { return fmt.Sprintf("$%d", n) })
}

// Polls implements store.Store. A zero start or end leaves that end of the
// range open.
func (r *reader) Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	lo, hi, _ := last.MSRange(start, end)
	rows, err := r.pool.Query(ctx, `
		SELECT provider, started_at, duration_ms, ok, quotes, error FROM polls
		WHERE started_at >= $1 AND started_at <= $2 AND ($3 = '' OR provider = $3)
		ORDER BY started_at, id`, lo, hi, provider)
	if err != nil {
		return nil, r.clean(fmt.Errorf("query polls: %w", err))
	}
	var (
		out      []store.Poll
		p        store.Poll
		at, dur  int64
		ok       int
		errorMsg *string
	)
	_, err = pgx.ForEachRow(rows, []any{&p.Provider, &at, &dur, &ok, &p.Quotes, &errorMsg}, func() error {
		p.Start, p.Duration, p.OK, p.Error = last.FromMS(at), time.Duration(dur)*time.Millisecond, ok != 0, ""
		if errorMsg != nil {
			p.Error = *errorMsg
		}
		out = append(out, p)
		return nil
	})
	if err != nil {
		return nil, r.clean(fmt.Errorf("query polls: %w", err))
	}
	return out, nil
}

// LastKnown implements store.Store from the in-memory state, which is what
// the database held at Open plus every write committed since (see
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
