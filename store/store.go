// Package store keeps the history of GPU prices: change-only points per
// series, explicit withdrawal points, and a log of every refresh, so that
// history can tell "unchanged" from "unknown". Implementations live in
// sub-packages (store/sqlite, store/postgres); store/storetest is the
// contract suite every implementation runs.
package store

import (
	"context"
	"time"

	"github.com/gpuprice/gpuprice/price"
)

// Store is the history store. All methods are safe for concurrent use;
// writes are serialized internally. Slices passed in are not retained;
// slices returned belong to the caller.
type Store interface {
	// Record logs one refresh of poll.Provider. When snap is not nil (a
	// successful refresh) it also writes, in the same transaction and at
	// snap.Time, a point for every series whose price differs from its
	// last point (new series included) and a withdrawal point for every
	// series of the provider that was live and is absent from snap. A
	// failed refresh (snap == nil) only adds to the poll log. Nothing is
	// written, and the store's idea of "last point" is unchanged, when
	// Record returns an error. It refuses (writing nothing) a poll whose
	// OK does not match snap != nil, and a snapshot with a quote of
	// another provider or with a non-finite price.
	Record(ctx context.Context, poll Poll, snap *price.Snapshot) (Result, error)

	// Backfill writes historical points with their original timestamps
	// (each quote's EffectiveAt, or ObservedAt when that is zero). Points
	// may arrive in any order and may repeat: a point whose series already
	// has a point at that timestamp is skipped. Series are created as
	// needed. A backfilled point newer than a series' last point becomes
	// its last point.
	Backfill(ctx context.Context, quotes []price.Quote) (Result, error)

	// LastKnown returns, per provider, the live series (last point not a
	// withdrawal) as a snapshot whose Time is the end of the provider's
	// last successful refresh (zero if none is logged); a provider with
	// neither live series nor a successful refresh is left out. It is
	// what /metrics serves right after a restart.
	LastKnown(ctx context.Context) ([]*price.Snapshot, error)

	// LastPoints returns the time of the newest point (withdrawals
	// included) of each series of provider: where an incremental
	// backfill resumes.
	LastPoints(ctx context.Context, provider string) (map[price.SeriesKey]time.Time, error)

	// History returns the series matching q with their points in
	// [q.Start, q.End] (a zero bound is open), oldest first, each series
	// starting with the point in effect at q.Start (if any, with its
	// original timestamp). Series without any such point are left out.
	History(ctx context.Context, q Query) ([]Series, error)

	// HistoryEach calls fn with the series History(ctx, q) would return,
	// in the same order and with the same points, one series at a time,
	// so that reading much history does not hold it all in memory. fn
	// owns the series it is given. HistoryEach stops at the first error
	// fn returns and returns that error unwrapped. fn must not call the
	// store's write methods (an implementation may hold a read
	// transaction open while it runs).
	HistoryEach(ctx context.Context, q Query, fn func(Series) error) error

	// Polls returns the poll log of provider (all providers if empty) in
	// [start, end] (a zero bound is open), oldest start first.
	Polls(ctx context.Context, provider string, start, end time.Time) ([]Poll, error)

	// DeleteBefore removes points and poll records older than t, keeping
	// for each series the last point before t so that the price in
	// effect at t is still known, and for each provider its last
	// successful poll so that LastKnown keeps its time. It returns the
	// number of points removed.
	DeleteBefore(ctx context.Context, t time.Time) (int64, error)

	// Close flushes and closes the store. No method may be called after.
	Close() error
}

// Reader is the read side of the history that queries and exports need:
// Store implements it, and so does a read-only view of a store that another
// process is writing (sqlite.OpenReader, postgres.OpenReader).
type Reader interface {
	History(ctx context.Context, q Query) ([]Series, error)
	HistoryEach(ctx context.Context, q Query, fn func(Series) error) error
	Polls(ctx context.Context, provider string, start, end time.Time) ([]Poll, error)
}

