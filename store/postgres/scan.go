package postgres

import (
	"context"
	"time"

	"github.com/gpuprice/gpuprice/store"
)

var _ store.Scanner = (*Store)(nil)

// HistoryScan implements store.Scanner: HistoryEach with the packed points
// of each chunk of series in a buffer that a later chunk reuses.
func (r *reader) HistoryScan(ctx context.Context, q store.Query, fn func(store.Series) error) error {
	return r.historyEach(ctx, q, true, fn)
}

var _ store.PollTimer = (*Store)(nil)

// PollTimes implements store.PollTimer from Polls, whose rows cost pgx
// little.
func (r *reader) PollTimes(ctx context.Context, start, end time.Time, fn func(provider string, start, end int64, ok bool)) error {
	polls, err := r.Polls(ctx, "", start, end)
	for _, p := range polls {
		fn(p.Provider, p.Start.UnixMilli(), p.End().UnixMilli(), p.OK)
	}
	return err
}
