// Package blocks is the packed copy of history that the SQL stores
// (store/sqlite, store/postgres) keep beside their points table and read
// long histories from: table point_blocks, one row per series and week
// holding that week's points in two values. Reading a row costs a driver
// far more than decoding the points packed in it (modernc's SQLite some
// hundreds of nanoseconds a column, under a mutex), so 90 days of a series
// that changes every half hour cost 13 rows instead of 4,300.
//
// points stays the table of record: the blocks are derived from it and
// never hold a point it lacks. Each series says which of its points are
// packed: those with ts in [series.packed_from, series.packed_until),
// exactly the points of its point_blocks rows. A history read takes the
// points in that range from the blocks and the others (older ones left
// by retention, and the newest, not yet packed) from points.
//
// A trigger on points keeps the range true whoever writes (the store, a
// backfill, an analyst's SQL): a point inserted, changed or deleted inside
// a series' packed range drops that series' blocks from the point's week
// on and ends the range at that week's start. The store packs again later
// (Pack), from the end of the range up to a minute ago.
package blocks

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// Span is the length of a block in unix milliseconds: a week. A longer
// block means fewer rows to read, a shorter one less to pack again when a
// late point lands in a packed week.
const Span int64 = 7 * 24 * 3600 * 1000

// SpanSQL is Span as the stores' SQL spells it (their triggers too).
const SpanSQL = "604800000"

// Of is the block of ts: block b holds [b*Span, (b+1)*Span). Times before
// 1970 are never packed (Pack starts at 0 at the earliest), so the
// truncating division of SQL and Go agree.
func Of(ts int64) int64 { return ts / Span }

// Lag is how far behind the present packing stays: a refresh writing at
// its own start time, a little in the past, lands after the packed range
// and drops nothing.
const Lag = time.Minute

// Every is how often a store packs when only refreshes write.
const Every = 10 * time.Minute

// PointSize is the bytes of one point in a block's points value: ts as a
// big-endian int64, then usd_per_hour as a big-endian IEEE 754 double,
// NaN for a withdrawal (a price is never NaN). PostgreSQL writes the same
// with int8send(ts) || float8send(coalesce(usd_per_hour, 'NaN')).
const PointSize = 16

// AmountSize is the bytes of one point in a block's amounts value, which
// is NULL when no point of the block has a currency_per_hour: the amount
// as a big-endian double, NaN for NULL.
const AmountSize = 8

// Builder packs the points of one block, oldest first.
type Builder struct {
	points, amounts []byte
	anyAmount       bool
}

// Add appends a point; amount is NULL unless hasAmount.
func (b *Builder) Add(ts int64, usd float64, withdrawn bool, amount float64, hasAmount bool) {
	if withdrawn {
		usd = math.NaN()
	}
	if !hasAmount {
		amount = math.NaN()
	}
	b.points = binary.BigEndian.AppendUint64(binary.BigEndian.AppendUint64(b.points, uint64(ts)), math.Float64bits(usd))
	b.amounts = binary.BigEndian.AppendUint64(b.amounts, math.Float64bits(amount))
	b.anyAmount = b.anyAmount || hasAmount
}

// Values are the block's two column values; amounts is nil when no point
// has an amount. They are valid until the next Add or Reset.
func (b *Builder) Values() (points, amounts []byte) {
	if !b.anyAmount {
		return b.points, nil
	}
	return b.points, b.amounts
}

// Reset empties b for the next block.
func (b *Builder) Reset() {
	b.points, b.amounts, b.anyAmount = b.points[:0], b.amounts[:0], false
}

var errCorrupt = errors.New("point_blocks: a value is not a whole number of points")

// AppendRange appends to dst the points packed in (points, amounts) with
// ts in [lo, hi], oldest first.
func AppendRange(dst []store.Point, points, amounts []byte, lo, hi int64) ([]store.Point, error) {
	n := len(points) / PointSize
	if len(points)%PointSize != 0 || (amounts != nil && len(amounts) != n*AmountSize) {
		return dst, fmt.Errorf("%w (%d and %d bytes)", errCorrupt, len(points), len(amounts))
	}
	for i := range n {
		p := points[i*PointSize:]
		ts := int64(binary.BigEndian.Uint64(p))
		if ts < lo {
			continue
		}
		if ts > hi {
			break
		}
		pt := store.Point{Time: last.FromMS(ts)}
		if usd := math.Float64frombits(binary.BigEndian.Uint64(p[8:])); math.IsNaN(usd) {
			pt.Withdrawn = true
		} else {
			pt.USDPerHour = usd
		}
		if amounts != nil {
			if a := math.Float64frombits(binary.BigEndian.Uint64(amounts[i*AmountSize:])); !math.IsNaN(a) {
				pt.CurrencyPerHour = a
			}
		}
		dst = append(dst, pt)
	}
	return dst, nil
}

// Limit is where a pack at now ends: Lag before now, in unix ms.
func Limit(now time.Time) int64 { return now.Add(-Lag).UnixMilli() }
