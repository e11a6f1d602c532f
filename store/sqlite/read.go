package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/gpuprice/gpuprice/price"
	"github.com/gpuprice/gpuprice/store"
)

const seriesOrder = ` ORDER BY provider, instance_type, region, zone, pricing_model, gpu_count`

// History implements store.Store. A zero q.Start or q.End leaves that end
// of the range open. Series come in key order; a series with no point in
// the range (nor one in effect at its start) is left out.
func (s *Store) History(ctx context.Context, q store.Query) ([]store.Series, error) {
	start, end := int64(math.MinInt64), int64(math.MaxInt64)
	if !q.Start.IsZero() {
		start = ms(q.Start)
	}
	if !q.End.IsZero() {
		end = ms(q.End)
	}
	if end < start {
		return nil, nil
	}
	where, args := filter(q)

	// One read transaction, so that both statements see the same commit.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // read-only: nothing to lose

	rows, err := tx.QueryContext(ctx, `SELECT id, provider, instance_type, region, zone, pricing_model, gpu_count,
		geo, gpu_model, gpu_form, gpu_memory_gb, gpu_raw FROM series`+where+seriesOrder, args...)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	var out []store.Series
	index := map[int64]int{}
	for rows.Next() {
		var (
			id    int64
			l     price.Quote
			model string
		)
		if err := rows.Scan(&id, &l.Provider, &l.InstanceType, &l.Region, &l.Zone, &model, &l.GPUCount,
			&l.Geo, &l.GPUModel, &l.GPUForm, &l.GPUMemoryGB, &l.GPURaw); err != nil {
			rows.Close()
			return nil, fmt.Errorf("query history: %w", err)
		}
		l.PricingModel = price.PricingModel(model)
		index[id] = len(out)
		out = append(out, store.Series{Labels: l})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	if len(out) == 0 {
		return nil, nil
	}

	// lo is the series' point in effect at start, or start itself; the
	// primary key makes both the max() and the range a B-tree seek.
	pargs := append([]any{start, start}, args...)
	pargs = append(pargs, end)
	rows, err = tx.QueryContext(ctx, `
		WITH b AS (
			SELECT id, coalesce((SELECT max(ts) FROM points WHERE series_id = series.id AND ts <= ?), ?) AS lo
			FROM series`+where+`)
		SELECT b.id, p.ts, p.usd_per_hour FROM b JOIN points p ON p.series_id = b.id AND p.ts >= b.lo AND p.ts <= ?`,
		pargs...)
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, ts int64
			usd    sql.NullFloat64
		)
		if err := rows.Scan(&id, &ts, &usd); err != nil {
			return nil, fmt.Errorf("query history: %w", err)
		}
		if i, ok := index[id]; ok {
			out[i].Points = append(out[i].Points, store.Point{Time: fromMS(ts), USDPerHour: usd.Float64, Withdrawn: !usd.Valid})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	// Sorting here rather than in SQL spares SQLite a temporary B-tree of
	// the whole result; the rows of a series arrive in primary-key order
	// anyway, which makes this sort a linear check.
	for i := range out {
		slices.SortFunc(out[i].Points, func(a, b store.Point) int { return a.Time.Compare(b.Time) })
	}
	return slices.DeleteFunc(out, func(sr store.Series) bool { return len(sr.Points) == 0 }), nil
}

// filter turns q's labels into a WHERE clause over series.
func filter(q store.Query) (string, []any) {
	var (
		conds []string
		args  []any
	)
	text := func(col, v string) {
		if v != "" {
			conds = append(conds, col+" = ?")
			args = append(args, v)
		}
	}
	num := func(col string, v float64) {
		if l := price.FormatNumber(v); l != "" {
			conds = append(conds, col+" = ?")
			args = append(args, number(l))
		}
	}
	text("provider", q.Provider)
	text("instance_type", q.InstanceType)
	text("region", q.Region)
	text("zone", q.Zone)
	text("geo", q.Geo)
	text("pricing_model", string(q.PricingModel))
	text("gpu_model", q.GPUModel)
	text("gpu_form", q.GPUForm)
	num("gpu_memory_gb", q.GPUMemoryGB)
	num("gpu_count", q.GPUCount)
	if len(conds) == 0 {
		return "", nil
	}
	return " WHERE " + strings.Join(conds, " AND "), args
}

// Polls implements store.Store. A zero start or end leaves that end of the
// range open.
func (s *Store) Polls(ctx context.Context, provider string, start, end time.Time) ([]store.Poll, error) {
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !start.IsZero() {
		lo = ms(start)
	}
	if !end.IsZero() {
		hi = ms(end)
	}
	rows, err := s.r.QueryContext(ctx, `
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
		p.Start, p.Duration, p.Error = fromMS(at), time.Duration(dur)*time.Millisecond, errorMsg.String
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("query polls: %w", err)
	}
	return out, nil
}

// LastKnown implements store.Store from the in-memory state, which is what
// the file held at Open plus every write committed since. It returns a
// snapshot for every provider with a live series or a successful poll,
// sorted by provider, quotes sorted by series key; each quote's
// ObservedAt is the snapshot's Time. Marketplace aggregates (offer counts,
// quantiles) are not stored and come back zero.
func (s *Store) LastKnown(ctx context.Context) ([]*price.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.memMu.RLock()
	defer s.memMu.RUnlock()

	var out []*price.Snapshot
	for p, all := range s.byProvider {
		snap := &price.Snapshot{Provider: p}
		if ok, found := s.lastOK[p]; found {
			snap.Time = fromMS(ok.end)
		}
		var live []*series
		for _, sr := range all {
			if sr.hasPoint && !sr.withdrawn {
				live = append(live, sr)
			}
		}
		if len(live) == 0 && snap.Time.IsZero() {
			continue
		}
		slices.SortFunc(live, func(a, b *series) int { return compareKeys(a.key, b.key) })
		snap.Quotes = make([]price.Quote, len(live))
		for i, sr := range live {
			snap.Quotes[i] = sr.quote()
			snap.Quotes[i].USDPerHour, snap.Quotes[i].ObservedAt = sr.usd, snap.Time
		}
		out = append(out, snap)
	}
	for p, ok := range s.lastOK {
		if _, done := s.byProvider[p]; !done {
			out = append(out, &price.Snapshot{Provider: p, Time: fromMS(ok.end)})
		}
	}
	slices.SortFunc(out, func(a, b *price.Snapshot) int { return strings.Compare(a.Provider, b.Provider) })
	return out, nil
}

// LastPoints implements store.Store from the in-memory state.
func (s *Store) LastPoints(ctx context.Context, provider string) (map[price.SeriesKey]time.Time, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s.memMu.RLock()
	defer s.memMu.RUnlock()
	out := make(map[price.SeriesKey]time.Time, len(s.byProvider[provider]))
	for _, sr := range s.byProvider[provider] {
		if sr.hasPoint {
			out[sr.key] = fromMS(sr.ts)
		}
	}
	return out, nil
}

// quote is the series' labels as a quote, price fields zero.
func (sr *series) quote() price.Quote {
	return price.Quote{
		Provider:     sr.key.Provider,
		InstanceType: sr.key.InstanceType,
		Region:       sr.key.Region,
		Zone:         sr.key.Zone,
		Geo:          sr.labels.geo,
		PricingModel: sr.key.PricingModel,
		GPUModel:     sr.labels.gpuModel,
		GPUForm:      sr.labels.gpuForm,
		GPUMemoryGB:  number(sr.labels.gpuMemoryGB),
		GPUCount:     number(sr.key.GPUCount),
		GPURaw:       sr.labels.gpuRaw,
	}
}

// compareKeys orders series keys as History does (gpu_count numerically).
func compareKeys(a, b price.SeriesKey) int {
	if c := cmp.Or(
		strings.Compare(a.Provider, b.Provider),
		strings.Compare(a.InstanceType, b.InstanceType),
		strings.Compare(a.Region, b.Region),
		strings.Compare(a.Zone, b.Zone),
		strings.Compare(string(a.PricingModel), string(b.PricingModel)),
	); c != 0 {
		return c
	}
	return cmp.Compare(number(a.GPUCount), number(b.GPUCount))
}