// Scanner is a Reader that can lend history: HistoryScan calls fn as
// HistoryEach does, but the Points of the series it is given belong to the
// store and are valid only until fn returns, which spares an allocation
// of every point read. Queries that only read the points use it.
type Scanner interface {
	HistoryScan(ctx context.Context, q Query, fn func(Series) error) error
}

// PollTimer is a Reader that reads its poll log as times alone, for the
// queries that need no more of it (when a price is known): PollTimes calls
// fn with each refresh of [start, end] (a zero bound is open), in no
// particular order, its start and end in unix milliseconds.
type PollTimer interface {
	PollTimes(ctx context.Context, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error
}

// PollTimes reads src's poll log of [start, end] as times: through its
// PollTimes when src is a PollTimer, from its Polls otherwise.
func PollTimes(ctx context.Context, src interface {
	Polls(ctx context.Context, provider string, start, end time.Time) ([]Poll, error)
}, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	if pt, ok := src.(PollTimer); ok {
		return pt.PollTimes(ctx, start, end, fn)
	}
	polls, err := src.Polls(ctx, "", start, end)
	for _, p := range polls {
		fn(p.Provider, p.Start.UnixMilli(), p.End().UnixMilli(), p.OK)
	}
	return err
}

// Poll is one refresh of one provider, successful or not.
type Poll struct {
	Provider string        `json:"provider"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"duration"`
	OK       bool          `json:"ok"`
	Quotes   int           `json:"quotes"`
	Error    string        `json:"error,omitempty"`
}

// End is when the refresh finished.
func (p Poll) End() time.Time { return p.Start.Add(p.Duration) }

// Result counts what a write did.
type Result struct {
	NewSeries   int // series created
	Points      int // price points written
	Withdrawals int // withdrawal points written
	Skipped     int // backfill points already present
}

// Query selects series by label equality; empty fields match anything.
// Its label fields are the Quote fields of price.SeriesLabels.
type Query struct {
	Provider     string
	InstanceType string
	Region       string
	Zone         string
	Geo          string
	PricingModel price.PricingModel
	GPUModel     string
	GPUForm      string
	GPUMemoryGB  float64 // 0: any
	GPUCount     float64 // 0: any
	Start, End   time.Time
}

// Labels returns q's label filters as a quote's labels (an empty or zero
// label matches anything), so that they can be read with
// price.SeriesLabels.
func (q *Query) Labels() price.Quote {
	return price.Quote{Provider: q.Provider, InstanceType: q.InstanceType, Region: q.Region, Zone: q.Zone, Geo: q.Geo,
		PricingModel: q.PricingModel, GPUModel: q.GPUModel, GPUForm: q.GPUForm, GPUMemoryGB: q.GPUMemoryGB, GPUCount: q.GPUCount}
}

// SetLabels sets q's label filters to l's series labels.
func (q *Query) SetLabels(l *price.Quote) {
	q.Provider, q.InstanceType, q.Region, q.Zone, q.Geo = l.Provider, l.InstanceType, l.Region, l.Zone, l.Geo
	q.PricingModel, q.GPUModel, q.GPUForm, q.GPUMemoryGB, q.GPUCount = l.PricingModel, l.GPUModel, l.GPUForm, l.GPUMemoryGB, l.GPUCount
}

// Series is one price series and its points. Labels holds the series'
// labels (price fields zero).
type Series struct {
	Labels price.Quote `json:"labels"`
	Points []Point     `json:"points"`
}

// Point is one change of a series' price. Withdrawn points mark that the
// series disappeared from a successful refresh; USDPerHour is 0 for them.
// CurrencyPerHour is the price in the series' Labels.Currency, where the
// provider quotes another currency than USD; else 0.
type Point struct {
	Time            time.Time `json:"time"`
	USDPerHour      float64   `json:"usd_per_hour"`
	CurrencyPerHour float64   `json:"currency_per_hour,omitempty"`
	Withdrawn       bool      `json:"withdrawn,omitempty"`
}
