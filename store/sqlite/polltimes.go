package sqlite

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	msqlite "modernc.org/sqlite"

	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

var (
	_ store.PollTimer = (*Store)(nil)
	_ store.PollTimer = (*Reader)(nil)
)

// pollTimesSQL reads a window's poll log one row per provider: the
// aggregate packs each refresh's start, end and outcome into one value,
// 17 bytes a refresh, because reading a row costs the driver far more
// than the SQL engine's work (a history query's log is some 100k rows).
const pollTimesSQL = `SELECT provider, gpuprice_poll_times(started_at, duration_ms, ok) FROM polls
	WHERE started_at >= ? AND started_at <= ? GROUP BY provider`

// pollTimeSize is one refresh in gpuprice_poll_times' value: start and
// end as big-endian int64, then 1 for a successful refresh.
const pollTimeSize = 17

func init() {
	msqlite.MustRegisterFunction("gpuprice_poll_times", &msqlite.FunctionImpl{
		NArgs:         3,
		Deterministic: true,
		MakeAggregate: func(msqlite.FunctionContext) (msqlite.AggregateFunction, error) { return &pollTimesAgg{}, nil },
	})
}

// pollTimesAgg is gpuprice_poll_times(started_at, duration_ms, ok).
type pollTimesAgg struct{ b []byte }

func (a *pollTimesAgg) Step(_ *msqlite.FunctionContext, args []driver.Value) error {
	start, ok1 := args[0].(int64)
	dur, ok2 := args[1].(int64)
	ok, ok3 := args[2].(int64)
	if !ok1 || !ok2 || !ok3 {
		return errors.New("gpuprice_poll_times: started_at, duration_ms and ok must be integers")
	}
	a.b = binary.BigEndian.AppendUint64(a.b, uint64(start))
	a.b = binary.BigEndian.AppendUint64(a.b, uint64(start+dur))
	a.b = append(a.b, byte(ok&1))
	return nil
}

func (a *pollTimesAgg) WindowInverse(*msqlite.FunctionContext, []driver.Value) error {
	return errors.New("gpuprice_poll_times is not a window function")
}

func (a *pollTimesAgg) WindowValue(*msqlite.FunctionContext) (driver.Value, error) { return a.b, nil }

func (a *pollTimesAgg) Final(*msqlite.FunctionContext) {}

// PollTimes implements store.PollTimer.
func (s *Store) PollTimes(ctx context.Context, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	return pollTimes(ctx, s.r, start, end, fn)
}

// PollTimes implements store.PollTimer.
func (r *Reader) PollTimes(ctx context.Context, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	return pollTimes(ctx, r.db, start, end, fn)
}

func pollTimes(ctx context.Context, db *sql.DB, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	lo, hi, _ := last.MSRange(start, end)
	rows, err := db.QueryContext(ctx, pollTimesSQL, lo, hi)
	if err != nil {
		return fmt.Errorf("query polls: %w", err)
	}
	defer rows.Close()
	var (
		provider string
		b        sql.RawBytes
	)
	for rows.Next() {
		if err := rows.Scan(&provider, &b); err != nil {
			return fmt.Errorf("query polls: %w", err)
		}
		if len(b)%pollTimeSize != 0 {
			return fmt.Errorf("query polls: gpuprice_poll_times gave %d bytes", len(b))
		}
		for ; len(b) > 0; b = b[pollTimeSize:] {
			fn(provider, int64(binary.BigEndian.Uint64(b)), int64(binary.BigEndian.Uint64(b[8:])), b[16] == 1)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("query polls: %w", err)
	}
	return nil
}
