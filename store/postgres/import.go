package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
	"github.com/gpuprice/gpuprice/store/internal/last"
)

// Import and ImportPolls write another store's history as it is,
// withdrawals included, for `gpuprice store copy`: what the store has
// already is skipped, so that a copy run twice writes nothing the second
// time.

// importPollsSQL adds the polls that are not there yet: a poll is known by
// its provider, start, duration and outcome.
const importPollsSQL = `INSERT INTO polls (provider, started_at, duration_ms, ok, quotes, error)
	SELECT v.provider, v.started_at, v.duration_ms, v.ok, v.quotes, v.error
	FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::integer[], $5::integer[], $6::text[])
		AS v(provider, started_at, duration_ms, ok, quotes, error)
	WHERE NOT EXISTS (SELECT 1 FROM polls p WHERE p.provider = v.provider AND p.started_at = v.started_at
		AND p.duration_ms = v.duration_ms AND p.ok = v.ok)`

// Import writes series (each with its labels and points, withdrawals
// included, oldest first, as History returns them) in one transaction.
// Series are created as needed; the labels of existing ones are left as
// they are; a point whose series has one at that time already is skipped
// (Result.Skipped). Like Backfill, Import then packs what it wrote, in the background.
func (s *Store) Import(ctx context.Context, series []store.Series) (store.Result, error) {
	res, err := s.importSeries(ctx, series)
	if res.Points > 0 {
		s.autoPack(true)
	}
	return res, err
}

func (s *Store) importSeries(ctx context.Context, series []store.Series) (store.Result, error) {
	for i := range series {
		q := series[i].Labels
		if err := last.CheckQuote(&q); err != nil {
			return store.Result{}, fmt.Errorf("import: %w", err)
		}
	}
	s.writeMu.Lock()
	defer s.writeMu.Unlock()

	var (
		c      last.Change
		res    store.Result
		of     = make([]*last.Series, len(series))
		fresh  = map[price.SeriesKey]*last.Series{}
		months []int64 // a time in each month the points span
		seen   = map[time.Time]bool{}
		n      int
	)
	for i := range series {
		key := series[i].Labels.Key()
		sr := s.mem.Lookup(key)
		if sr == nil {
			if sr = fresh[key]; sr == nil {
				sr = &last.Series{Key: key, Labels: last.LabelsOf(&series[i].Labels)}
				fresh[key] = sr
				c.Fresh = append(c.Fresh, sr)
			}
		}
		of[i] = sr
		for _, p := range series[i].Points {
			if ts := last.MS(p.Time); !seen[monthOf(ts)] {
				seen[monthOf(ts)] = true
				months = append(months, ts)
			}
		}
		n += len(series[i].Points)
	}
	err := s.withPartitions(ctx, months, func() error {
		return s.inTx(ctx, func(tx pgx.Tx) error {
			if err := insertSeries(ctx, tx, c.Fresh); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, createStagingSQL); err != nil {
				return fmt.Errorf("create staging table: %w", err)
			}
			rows := make([][]any, 0, n)
			for i := range series {
				for _, p := range series[i].Points {
					var usd any
					if !p.Withdrawn {
						usd = p.USDPerHour
					}
					rows = append(rows, []any{of[i].ID, last.MS(p.Time), usd, last.AmountValue(p.CurrencyPerHour, p.Withdrawn)})
				}
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"backfill_points"}, []string{"series_id", "ts", "usd_per_hour", "currency_per_hour"}, pgx.CopyFromRows(rows)); err != nil {
				return fmt.Errorf("copy points: %w", err)
			}
			tag, err := tx.Exec(ctx, insertStagedSQL)
			if err != nil {
				return fmt.Errorf("write points: %w", err)
			}
			res.Points = int(tag.RowsAffected())
			return nil
		})
	})
	if err != nil {
		for _, sr := range c.Fresh {
			sr.ID = 0
		}
		return store.Result{}, s.clean(fmt.Errorf("import: %w", err))
	}
	res.NewSeries, res.Skipped = len(c.Fresh), n-res.Points
	// A series' newest point was written exactly when it is newer than
	// the series' last point, the newest in the database.
	for i := range series {
		pts := series[i].Points
		if len(pts) == 0 {
			continue
		}
		p, sr := pts[len(pts)-1], of[i]
		if ts := last.MS(p.Time); !sr.HasPoint || ts > sr.TS {
			c.Points = append(c.Points, last.Point{S: sr, TS: ts, USD: p.USDPerHour, Amount: p.CurrencyPerHour, Withdrawn: p.Withdrawn})
		}
	}
	s.mem.Apply(&c)
	return res, nil
}

// ImportPolls adds the polls the store does not have (the same provider,
// start, duration and outcome) and returns how many it added.
func (s *Store) ImportPolls(ctx context.Context, polls []store.Poll) (int, error) {
	s.writeMu.Lock()
	defer s.writeMu.Unlock()
	var (
		provider   = make([]string, len(polls))
		start, dur = make([]int64, len(polls)), make([]int64, len(polls))
		ok, quotes = make([]int32, len(polls)), make([]int32, len(polls))
		errs       = make([]*string, len(polls)) // NULL for none, as Record writes it
		lastOK     = map[string]last.OKPoll{}
	)
	for i := range polls {
		p := &polls[i]
		if p.Provider == "" {
			return 0, fmt.Errorf("import polls: a poll has no provider")
		}
		provider[i], start[i], dur[i], quotes[i] = p.Provider, last.MS(p.Start), p.Duration.Milliseconds(), int32(p.Quotes)
		if p.Error != "" {
			errs[i] = &p.Error
		}
		if p.OK {
			ok[i] = 1
			if prev, found := lastOK[p.Provider]; !found || start[i] >= prev.Start {
				lastOK[p.Provider] = last.OKPoll{Start: start[i], End: start[i] + dur[i]}
			}
		}
	}
	tag, err := s.pool.Exec(ctx, importPollsSQL, provider, start, dur, ok, quotes, errs)
	if err != nil {
		return 0, s.clean(fmt.Errorf("import polls: %w", err))
	}
	for p, o := range lastOK {
		s.mem.Apply(&last.Change{OKProvider: p, OK: o})
	}
	return int(tag.RowsAffected()), nil
}
